/** Every command documents itself, and usage errors exit 2. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { cli } from './fixture.js';

const commands = ['audit', 'history', 'state', 'replay', 'verify', 'export', 'import'];

test('every audit command has --help with --data', async (t) => {
  const runs = await Promise.all(commands.map((c) => cli([c, '--help'])));
  runs.forEach((run, i) => {
    t.is(run.code, 0, commands[i]);
    t.regex(run.stdout, new RegExp(`^Usage: varledger ${commands[i]}`));
    t.regex(run.stdout, /--data <path> +SQLite database file/);
    t.regex(run.stdout, /env:\s+VARLEDGER_DATA/);
  });
  const top = await cli(['--help']);
  for (const c of ['serve', ...commands]) t.regex(top.stdout, new RegExp(`^  ${c}\\b`, 'm'));
});

test('usage errors exit 2', async (t) => {
  const cases = [['frobnicate'], ['history', 'only-session'], ['state', 's1', '--at-revision', '-1'], ['audit', '--limit', '-1'], ['audit', '--before', '0']];
  for (const [args, run] of await Promise.all(cases.map(async (args) => [args, await cli(args)] as const))) {
    t.is(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    t.regex(run.stderr, /error:/);
  }
});

test('--version and -V print the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const run = await cli([flag]);
    t.is(run.code, 0, flag);
    t.is(run.stdout, `${version}\n`, flag);
  }
});
