# authwatch: API + HTTP ingest + Kafka worker (when AUTHWATCH_KAFKA_BROKERS is set).
# Runs the TypeScript sources through tsx (bin/authwatch.js), like `npx authwatch` in a checkout.
FROM node:20-slim AS deps
WORKDIR /app
# better-sqlite3 falls back to a source build when no prebuilt binary matches
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    AUTHWATCH_HOST=0.0.0.0 \
    AUTHWATCH_PORT=8080 \
    AUTHWATCH_DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY rules ./rules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/authwatch.js", "serve"]
