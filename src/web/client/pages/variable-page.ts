/**
 * `/sessions/:id/variables/:name`: a variable's history (version, value,
 * actor, time, the change's metadata) and its values plotted over time,
 * both updating live; rollback to a version, with confirmation, for those
 * who may write.
 */
import type { ChangesEventJson, HistoryEntryJson, HistoryJson, SessionDetailJson, VariableJson, WhoAmIJson } from '../../api-types.js';
import { getJson, postJson, sessionPath, variablePath } from '../api.js';
import { isPlottable, ValueChart, type ArrayMode } from '../chart.js';
import { flash, h, replace } from '../dom.js';
import { absoluteTime, kindText, metadataText, numberList, relativeTime, valueText } from '../format.js';
import { errorBox, layout } from '../layout.js';
import { openLive } from '../live.js';

const PAGE = 500;
const HISTORY_KIND = { registered: 'variable_registered', set: 'variable_set', rolled_back: 'variable_rolled_back' } as const;
const MAX_DIMS = 16;

function fullValue(v: VariableJson): HTMLElement {
  const value = v.value;
  if (value.kind === 'string' && v.type !== 'choice' && v.type !== 'module') return h('pre', { class: 'value-full', 'data-field': 'current' }, value.value);
  if (value.kind === 'vector' || value.kind === 'tensor') {
    return h('div', { 'data-field': 'current' }, valueText(value), h('div', { class: 'muted mono' }, `first ${value.head.length}: [${numberList(value.head)}]`));
  }
  return h('span', { class: 'value-big', 'data-field': 'current' }, valueText(value));
}

function parseDims(raw: string): number[] | undefined {
  const dims = raw
    .split(/[\s,]+/)
    .filter((p) => p !== '')
    .map(Number);
  if (dims.length === 0 || dims.length > MAX_DIMS || !dims.every((d) => Number.isInteger(d) && d >= 0)) return undefined;
  return dims;
}

export async function variablePage(app: HTMLElement, me: WhoAmIJson, sessionId: string, name: string): Promise<void> {
  const detail = await getJson<SessionDetailJson>(sessionPath(sessionId));
  let mode: ArrayMode = { kind: 'norm' };
  const dimsQuery = () => (mode.kind === 'dims' ? mode.dims.join(',') : undefined);
  const first = await getJson<HistoryJson>(`${variablePath(sessionId, name)}/history`, { limit: PAGE });
  let variable = first.variable;
  let entries: HistoryEntryJson[] = [...first.entries];
  let nextBefore = first.nextBefore;
  let ended: string | undefined = detail.session.status === 'active' ? undefined : `The session is ${detail.session.status}: its history stays readable, nothing can change.`;
  const canWrite = () => detail.can.write && ended === undefined;

  const chart = new ValueChart();
  const facts = h('div', { class: 'variable-facts' });
  const banner = h('div', { 'aria-live': 'polite' });
  const body = h('tbody');
  const older = h('div', { class: 'pager' });
  const caption = h('p', { class: 'muted', 'data-field': 'history-count' });
  const chartNote = h('p', { class: 'muted' });
  const toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' });

  const renderFacts = () => {
    replace(
      facts,
      h('div', { class: 'current' }, h('div', { class: 'label' }, 'Current value'), fullValue(variable)),
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'Version'), h('dd', { 'data-field': 'version' }, variable.version)),
        h('div', {}, h('dt', {}, 'Changed'), h('dd', {}, `${relativeTime(variable.updatedAt)} by ${variable.modifiedBy} · rev ${variable.modifiedRevision}`)),
        h('div', {}, h('dt', {}, 'Id'), h('dd', { class: 'mono' }, variable.id)),
        variable.description ? h('div', {}, h('dt', {}, 'Description'), h('dd', {}, variable.description)) : null,
        Object.keys(variable.constraints).length ? h('div', {}, h('dt', {}, 'Constraints'), h('dd', { class: 'mono' }, JSON.stringify(variable.constraints))) : null,
        Object.keys(variable.metadata).length ? h('div', {}, h('dt', {}, 'Metadata'), h('dd', { class: 'mono' }, metadataText(variable.metadata))) : null,
      ),
    );
    replace(banner, ended ? h('div', { class: 'notice' }, ended) : null);
  };

  const historyRow = (e: HistoryEntryJson): HTMLTableRowElement => {
    const current = e.version === variable.version;
    const action =
      canWrite() && !current
        ? h('button', { type: 'button', class: 'small', 'data-rollback': e.version, onclick: () => confirmRollback(e) }, `Roll back to v${e.version}`)
        : current
          ? h('span', { class: 'badge live-badge' }, 'current')
          : null;
    return h(
      'tr',
      { 'data-version': e.version },
      h('td', { 'data-label': 'Version', class: 'num' }, e.version),
      h('td', { 'data-label': 'Value', class: 'value' }, valueText(e.value)),
      h('td', { 'data-label': 'Change' }, kindText(e.kind)),
      h('td', { 'data-label': 'By' }, e.actor),
      h('td', { 'data-label': 'When' }, h('time', { datetime: new Date(e.time).toISOString(), title: absoluteTime(e.time) }, absoluteTime(e.time)), h('span', { class: 'muted' }, ` · rev ${e.revision}`)),
      h('td', { 'data-label': 'Why', class: 'mono why' }, metadataText(e.metadata)),
      h('td', { class: 'actions' }, action),
    );
  };

  const renderHistory = () => {
    replace(body, ...entries.map(historyRow));
    caption.textContent = `${entries.length} version${entries.length === 1 ? '' : 's'} shown, newest first${nextBefore !== null ? ' · older ones below' : ''}`;
    replace(older, nextBefore !== null ? h('button', { type: 'button', onclick: () => void loadOlder() }, `Load ${PAGE} older versions`) : null);
  };

  const renderChart = () => {
    if (!isPlottable(variable)) {
      chart.element.hidden = true;
      chartNote.textContent = 'Strings are not plotted; every version is in the history below.';
      return;
    }
    chart.render(variable, entries, mode);
    chartNote.textContent = `${entries.length} version${entries.length === 1 ? '' : 's'} plotted over time${variable.type === 'choice' || variable.type === 'module' || variable.type === 'boolean' ? ' as steps' : ''}.`;
  };

  /** Reloads the newest page (after a mode change needs other vector elements). */
  const reload = async () => {
    const page = await getJson<HistoryJson>(`${variablePath(sessionId, variable.id)}/history`, { limit: PAGE, dims: dimsQuery() });
    variable = page.variable;
    entries = [...page.entries];
    nextBefore = page.nextBefore;
    renderFacts();
    renderHistory();
    renderChart();
  };

  const loadOlder = async () => {
    if (nextBefore === null) return;
    const page = await getJson<HistoryJson>(`${variablePath(sessionId, variable.id)}/history`, { limit: PAGE, before: nextBefore, dims: dimsQuery() });
    entries = [...entries, ...page.entries];
    nextBefore = page.nextBefore;
    renderHistory();
    renderChart();
  };

  // ── rollback, confirmed in a dialog ────────────────────────────────────
  const dialogText = h('p');
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 500, placeholder: 'why (recorded as metadata reason)' });
  const dialogError = h('div', { 'aria-live': 'assertive' });
  const confirmButton = h('button', { type: 'submit', value: 'confirm', class: 'danger' }, 'Roll back');
  const dialog = h(
    'dialog',
    { class: 'confirm', 'aria-labelledby': 'rollback-title' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'rollback-title' }, 'Roll back?'),
      dialogText,
      h('label', { class: 'stack' }, 'Reason ', reason),
      dialogError,
      h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit', value: 'cancel' }, 'Cancel'), confirmButton),
    ),
  );
  let target: HistoryEntryJson | undefined;
  const confirmRollback = (entry: HistoryEntryJson) => {
    target = entry;
    replace(dialogText, `${variable.name} gets a new version ${variable.version + 1} holding the value of version ${entry.version}: `, h('strong', {}, valueText(entry.value)), '. History is never rewritten.');
    replace(dialogError);
    reason.value = '';
    dialog.showModal();
  };
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'confirm' || !target) return;
    const entry = target;
    target = undefined;
    postJson<{ variable: VariableJson }>(`${variablePath(sessionId, variable.id)}/rollback`, {
      targetVersion: entry.version,
      expectedVersion: variable.version,
      ...(reason.value.trim() && { reason: reason.value.trim() }),
    })
      .then(({ variable: after }) => {
        toast.textContent = `Rolled back: version ${after.version} holds version ${entry.version}'s value.`;
        flash(toast);
      })
      .catch((error: unknown) => {
        toast.textContent = '';
        replace(banner, errorBox(error));
      });
  });

  // ── live ───────────────────────────────────────────────────────────────
  const onChanges = (message: ChangesEventJson) => {
    let added = false;
    for (const change of message.changes) {
      if (change.kind === 'session_closed' || change.kind === 'session_expired') {
        ended = `The session was ${change.kind === 'session_closed' ? 'closed' : 'expired'} at revision ${change.revision}.`;
      } else if (change.kind === 'deleted') {
        ended = `This variable was deleted at revision ${change.revision} by ${change.actor}.`;
      } else if (change.variable && change.variable.version > (entries[0]?.version ?? -1)) {
        variable = change.variable;
        entries.unshift({ version: change.variable.version, revision: change.revision, time: change.time, actor: change.actor, kind: HISTORY_KIND[change.kind], metadata: change.metadata, value: change.variable.value });
        added = true;
      }
    }
    // Live messages carry vectors' norm and first elements only; other elements need a fetch.
    if (added && mode.kind === 'dims') return void reload();
    renderFacts();
    renderHistory();
    if (added) {
      renderChart();
      const row = body.querySelector('tr');
      if (row) flash(row);
    }
  };

  // ── embeddings and tensors: norm or chosen elements ────────────────────
  const modeControls = () => {
    if (variable.type !== 'embedding' && variable.type !== 'tensor') return null;
    const dimsInput = h('input', { type: 'text', name: 'dims', value: '0, 1, 2', size: 12, 'aria-label': 'Elements to plot', inputmode: 'numeric' });
    const error = h('span', { class: 'error-text', 'aria-live': 'polite' });
    const choose = (kind: 'norm' | 'dims') => {
      if (kind === 'norm') mode = { kind: 'norm' };
      else {
        const dims = parseDims(dimsInput.value);
        if (!dims) {
          error.textContent = `Up to ${MAX_DIMS} element indices, e.g. 0, 1, 2`;
          return;
        }
        mode = { kind: 'dims', dims };
      }
      error.textContent = '';
      void reload();
    };
    return h(
      'form',
      { class: 'mode', onsubmit: (e) => (e.preventDefault(), choose('dims')) },
      h('label', {}, h('input', { type: 'radio', name: 'mode', value: 'norm', checked: true, onchange: () => choose('norm') }), ' norm'),
      h('label', {}, h('input', { type: 'radio', name: 'mode', value: 'dims', onchange: () => choose('dims') }), ' elements '),
      dimsInput,
      h('button', { type: 'submit', class: 'small' }, 'Plot'),
      error,
    );
  };

  renderFacts();
  replace(
    app,
    layout(
      me,
      'sessions',
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Sessions'), ' / ', h('a', { href: `/sessions/${encodeURIComponent(sessionId)}` }, sessionId), ' / '),
      h('div', { class: 'page-head' }, h('h1', {}, variable.name), h('span', { class: `type type-${variable.type}` }, variable.type)),
      banner,
      facts,
      h('section', { class: 'card', 'aria-label': 'Values over time' }, h('div', { class: 'card-head' }, h('h2', {}, 'Over time'), modeControls()), chart.element, chartNote),
      h('section', { 'aria-label': 'History' },
        h('h2', {}, 'History'),
        caption,
        h('div', { class: 'table-wrap' }, h('table', { class: 'data history' }, h('thead', {}, h('tr', {}, ...['Version', 'Value', 'Change', 'By', 'When', 'Why', ''].map((t) => h('th', { scope: 'col' }, t)))), body)),
        older,
      ),
      dialog,
      toast,
    ),
  );
  renderHistory();
  renderChart();
  // From the head the page's data was read at: later commits come live; duplicates are skipped by version.
  if (detail.session.status === 'active') openLive(`${sessionPath(sessionId)}/events?after=${detail.head}&variable=${encodeURIComponent(variable.id)}`, { changes: onChanges });
}
