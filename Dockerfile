# syntax=docker/dockerfile:1
# BOT GPT image: Next.js standalone output (BUILD_STANDALONE=1, see next.config.ts) on Debian slim,
# run as a non-root user. Build: `docker build -t bot-gpt .`; run: see docker-compose.yml / README.
# CI builds this file (the `docker` job) and runs the same `npm run build` in the `build` job.

# An exact Node release (the one development and CI run), not a moving tag, so a rebuild cannot
# change the runtime under the app; bump it deliberately. To pin the bytes too, append the
# digest `docker buildx imagetools inspect node:20.20.2-bookworm-slim` prints (@sha256:…).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# 1. Dependencies, from the lock file. The lock lists only the Linux builds of platform packages
#    (see .ci/run); if `npm ci` refuses it as out of sync, `npm install` installs the locked versions.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund || npm install --no-audit --no-fund

# 2. The production build. public/ may hold only .gitkeep; mkdir keeps the COPY below valid.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 \
    BUILD_STANDALONE=1
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN mkdir -p public && npm run build

# 3. The runtime: server.js with the node_modules it traced (PGlite's wasm, pgvector, pdf-parse,
#    the ingestion worker, gpt-tokenizer and drizzle/ are listed in outputFileTracingIncludes).
FROM ${NODE_IMAGE} AS runner
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    PORT=3000 \
    HOSTNAME=0.0.0.0 \
    DATA_DIR=/data \
    NEXT_MANUAL_SIG_HANDLE=1
# NEXT_MANUAL_SIG_HANDLE: SIGTERM/SIGINT go to lib/shutdown.ts (drain replies, hand off, close
# pools, exit 0) instead of Next's own handler. Give `docker stop` more than SHUTDOWN_GRACE_MS
# (25 s by default): docker-compose.yml sets stop_grace_period: 35s; plain docker needs `docker stop -t 30`.
# /data is 0700: the embedded database (password hashes, the generated session secret) is the
# app user's alone; a new named volume copies this mode (lib/db/data-dir.ts keeps its files 0600).
RUN groupadd --system --gid 1001 app \
 && useradd --system --uid 1001 --gid app --no-create-home app \
 && mkdir -p /data && chown app:app /data && chmod 700 /data
COPY --from=build --chown=app:app /app/.next/standalone ./
COPY --from=build --chown=app:app /app/.next/static ./.next/static
COPY --from=build --chown=app:app /app/public ./public
# Migrations are applied at start-up from ./drizzle (lib/db/client.ts, relative to the working directory).
COPY --from=build --chown=app:app /app/drizzle ./drizzle
USER app
EXPOSE 3000
# PGlite's data when DATABASE_URL is unset (with Postgres nothing is written here).
VOLUME ["/data"]
# Liveness only: /api/ready (database, Redis, draining) is for load balancers and compose.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "server.js"]
