/** `/integrity`: the hash chain's head digest, live, and "verify now" for admins. */
import type { DigestJson, VerifyJson, WhoAmIJson } from '../../api-types.js';
import { getJson, postJson } from '../api.js';
import { flash, h, replace } from '../dom.js';
import { absoluteTime } from '../format.js';
import { errorBox, layout } from '../layout.js';
import { openLive } from '../live.js';

function verdict(result: VerifyJson): HTMLElement {
  return h(
    'div',
    { class: `verdict ${result.ok ? 'ok' : 'failed'}`, 'data-field': 'verdict', 'data-ok': String(result.ok) },
    h('strong', {}, result.ok ? 'Verified' : 'Verification failed'),
    h('pre', {}, result.output),
    h('p', { class: 'muted' }, `Run ${absoluteTime(result.startedAt)}, took ${(result.durationMs / 1000).toFixed(2)} s.`),
  );
}

export async function integrityPage(app: HTMLElement, me: WhoAmIJson): Promise<void> {
  const digestBox = h('div', { class: 'digest' });
  const result = h('div', { 'aria-live': 'polite' });
  const showDigest = (d: DigestJson) => {
    const text = `${d.revision}:${d.hash}`;
    replace(
      digestBox,
      h('div', { class: 'label' }, 'Chain head'),
      h('code', { class: 'hash', 'data-field': 'digest' }, text),
      h('div', { class: 'row' },
        h('span', { class: 'muted' }, d.revision === 0 ? 'The log is empty.' : `Seals revisions 1 to ${d.revision}.`),
        h('button', { type: 'button', class: 'small', onclick: () => void navigator.clipboard?.writeText(text) }, 'Copy'),
      ),
    );
    flash(digestBox);
  };
  const loadDigest = async () => showDigest(await getJson<DigestJson>('/api/digest'));

  const verifyButton = h('button', { type: 'button', class: 'primary', 'data-action': 'verify' }, 'Verify now');
  verifyButton.addEventListener('click', async () => {
    verifyButton.disabled = true;
    verifyButton.textContent = 'Verifying…';
    replace(result, h('p', { class: 'muted' }, 'Recomputing the chain from genesis and checking snapshots…'));
    try {
      replace(result, verdict(await postJson<VerifyJson>('/api/verify', {})));
    } catch (error) {
      replace(result, errorBox(error));
    } finally {
      verifyButton.disabled = false;
      verifyButton.textContent = 'Verify now';
    }
  });

  replace(
    app,
    layout(
      me,
      'integrity',
      h('div', { class: 'page-head' }, h('h1', {}, 'Integrity')),
      h('p', {}, 'Every event is sealed into a SHA-256 hash chain as it is appended. Keep the chain head somewhere else; ', h('code', {}, 'varledger verify --digest REV:HASH'), ' proves later that the log still extends it.'),
      h('section', { class: 'card' }, digestBox),
      h('section', { class: 'card' },
        h('h2', {}, 'Verify now'),
        me.admin
          ? h('div', {}, h('p', {}, 'Runs ', h('code', {}, 'varledger verify'), ' on the server\u2019s database: recomputes the chain from genesis, checks that revisions have no gaps, and that every snapshot equals a fresh fold of the log. It runs in its own process, so the server keeps serving.'), verifyButton)
          : h('p', { class: 'muted' }, 'Only administrators can run a verification from here.'),
        result,
      ),
    ),
  );
  await loadDigest();
  if (me.admin) {
    const last = await getJson<VerifyJson | null>('/api/verify');
    if (last) replace(result, verdict(last));
  }
  openLive('/api/events', { head: () => void loadDigest() });
}
