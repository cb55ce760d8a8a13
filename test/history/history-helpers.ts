/**
 * Helpers for history, rollback, snapshot and hash-chain tests: a ledger
 * stopped at teardown, direct access to the server's SQLite store, a digest
 * recomputed from the stored rows, and snapshot tampering for recovery tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ExecutionContext } from 'ava';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { chainHash, GENESIS_HASH, type Digest } from '../../src/store/hash-chain.js';
import type { EventRow } from '../../src/store/event-codec.js';
import { startLedger, type TestLedger, type TestServerOptions } from '../helpers/harness.js';

/** A fresh temp directory, removed when the test ends (after earlier-registered teardowns). */
export function tempDir(t: ExecutionContext, prefix = 'varledger-hist-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A ledger stopped (database removed unless it lives in a caller's directory) when the test ends. */
export async function ledgerFor(t: ExecutionContext, options: TestServerOptions = {}): Promise<TestLedger> {
  const ledger = await startLedger(options);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await ledger.stop();
  });
  const stop = ledger.stop.bind(ledger);
  return {
    ...ledger,
    async stop(opts) {
      stopped = true;
      await stop(opts);
    },
  };
}

/** The server's own SQLite store (the tests run it in-process). */
export const storeOf = (ledger: TestLedger): SqliteEventStore => ledger.server.file!;

/** The chain recomputed from every stored row, checking each stored hash on the way. */
export function recomputeDigest(store: SqliteEventStore): Digest & { mismatches: number[] } {
  let hash = GENESIS_HASH;
  let revision = 0;
  const mismatches: number[] = [];
  for (const row of store.rowsWithHashes()) {
    const stored = row[9];
    const eventRow = row.slice(0, 9) as EventRow;
    hash = chainHash(hash, eventRow);
    revision = eventRow[0];
    if (stored !== hash) mismatches.push(revision);
  }
  return { revision, hash, mismatches };
}

/** Runs `fn` on a plain better-sqlite3 connection to the file, then closes it. */
export function withRawDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Snapshot revisions in the file, newest first. */
export const snapshotRevisions = (path: string): number[] =>
  withRawDb(path, (db) => db.prepare('SELECT revision FROM snapshots ORDER BY revision DESC').pluck().all() as number[]);

/**
 * Damages snapshots so that trusting them would give wrong answers: each
 * session row a snapshot holds (its sessions' newest rows at or below its
 * revision; rows are shared by the snapshots that hold them) stays valid
 * JSON, but every variable's version and value change (and the session's
 * status flips). `how: 'garbage'` writes text that is not JSON at all.
 * Returns how many rows were changed.
 */
export function corruptSnapshots(path: string, revisions: readonly number[], how: 'plausible' | 'garbage' = 'plausible'): number {
  return withRawDb(path, (db) => {
    const select = db.prepare<[number], { session_id: string; revision: number; state: string }>(
      'SELECT session_id, max(revision) AS revision, state FROM snapshot_states WHERE revision <= ? GROUP BY session_id',
    );
    const update = db.prepare('UPDATE snapshot_states SET state = ? WHERE session_id = ? AND revision = ?');
    const done = new Set<string>();
    let changed = 0;
    for (const revision of revisions) {
      for (const row of select.all(revision)) {
        const key = `${row.session_id}@${row.revision}`;
        if (done.has(key)) continue;
        done.add(key);
        let state: string;
        if (how === 'garbage') {
          state = `{"id": "${row.session_id}", truncated`;
        } else {
          const parsed = JSON.parse(row.state) as {
            status: string;
            variables: { version: number; value: unknown; name: string }[];
          };
          parsed.status = parsed.status === 'active' ? 'closed' : 'active';
          for (const v of parsed.variables) {
            v.version += 1000;
            v.value = { string: 'tampered' };
          }
          state = JSON.stringify(parsed);
        }
        changed += update.run(state, row.session_id, row.revision).changes;
      }
    }
    return changed;
  });
}

/**
 * Removes snapshots (a cache: no trigger guards them), as if they had never
 * been written: their headers, and the rows no remaining snapshot can hold
 * (those above the newest one left).
 */
export function deleteSnapshots(path: string, revisions: readonly number[]): void {
  withRawDb(path, (db) => {
    for (const revision of revisions) db.prepare('DELETE FROM snapshots WHERE revision = ?').run(revision);
    const newest = (db.prepare('SELECT max(revision) FROM snapshots').pluck().get() as number | null) ?? 0;
    db.prepare('DELETE FROM snapshot_states WHERE revision > ?').run(newest);
  });
}
