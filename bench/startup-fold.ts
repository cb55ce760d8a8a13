/**
 * Start-up fold: fills a fresh database file with BENCH_FOLD_EVENTS events
 * (default 1,000,000) written straight through `SqliteEventStore.write()` in
 * big batches — SESSIONS session_created events, then VARIABLES_PER_SESSION
 * float registrations per session, then variable_set events round-robin over
 * all variables — and times `new LedgerService({...})`, which folds the whole
 * log through `Projection.load`. Everything runs in this process; no gRPC.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent, SessionId, VariableId, Version } from '../src/domain/index.js';
import { randomSessionId, randomSuffix, systemClock } from '../src/service/clock.js';
import { LedgerService } from '../src/service/ledger-service.js';
import { SqliteEventStore } from '../src/store/sqlite-event-store.js';
import { makeTempDir } from './server-fixture.js';
import { round, since } from './stats.js';

export interface StartupFoldResult {
  readonly events: number;
  /** Best of the timed folds, seconds. */
  readonly foldSeconds: number;
  readonly eventsPerSecond: number;
  readonly foldSecondsEach: readonly number[];
  readonly storeOpenMs: number;
  readonly writeSeconds: number;
  readonly writeEventsPerSecond: number;
  readonly dbBytes: number;
  readonly conditions: {
    readonly sessions: number;
    readonly variablesPerSession: number;
    readonly registrationEvents: number;
    readonly setEvents: number;
    readonly writeBatch: number;
    readonly foldRepetitions: number;
    readonly durability: 'normal';
  };
}

const SESSIONS = 100;
const VARIABLES_PER_SESSION = 10;
const WRITE_BATCH = 50_000;
const FOLD_REPETITIONS = 2;
const MAX_SECONDS_FOR_REPEAT = 15;

export function foldEventCount(): number {
  const raw = process.env.BENCH_FOLD_EVENTS ?? '1000000';
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1 + VARIABLES_PER_SESSION) {
    throw new Error(`BENCH_FOLD_EVENTS must be an integer ≥ ${1 + VARIABLES_PER_SESSION}, not ${raw}`);
  }
  return n;
}

/** Yields the log to write, in order: sessions, registrations, then sets. */
function* eventsToWrite(total: number, sessions: number): Generator<NewEvent> {
  const actor = 'bench';
  let time = Date.UTC(2026, 0, 1);
  const sessionIds = Array.from({ length: sessions }, (_, s) => `fold-${String(s).padStart(3, '0')}` as SessionId);
  const variables: { sessionId: SessionId; variableId: VariableId; version: number }[] = [];
  for (const sessionId of sessionIds) {
    yield { kind: 'session_created', sessionId, time: time++, actor, metadata: {}, ttlSeconds: 3600 };
  }
  for (const sessionId of sessionIds) {
    for (let v = 0; v < VARIABLES_PER_SESSION; v++) {
      const variableId = `var_v${v}_${sessionId}` as VariableId;
      variables.push({ sessionId, variableId, version: 0 });
      yield {
        kind: 'variable_registered',
        sessionId,
        time: time++,
        actor,
        variableId,
        version: 0 as Version,
        name: `v${v}`,
        type: 'float',
        value: { kind: 'float', value: 0 },
        constraints: { min: -1e9, max: 1e9 },
        metadata: {},
        description: '',
      };
    }
  }
  const sets = total - sessions - variables.length;
  for (let i = 0; i < sets; i++) {
    const variable = variables[i % variables.length] as (typeof variables)[number];
    yield {
      kind: 'variable_set',
      sessionId: variable.sessionId,
      time: time++,
      actor,
      variableId: variable.variableId,
      version: ++variable.version as Version,
      value: { kind: 'float', value: i * 0.5 },
      metadata: {},
    };
  }
}

/** Writes the fold log to a fresh file at `path` (exported for profiling). */
export function writeLog(path: string, total: number, sessions: number): void {
  const store = new SqliteEventStore(path);
  try {
    let batch: NewEvent[] = [];
    const flush = () => {
      const events = batch;
      store.write((tx) => tx.append(events));
      batch = [];
    };
    for (const event of eventsToWrite(total, sessions)) {
      batch.push(event);
      if (batch.length >= WRITE_BATCH) flush();
    }
    if (batch.length > 0) flush();
    if (store.head() !== total) throw new Error(`wrote ${store.head()} events, expected ${total}`);
  } finally {
    store.close();
  }
}

export async function runStartupFold(): Promise<StartupFoldResult> {
  const total = foldEventCount();
  const sessions = Math.min(SESSIONS, Math.floor(total / (1 + VARIABLES_PER_SESSION)));
  const tmp = makeTempDir('varledger-bench-fold-');
  try {
    const path = join(tmp.dir, 'fold.db');
    const writeStart = performance.now();
    writeLog(path, total, sessions);
    const writeSeconds = since(writeStart) / 1000;
    const dbBytes = statSync(path).size;

    const foldSecondsEach: number[] = [];
    let storeOpenMs = Number.POSITIVE_INFINITY;
    for (let r = 0; r < FOLD_REPETITIONS; r++) {
      // A very slow first fold is figure enough; keep `npm run bench` short.
      if (r > 0 && (foldSecondsEach[0] ?? 0) > MAX_SECONDS_FOR_REPEAT) break;
      // Let the event loop breathe (and the GC settle) between the heavy phases.
      await new Promise((resolve) => setImmediate(resolve));
      const openStart = performance.now();
      const store = new SqliteEventStore(path);
      storeOpenMs = Math.min(storeOpenMs, since(openStart));
      const foldStart = performance.now();
      const service = new LedgerService({ store, clock: systemClock, newIdSuffix: randomSuffix, newSessionId: randomSessionId });
      foldSecondsEach.push(since(foldStart) / 1000);
      try {
        if (service.head !== total) throw new Error(`folded to head ${service.head}, expected ${total}`);
        const listed = service.listSessions(1000, '').sessions;
        if (listed.length !== sessions) throw new Error(`folded ${listed.length} sessions, expected ${sessions}`);
      } finally {
        service.close();
      }
    }
    const foldSeconds = Math.min(...foldSecondsEach);
    return {
      events: total,
      foldSeconds: round(foldSeconds, 3),
      eventsPerSecond: round(total / foldSeconds, 0),
      foldSecondsEach: foldSecondsEach.map((s) => round(s, 3)),
      storeOpenMs: round(storeOpenMs, 1),
      writeSeconds: round(writeSeconds, 2),
      writeEventsPerSecond: round(total / writeSeconds, 0),
      dbBytes,
      conditions: {
        sessions,
        variablesPerSession: VARIABLES_PER_SESSION,
        registrationEvents: sessions * (1 + VARIABLES_PER_SESSION),
        setEvents: total - sessions * (1 + VARIABLES_PER_SESSION),
        writeBatch: WRITE_BATCH,
        foldRepetitions: foldSecondsEach.length,
        durability: 'normal',
      },
    };
  } finally {
    tmp.remove();
  }
}
