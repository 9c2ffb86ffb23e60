# tagmap server image. CPU by default; for NVIDIA GPUs build with
#   docker build --build-arg ORT_INSTALL=cuda12 --build-arg BASE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 .
# and run with TAGMAP_DEVICE=cuda (start-up fails if CUDA cannot be used) or auto.
ARG BASE=node:20-bookworm-slim
FROM ${BASE}
ARG ORT_INSTALL=skip
WORKDIR /app
# On a CUDA base image, Node.js 20 must be installed first (nodesource or distro packages).
RUN command -v node >/dev/null || (apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*)
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL} npm ci --omit=dev --no-audit --no-fund \
 && if [ "${ORT_INSTALL}" != skip ]; then npm rebuild onnxruntime-node --foreground-scripts; fi
COPY model ./model
COPY server ./server
COPY web ./web
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
USER node
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "server/main.ts"]
