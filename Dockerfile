# tagmap server images (docs/deployment.md):
#   docker build --target cpu -t tagmap:cpu .    a slim Node 20 base, onnxruntime's CPU provider
#   docker build --target gpu -t tagmap:gpu .    a CUDA 12 + cuDNN base, onnxruntime's CUDA provider
# Both run the bundles that the build stage compiles (node dist/server.mjs, no TypeScript loader) as a
# non-root user under tini, with production dependencies only and the bundled zoo.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# esbuild bundles the server, the batch CLI and the inference worker into dist/ (npm run build)
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY server ./server
COPY model ./model
COPY scripts ./scripts
RUN npm run build

FROM ${NODE_IMAGE} AS cpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libtcmalloc-minimal4 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tagmap \
 && useradd --system --uid 10001 --gid tagmap --no-create-home tagmap
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY web ./web
COPY model/zoo ./model/zoo
# tcmalloc keeps the server's RSS flat under load where glibc's malloc steps up (docs/reliability.md, "Memory
# allocator"); found by its soname on any architecture. `docker run -e LD_PRELOAD= ...` keeps glibc's.
ENV NODE_ENV=production PORT=8080 LD_PRELOAD=libtcmalloc_minimal.so.4
EXPOSE 8080
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.mjs"]

FROM ${CUDA_IMAGE} AS gpu
# Ubuntu's own nodejs is too old: Node 20 from NodeSource's signed apt repository
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg tini \
 && mkdir -p /etc/apt/keyrings \
 && curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg \
 && echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" \
    > /etc/apt/sources.list.d/nodesource.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends nodejs \
 && apt-get purge -y curl gnupg && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tagmap \
 && useradd --system --uid 10001 --gid tagmap --no-create-home tagmap
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# cuda12 makes onnxruntime-node's install script fetch its CUDA execution provider; the rebuild runs that
# script even where npm was told not to run install scripts
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev --no-audit --no-fund \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --foreground-scripts \
 && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY web ./web
COPY model/zoo ./model/zoo
# start-up fails, naming the reason, when CUDA cannot be used: a GPU image never serves from the CPU unnoticed
ENV NODE_ENV=production PORT=8080 TAGMAP_DEVICE=cuda
EXPOSE 8080
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.mjs"]
