/**
 * A small ledger written through the real service (decide → append →
 * evolve), with a clock the fixture moves, so the CLI tests know exactly
 * which event holds which revision, time and actor. Also runs the CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Metadata, SessionId, Value, Version } from '../../src/domain/index.js';
import { LedgerService } from '../../src/service/ledger-service.js';
import type { EventStore } from '../../src/store/event-store.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { SqliteLog } from '../../src/store/sqlite-log.js';

/** The compiled CLI next to this compiled file, whatever the outDir. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** 2026-01-31T09:00:00Z; the fixture's n-th write happens n minutes later. */
export const T0 = Date.UTC(2026, 0, 31, 9, 0, 0);
export const MINUTE = 60_000;

export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `varledger <args>` to completion; VARLEDGER_* from the environment are dropped, `env` added. */
export function cli(args: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VARLEDGER_') && k !== 'FORCE_COLOR'));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...inherited, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses JSON-lines output. */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const float = (value: number): Value => ({ kind: 'float', value });
const int = (value: bigint): Value => ({ kind: 'integer', value });
const str = (value: string): Value => ({ kind: 'string', value });
const S1 = 'exp-42' as SessionId;
const S2 = 'exp-43' as SessionId;

/**
 * Writes the demo ledger to `path` (revisions in comments):
 * exp-42 by alice (1), temperature 0.7 (2), model (3), max_tokens 256 (4);
 * optimizer sets temperature 0.9 (5) and 0.5 (6); bob's atomic commit sets
 * model and max_tokens (7, 8); alice rolls temperature back to v1 (9); bob
 * deletes max_tokens (10); carol opens exp-43 (11), registers temperature
 * 0.2 (12) and closes it (13); then `extraSets` more sets of temperature by
 * "sweeper". The service snapshots every `snapshotEvery` events and at close.
 */
export async function writeDemoLedger(path: string, options: { snapshotEvery?: number; extraSets?: number } = {}): Promise<void> {
  await writeDemoLedgerTo(new SqliteLog(new SqliteEventStore(path)), options);
}

/** The same demo ledger into any store (closed afterwards): PostgreSQL gets the very same events and chain. */
export async function writeDemoLedgerTo(store: EventStore, options: { snapshotEvery?: number; extraSets?: number } = {}): Promise<void> {
  let now = T0;
  const clock = { now: () => now };
  let suffix = 0;
  const service = await LedgerService.open({
    store,
    clock,
    newIdSuffix: () => (++suffix).toString().padStart(4, '0'),
    newSessionId: () => 'unused',
    snapshotEvery: options.snapshotEvery ?? 0,
  });
  const step = () => (now += MINUTE);
  const set = async (sessionId: SessionId, identifier: string, value: Value, actor: string, metadata: Metadata = {}) => {
    step();
    await service.set({ sessionId, identifier, value, metadata }, actor);
  };
  await service.createSession({ sessionId: S1, metadata: { owner: 'alice' }, ttlSeconds: 86_400 }, 'alice');
  step();
  await service.register(
    { sessionId: S1, name: 'temperature', type: 'float', value: float(0.7), constraints: { min: 0, max: 2 }, metadata: {}, description: 'sampling temperature' },
    'alice',
  );
  step();
  await service.register(
    { sessionId: S1, name: 'model', type: 'choice', value: str('gpt-4o-mini'), constraints: { choices: ['gpt-4o-mini', 'claude-haiku'] }, metadata: {}, description: '' },
    'alice',
  );
  step();
  await service.register({ sessionId: S1, name: 'max_tokens', type: 'integer', value: int(256n), constraints: {}, metadata: {}, description: '' }, 'alice');
  await set(S1, 'temperature', float(0.9), 'optimizer', { reason: 'explore' });
  await set(S1, 'temperature', float(0.5), 'optimizer', { reason: 'best val loss' });
  step();
  await service.commit(
    {
      sessionId: S1,
      atomic: true,
      operations: [
        { kind: 'set_variable', sessionId: S1, identifier: 'model', value: str('claude-haiku'), metadata: { reason: 'cheaper' } },
        { kind: 'set_variable', sessionId: S1, identifier: 'max_tokens', value: int(512n), metadata: { reason: 'cheaper' } },
      ],
    },
    'bob',
  );
  step();
  await service.rollback({ sessionId: S1, identifier: 'temperature', targetVersion: 1 as Version, metadata: { reason: 'regression' } }, 'alice');
  step();
  await service.delete({ sessionId: S1, identifier: 'max_tokens', metadata: { reason: 'unused' } }, 'bob');
  step();
  await service.createSession({ sessionId: S2, metadata: {}, ttlSeconds: 3_600 }, 'carol');
  step();
  await service.register({ sessionId: S2, name: 'temperature', type: 'float', value: float(0.2), constraints: {}, metadata: {}, description: '' }, 'carol');
  step();
  await service.closeSession(S2, 'carol');
  for (let i = 1; i <= (options.extraSets ?? 0); i++) await set(S1, 'temperature', float(i / 100), 'sweeper', { step: String(i) });
  await service.close();
}

/**
 * SQL selecting the stored row that holds a session's state in the snapshot
 * at a revision (its newest at or below it: rows are per session, shared by
 * the snapshots that hold them).
 */
export const rowOf = (sessionId: string, revision: number): string =>
  `session_id = '${sessionId}' AND revision = (SELECT max(revision) FROM snapshot_states WHERE session_id = '${sessionId}' AND revision <= ${revision})`;

/** Edits a database behind the ledger's back: drops the append-only triggers, then runs `sql`. */
export function tamper(path: string, sql: string): void {
  const db = new Database(path);
  try {
    for (const trigger of ['events_are_append_only_update', 'events_are_append_only_delete', 'events_delete_only_removed', 'event_chain_is_append_only_update', 'event_chain_is_append_only_delete']) {
      db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** A fresh demo ledger in its own temp directory; returns the database path. */
export async function demoLedger(t: { teardown(fn: () => void): void }, options?: { snapshotEvery?: number; extraSets?: number }): Promise<string> {
  const path = join(tempDir(t), 'ledger.db');
  await writeDemoLedger(path, options);
  return path;
}
