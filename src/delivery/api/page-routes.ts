// The built-in page: GET / (the shell) and its static module and stylesheet under /page/.
// Public by design (it holds no data; it calls the API with the user's token). Files are
// read once at start-up from an allow-list; a strict CSP forbids inline script and any
// origin but this one, so even an escaping bug could not load or send elsewhere.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../../config/config.js';
import type { ApiDeps } from './deps.js';

export const PAGE_DIR = join(PACKAGE_ROOT, 'src', 'delivery', 'page');

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/page/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/page/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', PAGE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cache-control', 'no-store');
}

export async function pageRoutes(app: FastifyInstance, _opts: { deps: ApiDeps }): Promise<void> {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(join(PAGE_DIR, file));
    app.get(path, { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      securityHeaders(reply);
      return reply.type(type).send(body);
    });
  }
}
