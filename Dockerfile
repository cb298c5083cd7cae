# The xdp-counter image: one image, two commands.
#   docker run IMAGE operator                   the operator (non-root by default)
#   docker run --user 0 --cap-drop ALL --cap-add BPF --cap-add NET_ADMIN --cap-add PERFMON --network host \
#     -v /sys/fs/bpf:/sys/fs/bpf IMAGE agent    an agent (the operator's DaemonSet runs it so: root, not privileged)
# and the standalone CLI: IMAGE attach|detach|status|watch ...
#
# The image ships JavaScript compiled from the TypeScript sources (dist/, docs/adr/0015): the build stage
# type-checks the sources, compiles them with tsc (scripts/build-js.ts) and the XDP program with clang.
#
# BASE_IMAGE is the runtime base, BUILD_IMAGE the build stage's (both Debian bookworm with Node.js 24 and npm
# in /usr/local/bin); override them to build from a local or mirrored base.
ARG BASE_IMAGE=node:24-bookworm-slim
ARG BUILD_IMAGE=${BASE_IMAGE}

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang llvm libbpf-dev linux-libc-dev make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not reinstall them. The type-check needs only TypeScript and the
# type packages: no install scripts (they fetch a Node.js binary the image already has), and no peer
# dependencies (the only ones are the AWS CDK's, which the Helm/kubectl layer package declares and we never load).
COPY package.json package-lock.json ./
RUN npm ci --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error
COPY . .
RUN make -C bpf \
 && node_modules/.bin/tsc -p tsconfig.json \
 && node scripts/build-js.ts
# What the runtime needs: the compiled JavaScript with the BPF object beside it (dist/), and production
# dependencies only, without their type declarations and source maps (nothing reads them at run time; they
# are a third of @kubernetes/client-node). package.json stays: it says the .js files are ES modules.
RUN mkdir /app \
 && cp -r dist package.json package-lock.json /app/ \
 && cd /app \
 && npm ci --omit=dev --omit=peer --no-audit --no-fund --loglevel=error \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
 && rm -rf /root/.npm

FROM ${BASE_IMAGE} AS runtime
# libbpf1: the agent's BPF core calls libbpf.so.1 through koffi. iproute2: the agent lists interfaces with `ip`.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 iproute2 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && (getent group 65532 >/dev/null || groupadd --gid 65532 nonroot) \
 && (getent passwd 65532 >/dev/null || useradd --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin nonroot)
COPY --from=build /app /app
# `xdp-counter` on the PATH: the operator renders the agents' command as ["xdp-counter", "agent"].
RUN ln -s /app/dist/agent/cli/bin.js /usr/local/bin/xdp-counter
ENV NODE_ENV=production
WORKDIR /app
# Non-root by default, for the operator; the agent DaemonSet runs the image as root with three capabilities.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/agent/cli/bin.js"]
CMD ["--help"]
