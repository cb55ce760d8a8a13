/**
 * The web view in a real browser (chromium, headless): the pages a person
 * uses, with their data coming over real HTTP from a real server, and
 * changes made over gRPC showing up without a reload.
 */
import test from 'ava';
import type { Browser } from 'playwright-core';
import { floatValue } from '../helpers/grpc-expect.js';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import { launchBrowser, withPage } from './browser.js';
import { webLedger } from './web-fixture.js';
import { startAuthLedger, TOKENS } from '../auth/auth-fixture.js';

/** The live budget: a change must be on the page this soon. */
const LIVE_MS = 2000;
const LOAD_MS = 10_000;

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

const MINUTE = 60_000;

async function temperatureLedger(t: Parameters<typeof webLedger>[0]) {
  const ledger = await webLedger(t);
  const { rpc, clock } = ledger;
  await rpc.call('registerVariable', { sessionId: 'exp-42', name: 'temperature', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.7), constraints: { min: 0, max: 2 } }, { actor: 'alice' });
  await rpc.call('registerVariable', {
    sessionId: 'exp-42',
    name: 'model',
    type: VariableType.VARIABLE_TYPE_CHOICE,
    initialValue: { kind: { $case: 'stringValue', stringValue: 'small' } },
    constraints: { choices: ['small', 'large'] },
  });
  const revisions: number[] = [];
  for (const value of [0.9, 0.5, 1.2, 0.8]) {
    clock.advance(MINUTE);
    const v = await rpc.call('setVariable', { sessionId: 'exp-42', identifier: 'temperature', value: floatValue(value), metadata: { reason: `try ${value}` } }, { actor: 'optimizer' });
    revisions.push(Number(v.modifiedRevision));
  }
  return { ...ledger, revisions };
}

test('a session page lists the variables; its variable page plots every version, both update live, and an earlier revision shows the older value', async (t) => {
  const { base, rpc, clock, revisions } = await temperatureLedger(t);
  await withPage(t, browser, async (page) => {
    await page.goto(`${base}/sessions/exp-42`);
    const value = page.locator('tr[data-variable="temperature"] td[data-field="value"]');
    await value.filter({ hasText: /^0\.8$/ }).waitFor({ timeout: LOAD_MS });

    // Live on the session page: a change over gRPC, no reload.
    clock.advance(MINUTE);
    await rpc.call('setVariable', { sessionId: 'exp-42', identifier: 'temperature', value: floatValue(1.5) }, { actor: 'optimizer' });
    await value.filter({ hasText: /^1\.5$/ }).waitFor({ timeout: LIVE_MS });

    // Time travel: revision of the second set (value 0.5).
    await page.fill('#revision', String(revisions[1]));
    await page.press('#revision', 'Enter');
    await value.filter({ hasText: /^0\.5$/ }).waitFor({ timeout: LOAD_MS });
    t.regex((await page.locator('[data-field="as-of"]').textContent()) ?? '', new RegExp(`As of revision ${revisions[1]}`));
    t.is(await page.locator('tr[data-variable="temperature"] td[data-field="version"]').textContent(), '2');
    t.regex(page.url(), new RegExp(`\\?at=${revisions[1]}$`));

    // The variable page: registration + 5 sets plotted.
    await page.click('a:text-is("temperature")');
    const chart = page.locator('figure.chart');
    await chart.and(page.locator('[data-points="6"]')).waitFor({ timeout: LOAD_MS });
    t.is(await page.locator('figure.chart canvas').count(), 1, 'uPlot drew on a canvas');
    t.is(await page.locator('table.history tbody tr').count(), 6);
    t.is(await page.locator('tr[data-version="4"] td.why').textContent(), 'reason="try 0.8"');

    clock.advance(MINUTE);
    await rpc.call('setVariable', { sessionId: 'exp-42', identifier: 'temperature', value: floatValue(0.3), metadata: { reason: 'live' } }, { actor: 'optimizer' });
    await chart.and(page.locator('[data-points="7"]')).waitFor({ timeout: LIVE_MS });
    t.is(await page.locator('[data-field="current"]').textContent(), '0.3');
    t.is(await page.locator('tr[data-version="6"] td.why').textContent(), 'reason="live"');
  });
});

test('rollback from the history asks for confirmation, then the new version arrives live', async (t) => {
  const { base, rpc } = await temperatureLedger(t);
  await withPage(t, browser, async (page) => {
    await page.goto(`${base}/sessions/exp-42/variables/temperature`);
    await page.locator('figure.chart[data-points="5"]').waitFor({ timeout: LOAD_MS });
    await page.click('button[data-rollback="1"]');
    const dialog = page.locator('dialog.confirm');
    await dialog.waitFor({ state: 'visible' });
    t.regex((await dialog.textContent()) ?? '', /new version 5 holding the value of version 1: 0\.9/);
    await dialog.locator('input[name="reason"]').fill('regression in eval');
    await dialog.locator('button[value="confirm"]').click();
    await page.locator('tr[data-version="5"]').waitFor({ timeout: LIVE_MS });
    t.is(await page.locator('[data-field="current"]').textContent(), '0.9');
    t.regex((await page.locator('tr[data-version="5"]').textContent()) ?? '', /rolled back.*web.*reason="regression in eval"/);
  });
  const history = await rpc.call('getHistory', { sessionId: 'exp-42', identifier: 'temperature', limit: 1 });
  t.like(history.entries[0], { version: 5n, actor: 'web', metadata: { reason: 'regression in eval', rolled_back_to: '1' } });
});

test('the sessions list filters by glob, and the integrity page verifies the log on request', async (t) => {
  const { base, rpc } = await temperatureLedger(t);
  await rpc.call('registerVariable', { sessionId: 'other', name: 'x', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  await withPage(t, browser, async (page) => {
    await page.goto(base);
    await page.locator('tr[data-session="other"]').waitFor({ timeout: LOAD_MS });
    t.is(await page.locator('tr[data-session="exp-42"] td[data-label="By"]').textContent(), 'optimizer');
    await page.fill('input[name="pattern"]', 'exp-*');
    await page.locator('tr[data-session="other"]').waitFor({ state: 'detached', timeout: LOAD_MS });
    t.is(await page.locator('tbody tr[data-session]').count(), 1);

    await page.click('nav >> text=Integrity');
    const digest = await rpc.call('getDigest', {});
    await page.locator(`[data-field="digest"]:text-is("${digest.revision}:${digest.hash}")`).waitFor({ timeout: LOAD_MS });
    await page.click('button[data-action="verify"]');
    const verdict = page.locator('[data-field="verdict"][data-ok="true"]');
    await verdict.waitFor({ timeout: LOAD_MS });
    t.regex((await verdict.textContent()) ?? '', new RegExp(`OK: ${digest.revision} events.*head ${digest.revision}:${digest.hash}`));
  });
});

test('with auth on, the sign-in form leads to the pages, and a reader sees no rollback', async (t) => {
  const ledger = await startAuthLedger(t, { httpPort: 0 });
  const base = `http://127.0.0.1:${ledger.server.httpPort}`;
  await ledger.as('alice').call('registerVariable', { sessionId: 'team-a-1', name: 't', type: VariableType.VARIABLE_TYPE_FLOAT, initialValue: floatValue(0.5) });
  await ledger.as('alice').call('setVariable', { sessionId: 'team-a-1', identifier: 't', value: floatValue(0.9) });
  await withPage(t, browser, async (page) => {
    await page.goto(`${base}/sessions/team-a-1/variables/t`);
    await page.waitForURL(/\/login\?next=/, { timeout: LOAD_MS });
    await page.fill('input[name="token"]', 'not-a-token-0123456789');
    await page.click('button[type="submit"]');
    await page.locator('[role="alert"]:text("not valid")').waitFor({ timeout: LOAD_MS });
    await page.fill('input[name="token"]', TOKENS.bob);
    await page.click('button[type="submit"]');
    await page.locator('figure.chart[data-points="2"]').waitFor({ timeout: LOAD_MS });
    t.is(await page.locator('button[data-rollback]').count(), 0, 'bob may only read');
    t.is(await page.locator('header .who span').textContent(), 'bob');
  });
});
