# filestore's runtime images, two targets of one file:
#   docker build -t filestore .                              every worker, and the all-in-one store (default)
#   docker build --target gateway -t filestore-gateway .     the edge gateway under Deno
# Each carries the production dependencies only (package.json "dependencies", at the versions of
# package-lock.json): the toolchain (bun and deno from npm, biome, buf, playwright, typescript) stays out;
# the runtime is the base image's. Both run as an unprivileged user and check their own health.
# The base images are pinned to the versions package.json names for bun and deno: raise them together.

# --- production dependencies -----------------------------------------------------------------------
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# bun reads package-lock.json itself; --frozen-lockfile: exactly the locked versions or a failed build.
# No install scripts: sharp's native part is a prebuilt optional package.
RUN bun install --production --frozen-lockfile --ignore-scripts

# --- the gateway under Deno ------------------------------------------------------------------------
FROM denoland/deno:debian-2.9.6 AS gateway
RUN groupadd --system --gid 10001 filestore \
  && useradd --system --uid 10001 --gid filestore --home-dir /app --shell /usr/sbin/nologin filestore
WORKDIR /app
ENV DENO_DIR=/app/.deno \
    DENO_NO_UPDATE_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# The gateway reads only core/, proto/gen and its own folder (core/imports.test.ts keeps it so).
COPY core ./core
COPY proto/gen ./proto/gen
COPY gateway ./gateway
# Compiled once here, owned by root: the gateway only reads it (a read-only root filesystem is fine).
RUN deno cache gateway/deno-main.ts
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8080}/healthz`).catch(() => null); Deno.exit(r?.ok ? 0 : 1)"]
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "gateway/deno-main.ts"]

# --- the workers and the all-in-one store under Bun (the default target) ---------------------------
FROM oven/bun:1.4.5-slim AS workers
RUN groupadd --system --gid 10001 filestore \
  && useradd --system --uid 10001 --gid filestore --home-dir /app --shell /usr/sbin/nologin filestore
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY core ./core
COPY proto/gen ./proto/gen
COPY gateway ./gateway
COPY workers ./workers
# Local blobs, the all-in-one database and the JWT signing key live on volumes mounted here; owned by
# the unprivileged user so that a fresh named volume inherits that ownership.
RUN mkdir -p /data /keys && chown filestore:filestore /data /keys
USER 10001:10001
ENV HOST=0.0.0.0 \
    DATA_DIR=/data
# The all-in-one store (SQLite + local disk) unless a command names a worker (bun workers/<svc>/main.ts).
# The health check fits both: gRPC health SERVING on PORT (a worker), or /healthz there (all-in-one).
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "workers/healthcheck.ts"]
CMD ["bun", "workers/main.ts"]
