// The portal's stylesheet and fonts, read once at start: the stylesheet under a name with its hash
// (cached for a year; a new one is a new name), the fonts for a week.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

function asset(file: string, type: string) {
  const body = readFileSync(file);
  return { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}
const ASSETS = {
  css: asset(new URL('./portal.css', import.meta.url).pathname, 'text/css; charset=utf-8'),
  regular: asset(require.resolve('vazirmatn/fonts/webfonts/Vazirmatn-Regular.woff2'), 'font/woff2'),
  bold: asset(require.resolve('vazirmatn/fonts/webfonts/Vazirmatn-Bold.woff2'), 'font/woff2'),
};
export const CSS_PATH = `/portal/assets/portal-${ASSETS.css.hash}.css`;

/** The asset routes, on the portal's instance (prefix /portal), hidden from the OpenAPI document. */
export function assetRoutes(app: FastifyInstance) {
  const hide = { schema: { hide: true } };
  const immutable = 'public, max-age=31536000, immutable';
  app.get(`/assets/portal-${ASSETS.css.hash}.css`, hide, (_request, reply) =>
    reply.type(ASSETS.css.type).header('cache-control', immutable).send(ASSETS.css.body),
  );
  for (const [name, font] of [
    ['vazirmatn-regular.woff2', ASSETS.regular],
    ['vazirmatn-bold.woff2', ASSETS.bold],
  ] as const)
    app.get(`/assets/${name}`, hide, (_request, reply) =>
      reply.type(font.type).header('cache-control', 'public, max-age=604800').send(font.body),
    );
}
