/**
 * The web view as a Hono app: security headers, the principal middleware,
 * the login form's endpoints, the JSON API, the built browser assets, and
 * the one HTML page every view starts from (the browser code renders it).
 */
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import type { WebAccess } from './access.js';
import { apiRoutes, type ApiDeps } from './api-routes.js';
import { resolvePrincipal, TOKEN_COOKIE, type WebEnv } from './auth-middleware.js';
import { errorResponse, httpError } from './http-errors.js';

/** Built by `npm run build` (scripts/build-web.mjs) next to this file. */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>varledger</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<noscript>The varledger web view needs JavaScript. The same data is in the <code>varledger</code> CLI.</noscript>
<div id="app"></div>
</body>
</html>
`;

const TOKEN_MAX_LENGTH = 4096;
const COOKIE_MAX_AGE_S = 12 * 3600;

export interface WebAppOptions extends ApiDeps {
  readonly access: WebAccess;
  readonly logger: Logger;
}

/** A local path to go back to after signing in; anything else goes home. */
const localPath = (raw: unknown): string => (typeof raw === 'string' && /^\/(?![/\\])/.test(raw) ? raw : '/');

export function webApp(options: WebAppOptions): Hono<WebEnv> {
  const { access, logger } = options;
  const app = new Hono<WebEnv>();
  app.onError((error, c) => errorResponse(error, c, logger));
  app.use(
    '*',
    secureHeaders({
      // Plain HTTP on the server's own host; TLS, where used, terminates elsewhere.
      strictTransportSecurity: false,
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        // uPlot positions its legend and cursor with inline styles.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    }),
  );
  // Forms and fetches that change something must come from these pages.
  app.use('*', csrf());
  app.use('*', resolvePrincipal(access));
  // Nothing this app accepts is large: a token, a reason.
  app.use('*', bodyLimit({ maxSize: 64 * 1024, onError: () => { throw httpError(413, 'Request body too large'); } }));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const next = localPath(form.next);
    if (!access.required) return c.redirect(next, 303);
    if (token === '' || token.length > TOKEN_MAX_LENGTH || !access.authenticate(token)) {
      return c.redirect(`/login?failed=1&next=${encodeURIComponent(next)}`, 303);
    }
    setCookie(c, TOKEN_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: COOKIE_MAX_AGE_S,
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return c.redirect(next, 303);
  });
  app.post('/logout', (c) => {
    deleteCookie(c, TOKEN_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  app.route('/api', apiRoutes(options));
  app.use('/assets/*', serveStatic({ root: ASSETS_DIR, rewriteRequestPath: (path) => path.slice('/assets'.length) }));
  app.get('/assets/*', (c) => c.text('Not found', 404));

  for (const path of ['/', '/login', '/integrity', '/sessions/:session', '/sessions/:session/variables/:variable']) {
    app.get(path, (c) => c.html(PAGE));
  }
  app.notFound((c) => c.html(PAGE, 404));
  return app;
}
