/**
 * Progress bars for the long-running audit commands: drawn on stderr when it
 * is a terminal (a real pseudo-terminal from util-linux `script`), never in
 * a pipe.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { cli, CLI, demoLedger, tempDir } from './fixture.js';

const exec = promisify(execFile);
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `varledger <args>` with its stderr (and stdin) on a pseudo-terminal; stdout goes to `stdoutFile`. */
async function onTerminal(args: readonly string[], stdoutFile: string): Promise<string> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const { stdout } = await exec('script', ['-qec', `${command} > ${quote(stdoutFile)}`, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm' },
  });
  return stdout;
}

test('export, import and audit --limit 0 draw a progress bar on a terminal', async (t) => {
  const data = await demoLedger(t, { extraSets: 20 });
  const dir = tempDir(t);
  const file = join(dir, 'ledger.jsonl');
  const exported = await onTerminal(['export', '--data', data, '--out', file], join(dir, 'export.out'));
  t.regex(exported, /export \[.*\] \d+% \| \d+\/33 events/);
  const imported = await onTerminal(['import', file, '--data', join(dir, 'copy.db')], join(dir, 'import.out'));
  t.regex(imported, /import \[.*\] \d+% \| \d+\/\d+ bytes/);
  const audited = await onTerminal(['audit', '--data', data, '--limit', '0'], join(dir, 'audit.out'));
  t.regex(audited, /audit \[.*\] \d+% \| \d+\/33 events/);
});

test('no bar when stderr is not a terminal', async (t) => {
  const data = await demoLedger(t);
  const dir = tempDir(t);
  const exported = await cli(['export', '--data', data, '--out', join(dir, 'x.jsonl')]);
  t.is(exported.stderr, `exported 13 events to ${join(dir, 'x.jsonl')}\n`);
  const audited = await cli(['audit', '--data', data, '--limit', '0']);
  t.is(audited.stderr, '');
});
