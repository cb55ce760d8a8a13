/**
 * Every code block of README.md runs as written, twice in a row, and ends
 * (see readme-blocks.ts for how each kind runs and how a block is excused).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { buildSync, transformSync } from 'esbuild';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { rowOf, tamper, writeDemoLedger } from '../cli/fixture.js';
import { startLedger, type TestLedger } from '../helpers/harness.js';
import { killGroup, spawnReaped } from '../helpers/reaper.js';
import { maskTimings, readmeBlocks, transcript, type Block } from './readme-blocks.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const GRPCURL = fileURLToPath(new URL('../helpers/grpcurl.js', import.meta.url));
const README_ADDRESS = '127.0.0.1:50051';
/** Only a guard against a block that never ends; a healthy run takes seconds. */
const GUARD_MS = 45_000;
const RUNS = 2;

const blocks = readmeBlocks();

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a program to its end (or kills it at the guard), stdout and stderr
 * interleaved. It leads its own process group, so the guard also kills what
 * a block started in the background (`varledger serve … &`), and so does the
 * reaper if ava ends this file on a timeout.
 */
function run(command: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; stdin?: string }): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VARLEDGER_') && k !== 'FORCE_COLOR'));
  const child = spawnReaped(command, args, { cwd: options.cwd, env: { ...inherited, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  // A program that exits before reading its stdin closes the pipe: not an error of the test.
  child.stdin.on('error', () => {});
  child.stdin.end(options.stdin ?? '');
  let guarded = false;
  const guard = setTimeout(() => {
    guarded = true;
    killGroup(child);
  }, GUARD_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code: guarded ? null : code, output });
    });
  });
}

function scratch(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `varledger` and `grpcurl` as commands a shell finds. */
function binFolder(t: ExecutionContext, grpcurl = GRPCURL): string {
  const bin = scratch(t, 'varledger-readme-bin-');
  for (const [name, script] of [
    ['varledger', CLI],
    ['grpcurl', grpcurl],
  ] as const) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

const where = (block: Block) => `README.md:${block.line} (${block.lang})`;

/** A real server loaded with the README's tools module, its database at <work>/data/ledger.db. */
async function readmeServer(t: ExecutionContext): Promise<{ ledger: TestLedger; work: string }> {
  const work = scratch(t, 'varledger-readme-');
  mkdirSync(join(work, 'data'));
  const tools = blocks.filter((b) => b.lang === 'js' && !b.skip);
  if (tools.length !== 1) throw new Error(`expected one js block (the tools module), found ${tools.length}`);
  writeFileSync(join(work, 'tools.mjs'), tools[0]!.code);
  const ledger = await startLedger({ dataPath: join(work, 'data', 'ledger.db'), toolModules: [join(work, 'tools.mjs')] });
  t.teardown(() => ledger.stop({ remove: false }));
  return { ledger, work };
}

test('every block is run or excused with a reason, and the excused are few', (t) => {
  const known = new Set(['sh', 'ts', 'js', 'json', 'console', 'text']);
  for (const block of blocks) {
    if (block.skip) continue;
    t.true(known.has(block.lang), `${where(block)}: no way to run a "${block.lang}" block; run it or mark it "readme-test: not run (why)"`);
    if (block.lang === 'json') t.notThrows(() => JSON.parse(block.code), where(block));
  }
  // Installing, benchmarks, a TLS server with the reader's certificates, a
  // TLS client to it, two blocks needing Snakepit's Python package, and the
  // Python stub generation from a clone's proto/ (test/python runs it),
  // two nodes on a PostgreSQL server, and the audit commands on one
  // (test/postgres runs both).
  const excused = blocks.filter((b) => b.skip);
  t.true(excused.length <= 9, excused.map(where).join(', '));
  t.true(blocks.filter((b) => b.lang === 'ts').length >= 3, 'the TypeScript examples are found');
});

test('the shell and TypeScript examples run twice against one server and end', async (t) => {
  const { ledger, work } = await readmeServer(t);
  // Inside this package, so `import … from 'varledger'` resolves to it.
  const tsFolder = mkdtempSync(join(PACKAGE_ROOT, 'dist', 'readme-ts-'));
  t.teardown(() => rmSync(tsFolder, { recursive: true, force: true }));
  // The grpcurl stand-in starts once per call: one bundled file loads in half the time.
  const grpcurl = join(tsFolder, 'grpcurl.mjs');
  buildSync({
    entryPoints: [GRPCURL],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: grpcurl,
    logLevel: 'error',
    // Its CommonJS dependencies call require().
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; globalThis.require ??= __createRequire(import.meta.url);" },
  });
  const env = { PATH: `${binFolder(t, grpcurl)}:${process.env.PATH ?? ''}`, README_SERVER: ledger.address };
  const runnable = blocks.filter((b) => !b.skip && (b.lang === 'sh' || b.lang === 'ts'));
  t.true(runnable.length >= 6);
  for (const block of runnable) {
    for (let n = 1; n <= RUNS; n++) {
      let result: Run;
      if (block.lang === 'sh') {
        result = await run('bash', ['-e', '-o', 'pipefail', '-c', block.code], { cwd: work, env });
      } else {
        const source = block.code.replaceAll(README_ADDRESS, ledger.address);
        const file = join(tsFolder, `block-${block.line}.mjs`);
        writeFileSync(file, transformSync(source, { loader: 'ts', format: 'esm', target: 'node20' }).code);
        result = await run(process.execPath, [file], { cwd: work });
      }
      t.not(result.code, null, `${where(block)} run ${n} did not end`);
      t.is(result.code, 0, `${where(block)} run ${n}:\n${result.output}`);
    }
  }
});

/** The demo ledger the transcripts describe, and the two damaged copies they show. */
async function demoFolder(t: ExecutionContext): Promise<string> {
  const dir = scratch(t, 'varledger-readme-demo-');
  for (const name of ['demo.db', 'tampered.db', 'snapbad.db']) await writeDemoLedger(join(dir, name), { snapshotEvery: 5 });
  tamper(join(dir, 'tampered.db'), "UPDATE events SET payload = replace(payload, 'best val loss', 'best val lost') WHERE revision = 6");
  tamper(join(dir, 'snapbad.db'), `UPDATE snapshot_states SET state = json_set(state, '$.variables[0].value.float', 42) WHERE ${rowOf('exp-42', 10)}`);
  return dir;
}

test('the console transcripts print what they show, twice in a row', async (t) => {
  const dir = await demoFolder(t);
  const env = { PATH: `${binFolder(t)}:${process.env.PATH ?? ''}`, VARLEDGER_DATA: 'demo.db', NO_COLOR: '1' };
  const consoles = blocks.filter((b) => b.lang === 'console' && !b.skip);
  t.true(consoles.length >= 5);
  await Promise.all(
    consoles.map(async (block) => {
      for (let n = 1; n <= RUNS; n++) {
        for (const step of transcript(block.code)) {
          const result = await run('bash', ['-c', step.command], { cwd: dir, env });
          t.not(result.code, null, `${where(block)} \`${step.command}\` did not end`);
          t.is(maskTimings(result.output), maskTimings(step.output), `${where(block)} run ${n}: $ ${step.command}`);
        }
      }
    }),
  );
});
