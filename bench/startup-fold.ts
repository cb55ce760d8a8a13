/**
 * Start-up: fills a fresh database file with BENCH_FOLD_EVENTS events
 * (default 1,000,000) written straight through `SqliteEventStore.write()` in
 * big batches — SESSIONS session_created events, then VARIABLES_PER_SESSION
 * float registrations per session, then variable_set events round-robin over
 * all variables — and times start-up on that one file in three states:
 *
 * 1. Full fold (also reported as the replay rate): `new LedgerService({...})`
 *    folds the whole log through `Projection.load`, with no snapshot in the
 *    file. After each repetition only the STORE is closed: `service.close()`
 *    snapshots (today only if the service wrote since start-up, but that is
 *    not to be relied on), which would turn the next repetition into a
 *    snapshot load. Each repetition checks the file has no snapshot.
 * 2. With a snapshot at the head: one snapshot is written (timed, and its
 *    size reported) the way `LedgerService.snapshot()` writes it, then
 *    start-up (`new SqliteEventStore` + `new LedgerService`) is timed, best
 *    of SNAPSHOT_REPETITIONS.
 * 3. With a snapshot and a tail: TAIL_EVENTS more variable_set events are
 *    appended after the snapshot, and start-up is timed again (snapshot load
 *    plus a fold of the tail).
 *
 * Everything runs in this process; no gRPC.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent, Revision, SessionId, VariableId, Version } from '../src/domain/index.js';
import { Projection } from '../src/projection/projection.js';
import { randomSessionId, randomSuffix, systemClock } from '../src/service/clock.js';
import { LedgerService } from '../src/service/ledger-service.js';
import { SqliteEventStore } from '../src/store/sqlite-event-store.js';
import { SqliteLog } from '../src/store/sqlite-log.js';
import { makeTempDir } from './server-fixture.js';
import { round, since } from './stats.js';

/** Start-up from a snapshot: best and each of the timed repetitions. */
export interface SnapshotStartup {
  /** Events in the log (snapshot revision + tail). */
  readonly events: number;
  /** Events after the snapshot, folded on start-up. */
  readonly tailEvents: number;
  /** Best of the repetitions: store open + `new LedgerService`, seconds. */
  readonly startupSeconds: number;
  readonly startupSecondsEach: readonly number[];
  /** Of the best repetition's time, the `new SqliteEventStore` part, ms. */
  readonly storeOpenMs: number;
}

export interface StartupFoldResult {
  readonly events: number;
  /** Best of the timed full folds (no snapshot in the file), seconds. */
  readonly foldSeconds: number;
  readonly eventsPerSecond: number;
  /**
   * Replay rate: rebuilding the projection from the log alone, which is
   * exactly the full fold, so the same figure as `eventsPerSecond`.
   */
  readonly replayEventsPerSecond: number;
  readonly foldSecondsEach: readonly number[];
  readonly storeOpenMs: number;
  readonly writeSeconds: number;
  readonly writeEventsPerSecond: number;
  readonly dbBytes: number;
  /** Writing one snapshot at the head of the log (`LedgerService.snapshot()`). */
  readonly snapshotWrite: {
    readonly revision: number;
    readonly seconds: number;
    /** `sum(length(state))` over its snapshot_states rows. */
    readonly stateBytes: number;
    readonly rows: number;
    /** Growth of the database file (main file + WAL) from writing it. */
    readonly fileGrowthBytes: number;
  };
  readonly startupWithSnapshot: SnapshotStartup;
  readonly startupWithSnapshotAndTail: SnapshotStartup;
  readonly conditions: {
    readonly sessions: number;
    readonly variablesPerSession: number;
    readonly registrationEvents: number;
    readonly setEvents: number;
    readonly writeBatch: number;
    readonly foldRepetitions: number;
    readonly snapshotRepetitions: number;
    readonly tailEvents: number;
    readonly durability: 'normal';
  };
}

const SESSIONS = 100;
const VARIABLES_PER_SESSION = 10;
const WRITE_BATCH = 50_000;
const FOLD_REPETITIONS = 2;
const MAX_SECONDS_FOR_REPEAT = 15;
/** Start-ups timed from a snapshot (each is well under a second). */
const SNAPSHOT_REPETITIONS = 3;
/** Events appended after the snapshot for the tail case (under the default snapshotEvery, 10,000). */
const TAIL_EVENTS = 5_000;
const BASE_TIME = Date.UTC(2026, 0, 1);

export function foldEventCount(): number {
  const raw = process.env.BENCH_FOLD_EVENTS ?? '1000000';
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1 + VARIABLES_PER_SESSION) {
    throw new Error(`BENCH_FOLD_EVENTS must be an integer ≥ ${1 + VARIABLES_PER_SESSION}, not ${raw}`);
  }
  return n;
}

interface FoldVariable {
  readonly sessionId: SessionId;
  readonly variableId: VariableId;
  readonly name: string;
}

const sessionIdsFor = (sessions: number): SessionId[] =>
  Array.from({ length: sessions }, (_, s) => `fold-${String(s).padStart(3, '0')}` as SessionId);

/** Every variable, in registration order (set i goes to variable i mod their count). */
function variablesFor(sessions: number): FoldVariable[] {
  return sessionIdsFor(sessions).flatMap((sessionId) =>
    Array.from({ length: VARIABLES_PER_SESSION }, (_, v) => ({ sessionId, variableId: `var_v${v}_${sessionId}` as VariableId, name: `v${v}` })),
  );
}

/**
 * Set events `first … first+count-1` of the round-robin: set i writes
 * version ⌊i / variables⌋ + 1 of variable i mod variables, so a later range
 * (the tail) continues the log without replaying the earlier ones.
 */
function* setEvents(variables: readonly FoldVariable[], first: number, count: number): Generator<NewEvent> {
  // Event times run on by 1 ms per event: sessions, registrations, then sets.
  const timeOfFirstSet = BASE_TIME + variables.length / VARIABLES_PER_SESSION + variables.length;
  for (let i = first; i < first + count; i++) {
    const variable = variables[i % variables.length] as FoldVariable;
    yield {
      kind: 'variable_set',
      sessionId: variable.sessionId,
      time: timeOfFirstSet + i,
      actor: 'bench',
      variableId: variable.variableId,
      version: (Math.floor(i / variables.length) + 1) as Version,
      value: { kind: 'float', value: i * 0.5 },
      metadata: {},
    };
  }
}

/** Yields the log to write, in order: sessions, registrations, then sets. */
function* eventsToWrite(total: number, sessions: number): Generator<NewEvent> {
  const actor = 'bench';
  let time = BASE_TIME;
  const sessionIds = sessionIdsFor(sessions);
  const variables = variablesFor(sessions);
  for (const sessionId of sessionIds) {
    yield { kind: 'session_created', sessionId, time: time++, actor, metadata: {}, ttlSeconds: 3600 };
  }
  for (const { sessionId, variableId, name } of variables) {
    yield {
      kind: 'variable_registered',
      sessionId,
      time: time++,
      actor,
      variableId,
      version: 0 as Version,
      name,
      type: 'float',
      value: { kind: 'float', value: 0 },
      constraints: { min: -1e9, max: 1e9 },
      metadata: {},
      description: '',
    };
  }
  yield* setEvents(variables, 0, total - sessions - variables.length);
}

function appendInBatches(store: SqliteEventStore, events: Iterable<NewEvent>): void {
  let batch: NewEvent[] = [];
  const flush = () => {
    const toWrite = batch;
    store.write((tx) => tx.append(toWrite));
    batch = [];
  };
  for (const event of events) {
    batch.push(event);
    if (batch.length >= WRITE_BATCH) flush();
  }
  if (batch.length > 0) flush();
}

/** Writes the fold log to a fresh file at `path` (exported for profiling). */
export function writeLog(path: string, total: number, sessions: number): void {
  const store = new SqliteEventStore(path);
  try {
    appendInBatches(store, eventsToWrite(total, sessions));
    if (store.head() !== total) throw new Error(`wrote ${store.head()} events, expected ${total}`);
  } finally {
    store.close();
  }
}

const newService = (store: SqliteEventStore): Promise<LedgerService> =>
  LedgerService.open({ store: new SqliteLog(store, { pollMs: 0 }), clock: systemClock, newIdSuffix: randomSuffix, newSessionId: randomSessionId });

/** Main file + WAL: a snapshot lands in the WAL until a checkpoint. */
function fileBytes(path: string): number {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return size(path) + size(`${path}-wal`);
}

/** Let the event loop breathe (and the GC settle) between the heavy phases. */
const breathe = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Times start-up on `path` (store open + `new LedgerService`), `repetitions`
 * times, checking each folds to `head` with `sessions` sessions. Only the
 * store is closed afterwards — `service.close()` may write a snapshot and
 * change what the next repetition measures. `check` runs on the freshly
 * opened store, untimed, before the service is built.
 */
async function timeStartups(
  path: string,
  repetitions: number,
  head: number,
  sessions: number,
  check: (store: SqliteEventStore) => void,
  maxSecondsForRepeat = Number.POSITIVE_INFINITY,
): Promise<{ openMs: number[]; serviceSeconds: number[] }> {
  const openMs: number[] = [];
  const serviceSeconds: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    // A very slow first run is figure enough; keep `npm run bench` short.
    if (r > 0 && (serviceSeconds[0] ?? 0) > maxSecondsForRepeat) break;
    await breathe();
    const openStart = performance.now();
    const store = new SqliteEventStore(path);
    openMs.push(since(openStart));
    try {
      check(store);
      const serviceStart = performance.now();
      const service = await newService(store);
      serviceSeconds.push(since(serviceStart) / 1000);
      if (service.head !== head) throw new Error(`folded to head ${service.head}, expected ${head}`);
      const listed = (await service.listSessions(1000, '')).sessions;
      if (listed.length !== sessions) throw new Error(`folded ${listed.length} sessions, expected ${sessions}`);
    } finally {
      store.close();
    }
  }
  return { openMs, serviceSeconds };
}

function snapshotStartup(events: number, tailEvents: number, timed: { openMs: number[]; serviceSeconds: number[] }): SnapshotStartup {
  const each = timed.serviceSeconds.map((s, r) => s + (timed.openMs[r] ?? 0) / 1000);
  const best = each.indexOf(Math.min(...each));
  return {
    events,
    tailEvents,
    startupSeconds: round(each[best] ?? Number.NaN, 3),
    startupSecondsEach: each.map((s) => round(s, 3)),
    storeOpenMs: round(timed.openMs[best] ?? Number.NaN, 1),
  };
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

    // 1. Full fold: no snapshot in the file, every repetition.
    const full = await timeStartups(
      path,
      FOLD_REPETITIONS,
      total,
      sessions,
      (store) => {
        const snapshots = store.snapshots.list().length;
        if (snapshots > 0) throw new Error(`full fold: the file holds ${snapshots} snapshot(s); the fold would start from one`);
      },
      MAX_SECONDS_FOR_REPEAT,
    );
    const foldSecondsEach = full.serviceSeconds;
    const foldSeconds = Math.min(...foldSecondsEach);

    // 2. One snapshot at the head (the fold to build it is not timed), then start-up from it.
    await breathe();
    const bytesBefore = fileBytes(path);
    const snapshotStore = new SqliteEventStore(path);
    let snapshotWriteSeconds: number;
    let stateBytes: number;
    let snapshotRows: number;
    try {
      // What `LedgerService.snapshot()` does, done directly: a service that
      // has written nothing since start-up counts its start-up head as
      // snapshotted (`lastSnapshotRevision = head` in its constructor), so on
      // a freshly folded service `snapshot()` (and `close()`) write nothing.
      const projection = await Projection.load(new SqliteLog(snapshotStore, { pollMs: 0 }));
      if (projection.head !== total) throw new Error(`snapshot: folded to ${projection.head}, expected ${total}`);
      const snapshotStart = performance.now();
      if (snapshotStore.snapshots.write({ revision: projection.head, basis: 0 as Revision, changed: projection.sessions(), now: systemClock.now() }) !== 'written') {
        throw new Error('snapshot: a snapshot at the head exists already');
      }
      snapshotWriteSeconds = since(snapshotStart) / 1000;
      const row = snapshotStore.db
        .prepare<[], { bytes: number | null; rows: number }>('SELECT sum(length(state)) AS bytes, count(*) AS rows FROM snapshot_states')
        .get();
      stateBytes = row?.bytes ?? 0;
      snapshotRows = row?.rows ?? 0;
    } finally {
      snapshotStore.close();
    }
    const fileGrowthBytes = fileBytes(path) - bytesBefore;
    const snapshotAt = (head: number) => (store: SqliteEventStore) => {
      const revisions = store.snapshots.list().map((info) => info.revision);
      if (revisions.length !== 1 || revisions[0] !== total) {
        throw new Error(`start-up at ${head}: expected one snapshot at ${total}, found [${revisions.join(', ')}]`);
      }
    };
    const withSnapshot = await timeStartups(path, SNAPSHOT_REPETITIONS, total, sessions, snapshotAt(total));

    // 3. The same snapshot plus a tail of later sets.
    const tailStore = new SqliteEventStore(path);
    try {
      appendInBatches(tailStore, setEvents(variablesFor(sessions), total - sessions * (1 + VARIABLES_PER_SESSION), TAIL_EVENTS));
      if (tailStore.head() !== total + TAIL_EVENTS) throw new Error(`tail: head ${tailStore.head()}, expected ${total + TAIL_EVENTS}`);
    } finally {
      tailStore.close();
    }
    const withTail = await timeStartups(path, SNAPSHOT_REPETITIONS, total + TAIL_EVENTS, sessions, snapshotAt(total + TAIL_EVENTS));

    return {
      events: total,
      foldSeconds: round(foldSeconds, 3),
      eventsPerSecond: round(total / foldSeconds, 0),
      replayEventsPerSecond: round(total / foldSeconds, 0),
      foldSecondsEach: foldSecondsEach.map((s) => round(s, 3)),
      storeOpenMs: round(Math.min(...full.openMs), 1),
      writeSeconds: round(writeSeconds, 2),
      writeEventsPerSecond: round(total / writeSeconds, 0),
      dbBytes,
      snapshotWrite: {
        revision: total,
        seconds: round(snapshotWriteSeconds, 3),
        stateBytes,
        rows: snapshotRows,
        fileGrowthBytes,
      },
      startupWithSnapshot: snapshotStartup(total, 0, withSnapshot),
      startupWithSnapshotAndTail: snapshotStartup(total + TAIL_EVENTS, TAIL_EVENTS, withTail),
      conditions: {
        sessions,
        variablesPerSession: VARIABLES_PER_SESSION,
        registrationEvents: sessions * (1 + VARIABLES_PER_SESSION),
        setEvents: total - sessions * (1 + VARIABLES_PER_SESSION),
        writeBatch: WRITE_BATCH,
        foldRepetitions: foldSecondsEach.length,
        snapshotRepetitions: SNAPSHOT_REPETITIONS,
        tailEvents: TAIL_EVENTS,
        durability: 'normal',
      },
    };
  } finally {
    tmp.remove();
  }
}
