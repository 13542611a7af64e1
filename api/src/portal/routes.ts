// The beneficiary portal under /portal: server-rendered Persian pages that work without
// JavaScript. Cookie session (HttpOnly, SameSite=Lax, Secure over TLS) started by the API's own
// sign-in (rate limit, lock-out); every form carries a CSRF token (csrf.ts). Hidden from the
// OpenAPI document: these are pages, not API. One module each: the assets, the session as pages
// read it, sending a page, the error pages, signing in and out, and the signed-in pages.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { PortalConfig } from '../config';
import type { SignInSettings } from '../sign-in-service';
import { assetRoutes } from './assets';
import { installErrorPages } from './error-pages';
import { pageRoutes } from './page-routes';
import { chromeOf } from './respond';
import { PortalSessions } from './session';
import { signInRoutes } from './sign-in-routes';
import { warmPages } from './warm-up';

export interface PortalOptions extends SignInSettings {
  portal: PortalConfig;
  signInRateLimit: number;
}

const routes: FastifyPluginAsync<PortalOptions> = async (app, options) => {
  await app.register(formbody, { bodyLimit: 4096 });
  const sessions = new PortalSessions(app.sql);
  const chrome = chromeOf(sessions);
  const { helpPhone } = options.portal;
  installErrorPages(app, { chrome, helpPhone, rememberDays: options.lifetimes.rememberDays });
  assetRoutes(app);
  signInRoutes(app, { ...options, helpPhone, chrome, sessions });
  pageRoutes(app, { ...options, chrome, sessions });
  app.lifecycle.warmers.push(warmPages);
};

export default routes;
