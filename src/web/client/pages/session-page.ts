/**
 * `/sessions/:id`: the session's variables with value, type and version, as
 * of any revision (slider or number; `?at=` in the address), updating live
 * while it shows the present.
 */
import type { ChangesEventJson, SessionDetailJson, SessionJson, VariableJson, VariablesAtJson, WhoAmIJson } from '../../api-types.js';
import { getJson, sessionPath } from '../api.js';
import { flash, h, replace } from '../dom.js';
import { absoluteTime, kindText, metadataText, relativeTime, valueText } from '../format.js';
import { errorBox, layout } from '../layout.js';
import { openLive } from '../live.js';

function stateBadge(status: SessionJson['status']): HTMLElement {
  return h('span', { class: `badge state-${status}`, 'data-field': 'state' }, status);
}

function variableRow(sessionId: string, v: VariableJson): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-variable': v.name },
    h('td', { 'data-label': 'Name' }, h('a', { href: `/sessions/${encodeURIComponent(sessionId)}/variables/${encodeURIComponent(v.name)}` }, v.name)),
    h('td', { 'data-label': 'Type' }, h('span', { class: `type type-${v.type}` }, v.type)),
    h('td', { 'data-label': 'Value', 'data-field': 'value', class: 'value' }, valueText(v.value)),
    h('td', { 'data-label': 'Version', 'data-field': 'version', class: 'num' }, v.version),
    h('td', { 'data-label': 'Changed' }, h('time', { datetime: new Date(v.updatedAt).toISOString(), title: absoluteTime(v.updatedAt) }, relativeTime(v.updatedAt)), h('span', { class: 'muted' }, ` · rev ${v.modifiedRevision}`)),
    h('td', { 'data-label': 'By' }, v.modifiedBy),
  );
}

export async function sessionPage(app: HTMLElement, me: WhoAmIJson, sessionId: string): Promise<void> {
  const detail = await getJson<SessionDetailJson>(sessionPath(sessionId));
  let session = detail.session;
  const params = new URLSearchParams(location.search);
  const requested = Number(params.get('at') ?? '0');
  let pinned: number | undefined = requested > 0 ? requested : undefined;
  let newest = Math.max(session.modifiedRevision, session.createdRevision);
  /** The revision the live table shows; older live messages are already in it. */
  let shown = 0;
  let stopLive: (() => void) | undefined;
  const variables = new Map<string, VariableJson>();

  const body = h('tbody');
  const table = h('table', { class: 'data variables' }, h('thead', {}, h('tr', {}, ...['Name', 'Type', 'Value', 'Version', 'Changed', 'By'].map((t) => h('th', { scope: 'col' }, t)))), body);
  const slider = h('input', { type: 'range', id: 'revision-slider', min: session.createdRevision, max: newest, value: pinned ?? newest, 'aria-label': 'Revision (slider)' });
  const number = h('input', { type: 'number', id: 'revision', name: 'revision', min: session.createdRevision, max: newest, value: pinned ?? newest, inputmode: 'numeric' });
  const liveButton = h('button', { type: 'button', class: 'live-button', 'aria-pressed': String(pinned === undefined) }, 'Now (live)');
  const asOf = h('p', { class: 'as-of', 'aria-live': 'polite', 'data-field': 'as-of' });
  const header = h('div', { class: 'session-facts' });

  const renderHeader = () => {
    const last = session.lastChange;
    replace(
      header,
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'State'), h('dd', {}, stateBadge(session.status))),
        h('div', {}, h('dt', {}, 'Variables'), h('dd', { 'data-field': 'count' }, session.variableCount)),
        h('div', {}, h('dt', {}, 'Created'), h('dd', {}, absoluteTime(session.createdAt), h('span', { class: 'muted' }, ` · rev ${session.createdRevision}`))),
        h('div', {}, h('dt', {}, 'Idle TTL'), h('dd', {}, `${session.ttlSeconds.toLocaleString()} s`)),
        last ? h('div', {}, h('dt', {}, 'Last change'), h('dd', {}, `${relativeTime(last.time)} · ${kindText(last.kind)} by ${last.actor} · rev ${last.revision}`)) : null,
        Object.keys(session.metadata).length ? h('div', {}, h('dt', {}, 'Metadata'), h('dd', { class: 'mono' }, metadataText(session.metadata))) : null,
      ),
    );
  };

  const renderRows = () => {
    const sorted = [...variables.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    replace(body, ...sorted.map((v) => variableRow(sessionId, v)));
    if (sorted.length === 0) replace(body, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No variables at this revision.')));
  };

  let asOfTime: number | null = null;
  const renderAsOf = (revision: number, time: number | null) => {
    asOfTime = time;
    replace(
      asOf,
      pinned === undefined
        ? [h('span', { class: 'badge live-badge' }, 'live'), ` Now · last change at revision ${session.modifiedRevision}, ${absoluteTime(session.modifiedAt)}`]
        : [
            h('span', { class: 'badge past-badge' }, 'past'),
            ` As of revision ${revision}`,
            time !== null ? ` · ${absoluteTime(time)}` : '',
            newest > revision ? h('span', { class: 'muted' }, ` · the session has changes up to revision ${newest}`) : null,
          ],
    );
  };

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    try {
      const at = await getJson<VariablesAtJson>(`${sessionPath(sessionId)}/variables`, { at: pinned });
      if (mine !== seq) return;
      variables.clear();
      for (const v of at.variables) variables.set(v.id, v);
      renderRows();
      renderAsOf(at.revision, at.revisionTime);
      // Live: follow from exactly the revision loaded, so nothing is missed or applied twice.
      if (pinned === undefined) {
        shown = at.revision;
        connect(at.revision);
      }
    } catch (error) {
      replace(body, h('tr', {}, h('td', { colspan: 6 }, errorBox(error))));
    }
  };
  const connect = (after: number) => {
    stopLive?.();
    stopLive = openLive(`${sessionPath(sessionId)}/events?after=${after}`, { changes: onChanges });
  };

  const setRange = () => {
    for (const input of [slider, number]) input.max = String(newest);
    if (pinned === undefined) {
      slider.value = String(newest);
      number.value = String(newest);
    }
  };

  const pick = (raw: string) => {
    const revision = Math.round(Number(raw));
    if (!Number.isFinite(revision) || revision < session.createdRevision) return;
    pinned = revision >= newest ? undefined : revision;
    slider.value = String(pinned ?? newest);
    number.value = String(pinned ?? newest);
    liveButton.setAttribute('aria-pressed', String(pinned === undefined));
    history.replaceState(null, '', pinned === undefined ? location.pathname : `${location.pathname}?at=${pinned}`);
    void load();
  };
  let sliding: number | undefined;
  slider.addEventListener('input', () => {
    number.value = slider.value;
    clearTimeout(sliding);
    sliding = window.setTimeout(() => pick(slider.value), 120);
  });
  number.addEventListener('change', () => pick(number.value));
  liveButton.addEventListener('click', () => pick(String(newest)));

  const onChanges = (message: ChangesEventJson) => {
    newest = Math.max(newest, message.revision);
    setRange();
    if (pinned !== undefined) {
      renderAsOf(pinned, asOfTime);
      return;
    }
    if (message.revision <= shown) return;
    shown = message.revision;
    for (const change of message.changes) {
      if (change.kind === 'session_closed' || change.kind === 'session_expired') {
        session = { ...session, status: change.kind === 'session_closed' ? 'closed' : 'expired' };
      } else if (change.variable) {
        if (change.kind === 'deleted') variables.delete(change.variable.id);
        else variables.set(change.variable.id, change.variable);
      }
      session = { ...session, variableCount: variables.size, modifiedRevision: change.revision, modifiedAt: change.time, lastChange: { revision: change.revision, time: change.time, actor: change.actor, kind: change.kind === 'session_closed' || change.kind === 'session_expired' ? change.kind : `variable_${change.kind}` } };
    }
    renderRows();
    renderHeader();
    renderAsOf(message.revision, message.changes.at(-1)?.time ?? null);
    for (const change of message.changes) {
      const name = change.variable?.name;
      const cell = name ? body.querySelector(`tr[data-variable="${CSS.escape(name)}"] td[data-field="value"]`) : null;
      if (cell) flash(cell);
    }
  };

  renderHeader();
  replace(
    app,
    layout(
      me,
      'sessions',
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Sessions'), ' / '),
      h('div', { class: 'page-head' }, h('h1', { class: 'mono' }, sessionId)),
      header,
      h('section', { class: 'time-travel', 'aria-label': 'Time travel' },
        h('label', { for: 'revision-slider', class: 'slider-label' }, 'Revision'),
        slider,
        h('div', { class: 'time-controls' }, h('label', {}, 'Go to revision ', number), liveButton),
      ),
      asOf,
      h('div', { class: 'table-wrap' }, table),
    ),
  );
  // A past view still follows the session, to keep the slider's range current.
  if (pinned !== undefined) connect(detail.head);
  await load();
}
