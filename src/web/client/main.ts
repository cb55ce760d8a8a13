/** The web view's browser entry: picks the page from the address and renders it. */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { WhoAmIJson } from '../api-types.js';
import { getJson } from './api.js';
import { h, replace } from './dom.js';
import { errorBox, layout } from './layout.js';
import { integrityPage } from './pages/integrity-page.js';
import { loginPage } from './pages/login-page.js';
import { sessionPage } from './pages/session-page.js';
import { sessionsPage } from './pages/sessions-page.js';
import { variablePage } from './pages/variable-page.js';

async function route(app: HTMLElement): Promise<void> {
  const me = await getJson<WhoAmIJson>('/api/whoami');
  const path = location.pathname.split('/').map(decodeURIComponent);
  if (location.pathname === '/login') return loginPage(app, me);
  if (me.authRequired && !me.principal) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  if (location.pathname === '/') return sessionsPage(app, me);
  if (location.pathname === '/integrity') return integrityPage(app, me);
  if (path[1] === 'sessions' && path[2] && path.length === 3) return sessionPage(app, me, path[2]);
  if (path[1] === 'sessions' && path[2] && path[3] === 'variables' && path[4] && path.length === 5) return variablePage(app, me, path[2], path[4]);
  replace(app, layout(me, 'sessions', h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '/' }, 'Back to the sessions'))));
}

const app = document.getElementById('app') as HTMLElement;
route(app).catch((error: unknown) => replace(app, layout(undefined, 'sessions', errorBox(error))));
