/** `/`: every session with its state, size and last change; a glob filter; live. */
import type { SessionJson, SessionsPageJson, WhoAmIJson } from '../../api-types.js';
import { getJson } from '../api.js';
import { h, replace } from '../dom.js';
import { absoluteTime, kindText, relativeTime } from '../format.js';
import { errorBox, layout } from '../layout.js';
import { openLive } from '../live.js';

function stateBadge(status: SessionJson['status']): HTMLElement {
  return h('span', { class: `badge state-${status}` }, status);
}

function row(s: SessionJson): HTMLElement {
  const last = s.lastChange;
  return h(
    'tr',
    { 'data-session': s.id },
    h('td', { 'data-label': 'Session' }, h('a', { href: `/sessions/${encodeURIComponent(s.id)}` }, s.id)),
    h('td', { 'data-label': 'State' }, stateBadge(s.status)),
    h('td', { 'data-label': 'Variables', class: 'num' }, s.variableCount),
    h('td', { 'data-label': 'Last change' }, last ? h('time', { datetime: new Date(last.time).toISOString(), title: absoluteTime(last.time) }, relativeTime(last.time)) : '—', last ? h('span', { class: 'muted' }, ` · ${kindText(last.kind)} · rev ${last.revision}`) : null),
    h('td', { 'data-label': 'By' }, last?.actor ?? '—'),
  );
}

export async function sessionsPage(app: HTMLElement, me: WhoAmIJson): Promise<void> {
  const params = new URLSearchParams(location.search);
  let pattern = params.get('pattern') ?? '';
  let pageToken = params.get('page_token') ?? '';
  const filter = h('input', { type: 'search', name: 'pattern', value: pattern, placeholder: 'exp-*', 'aria-label': 'Filter sessions by glob', autocomplete: 'off', spellcheck: 'false' });
  const body = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const table = h('table', { class: 'data sessions' }, h('thead', {}, h('tr', {}, ...['Session', 'State', 'Variables', 'Last change', 'By'].map((t) => h('th', { scope: 'col' }, t)))), body);

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    try {
      const page = await getJson<SessionsPageJson>('/api/sessions', { pattern, page_token: pageToken });
      if (mine !== seq) return;
      replace(body, ...page.sessions.map(row));
      if (page.sessions.length === 0) replace(body, h('tr', {}, h('td', { colspan: 5, class: 'empty' }, pattern ? `No session matches ${pattern}.` : 'No sessions yet.')));
      status.textContent = `${page.sessions.length} session${page.sessions.length === 1 ? '' : 's'} shown · log head revision ${page.head}`;
      replace(
        pager,
        pageToken ? h('button', { type: 'button', onclick: () => go('') }, '← First page') : null,
        page.nextPageToken ? h('button', { type: 'button', onclick: () => go(page.nextPageToken) }, 'Next page →') : null,
      );
    } catch (error) {
      replace(body, h('tr', {}, h('td', { colspan: 5 }, errorBox(error))));
    }
  };
  const syncUrl = () => {
    const q = new URLSearchParams();
    if (pattern) q.set('pattern', pattern);
    if (pageToken) q.set('page_token', pageToken);
    history.replaceState(null, '', q.toString() ? `/?${q}` : '/');
  };
  const go = (token: string) => {
    pageToken = token;
    syncUrl();
    void load();
  };
  let typing: number | undefined;
  filter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => {
      pattern = filter.value.trim();
      go('');
    }, 200);
  });

  replace(
    app,
    layout(
      me,
      'sessions',
      h('div', { class: 'page-head' }, h('h1', {}, 'Sessions'), h('form', { class: 'filter', role: 'search', onsubmit: (e) => e.preventDefault() }, h('label', {}, 'Filter ', filter))),
      h('p', { class: 'hint' }, 'Glob over session ids: ', h('code', {}, '*'), ' any run of characters, ', h('code', {}, '?'), ' one.'),
      h('div', { class: 'table-wrap' }, table),
      pager,
      status,
    ),
  );
  await load();
  // The server sends at most a few `head` events a second: reload the page shown.
  openLive('/api/events', { head: () => void load() });
}
