// The dev issuer's public face (auth.mode: dev only): its JWKS and a discovery document, so
// other tools can verify the tokens `authwatch token` mints.
import type { FastifyInstance } from 'fastify';
import type { ApiAuth } from './api-auth.js';
import { DEV_ISSUER_PATH, discoveryDocument } from './dev-issuer.js';

export async function devIssuerRoutes(app: FastifyInstance, opts: { auth: ApiAuth }): Promise<void> {
  const keys = opts.auth.devIssuer;
  if (!keys) return;
  app.get(
    `${DEV_ISSUER_PATH}/jwks.json`,
    { config: { access: 'public' }, schema: { tags: ['dev issuer'], summary: 'Public keys of the embedded dev issuer' } },
    async (_req, reply) => {
      reply.header('content-type', 'application/jwk-set+json').header('cache-control', 'public, max-age=300');
      return JSON.stringify(keys.jwks);
    },
  );
  app.get(
    `${DEV_ISSUER_PATH}/.well-known/openid-configuration`,
    { config: { access: 'public' }, schema: { tags: ['dev issuer'], summary: 'Discovery document of the embedded dev issuer' } },
    async () => discoveryDocument(opts.auth.issuer()),
  );
}
