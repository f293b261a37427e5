# A small production image on the official Bun image. Migrations run at boot (under an advisory
# lock, so several replicas may start at once), then the service.
FROM oven/bun:1.4.4-slim AS deps
WORKDIR /app
# patches/ holds the postgres.js fix RELIABILITY.md relies on: bun applies it during install, and
# --frozen-lockfile fails without it (tests/foundation/image.test.ts installs exactly these files).
COPY package.json bun.lock ./
COPY patches ./patches
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:1.4.4-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8787
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY schema ./schema
COPY drizzle ./drizzle
# The official image ships an unprivileged `bun` user.
USER bun
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:' + (process.env.PORT ?? 8787) + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["bun", "run", "src/composition/main.ts"]
