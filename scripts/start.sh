#!/bin/sh
# `npm start` and the Docker image: runs the command given (the server) under tcmalloc when it is installed
# (Debian and Ubuntu: libtcmalloc-minimal4). Under glibc's malloc the server's RSS steps up under load, each
# thread's arena keeping its high-water mark; tcmalloc held it flat at no loss of throughput
# (docs/reliability.md, "Memory allocator"). An LD_PRELOAD already set, even empty, is left as it is:
# `LD_PRELOAD= npm start` keeps glibc's malloc.
if [ -z "${LD_PRELOAD+set}" ]; then
  for lib in /usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4 /usr/lib64/libtcmalloc_minimal.so.4; do
    if [ -e "$lib" ]; then
      LD_PRELOAD=$lib
      export LD_PRELOAD
      break
    fi
  done
fi
exec "$@"
