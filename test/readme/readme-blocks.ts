/**
 * The fenced code blocks of README.md, and how each kind is run by
 * readme.test.ts. A block the test cannot run as written is marked on the
 * line before its fence with `<!-- readme-test: not run (why) -->`; the
 * test fails on any other block it does not know how to run, so a new
 * example is either run or explicitly excused with a reason.
 *
 *   sh       bash -e, on a PATH where `varledger` is the built CLI and
 *            `grpcurl` the reflection-driven stand-in (test/helpers/grpcurl.ts),
 *            against a real server; the working folder holds the server's
 *            database at data/ledger.db and tools.mjs (the js block)
 *   ts       compiled with esbuild and run with node as a module inside this
 *            package (so `import … from 'varledger'` resolves to it)
 *   js       the README's one server-side tools module: the server the sh
 *            and ts blocks talk to is started with it
 *   console  a transcript against the demo ledger: each `$ ` command runs in
 *            bash, and its output must equal the lines shown (timings, and a
 *            JSON log line's time, pid and hostname, masked)
 *   json     a file's contents: must parse
 *   text     not code (diagrams)
 *
 * Addresses: the README's server is 127.0.0.1:50051; the tests' listens on
 * port 0, so that address is rewritten in ts blocks and mapped by the
 * grpcurl stand-in (README_SERVER).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export interface Block {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** Why it is not run, from the marker comment. */
  readonly skip?: string;
}

const SKIP = /^<!-- readme-test: not run \((.+)\) -->$/;

export function readmeBlocks(path = join(PACKAGE_ROOT, 'README.md')): Block[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] as string);
    const skip = SKIP.exec(lines[start - 1] ?? '')?.[1];
    blocks.push({ lang: open[1] ?? '', code: `${body.join('\n')}\n`, line: start + 1, ...(skip !== undefined && { skip }) });
  }
  return blocks;
}

export interface TranscriptStep {
  readonly command: string;
  readonly output: string;
}

/** A console block's `$ ` commands, each with the output lines that follow it. */
export function transcript(code: string): TranscriptStep[] {
  const steps: Array<{ command: string; output: string[] }> = [];
  for (const line of code.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else steps.at(-1)?.output.push(line);
  }
  return steps.map((s) => ({ command: s.command, output: s.output.map((l) => `${l}\n`).join('') }));
}

/**
 * Figures that differ run to run (replay's timing, a log line's time, pid,
 * host, and the head digest once a compaction's event, which records when it
 * ran, is in the chain), masked on both sides.
 */
export const maskTimings = (text: string): string =>
  text
    .replace(/in \d+\.\d+ s, \d+ events\/s/g, 'in <t> s, <n> events/s')
    .replace(/(removed by retention\), .* head \d+:)[0-9a-f]{64}/g, '$1<digest>')
    .replace(/"time":\d+,"pid":\d+,"hostname":"[^"]*"/g, '"time":<t>,"pid":<p>,"hostname":<h>');
