# One image for every filestore process; compose.yaml (or a Kubernetes manifest) picks the process with
# its command. `npm ci` is the whole toolchain: bun and deno come from npm as devDependencies, and they are
# the runtimes, so the dev dependencies stay in the image.
FROM node:20-bookworm-slim

# curl: the health checks. ca-certificates: TLS to S3 or a managed database.
RUN apt-get update \
  && apt-get install -y --no-install-recommends curl ca-certificates \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Dependencies first, so a code change does not re-run npm ci.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY . .

# Local blobs and the JWT signing key live on volumes mounted here; owned by the unprivileged user so a
# fresh named volume inherits that ownership.
RUN mkdir -p /data /keys && chown node:node /data /keys
USER node

ENV HOST=0.0.0.0 \
    DATA_DIR=/data \
    DENO_NO_UPDATE_CHECK=1

# The all-in-one file store (SQLite + local disk) unless a command says otherwise.
EXPOSE 8080 9090
CMD ["node_modules/.bin/bun", "workers/main.ts"]
