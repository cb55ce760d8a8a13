/**
 * WatchVariables delivery, over real gRPC on loopback (issue 3, item 10):
 *
 * 1. Latency, set → event: the time from issuing a SetVariable to a watcher
 *    receiving the matching SET event, taken on the client with
 *    process.hrtime.bigint() (the stream's 'data' callback is the receipt).
 *    Sets go one at a time: the next is issued only once the call has
 *    returned and every watcher has its event. Once with 1 watcher, once with
 *    100 watchers on the same variable; for 100 the figure is the LAST of the
 *    100 to receive each event (first and median are reported too).
 * 2. Events/s delivered to one watcher while 16 SetVariable calls are in
 *    flight (the throughput.ts load), counted over a fixed number of writes,
 *    from the first write until the last event arrives.
 * 3. SetVariable calls/s with 16 in flight, with no watchers vs with 100
 *    watchers on every written variable: two sessions on the same server,
 *    rounds alternating between the unwatched and the watched one; the figure
 *    is median(watched) / median(unwatched). After each watched round the
 *    bench waits for all 100 watchers to receive every event (not timed into
 *    calls/s; the drain time is reported).
 *
 * Channels: the writer has its own channel; the single watcher has its own;
 * the 100 watchers are WATCH_CHANNELS channels × STREAMS_PER_CHANNEL streams.
 * Every channel here sets `grpc.use_local_subchannel_pool`, so each is its
 * own HTTP/2 connection (grpc-js otherwise shares one connection between
 * clients with the same target and options). Watchers decode every message
 * (`LedgerRpc.watch`), as a real client would; with the default in-process
 * server that decoding shares the server's event loop, so (3) charges the
 * watchers' client cost to the server too (BENCH_SERVER=child separates them).
 */
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadavg } from 'node:os';
import { LedgerRpc } from '../src/client/ledger-rpc.js';
import { WatchEventKind, type WatchResponse } from '../src/gen/varledger/v1/ledger.js';
import { ACTOR, floatValue, seedFloats } from './ledger-setup.js';
import type { BenchServer } from './server-fixture.js';
import { median, quantile, round, since } from './stats.js';

export interface DeliveryLatency {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export interface WatchDeliveryResult {
  /** Set → event at the one watcher. */
  readonly oneWatcher: DeliveryLatency;
  /** SetVariable call latency (issue → response) in the same 1-watcher samples. */
  readonly oneWatcherSetCall: DeliveryLatency;
  /** Set → event with 100 watchers: at the first, the median and the last of them. */
  readonly manyWatchers: { readonly first: DeliveryLatency; readonly median: DeliveryLatency; readonly last: DeliveryLatency };
  readonly streamRate: {
    readonly eventsPerSecond: number;
    /** Write calls/s of the load during the same run. */
    readonly writesPerSecond: number;
    readonly writes: number;
    readonly eventsReceived: number;
    /** Last event received this long after the last write returned. */
    readonly lastEventLagMs: number;
  };
  readonly fanOut: {
    readonly withoutWatchersCallsPerSecond: number;
    readonly withWatchersCallsPerSecond: number;
    /** withWatchers / withoutWatchers. */
    readonly ratio: number;
    readonly roundsWithoutWatchers: readonly number[];
    readonly roundsWithWatchers: readonly number[];
    /** Per watched round: last event at the last watcher, ms after the last write returned. */
    readonly drainMs: readonly number[];
  };
  readonly conditions: {
    readonly latencySamples: number;
    readonly latencyWarmup: number;
    readonly manyWatchers: number;
    readonly watchChannels: number;
    readonly streamsPerChannel: number;
    readonly concurrency: number;
    readonly streamRateWrites: number;
    readonly fanOutCallsPerRound: number;
    readonly fanOutRounds: number;
    readonly variablesUnderLoad: number;
    readonly loadAverageAtStart: readonly number[];
    /** Wall time of each part, set-up included. */
    readonly partSeconds: { readonly latency: number; readonly streamRate: number; readonly fanOut: number };
  };
}

const LATENCY_SAMPLES = Number(process.env.BENCH_WATCH_SAMPLES ?? 2_000);
const LATENCY_WARMUP = 200;
const MANY = 100;
const WATCH_CHANNELS = 10;
const STREAMS_PER_CHANNEL = MANY / WATCH_CHANNELS;
const CONCURRENCY = 16;
const STREAM_RATE_WRITES = Number(process.env.BENCH_WATCH_WRITES ?? 10_000);
const FANOUT_CALLS = Number(process.env.BENCH_WATCH_FANOUT_CALLS ?? 3_000);
const FANOUT_ROUNDS = 3;
const WARMUP_CALLS = 1_000;
/** Give up on an event that has not arrived after this long (the bench fails instead of hanging). */
const DELIVERY_TIMEOUT_MS = 10_000;
/** Separate HTTP/2 connection per LedgerRpc (see the header). */
const OWN_CONNECTION = { 'grpc.use_local_subchannel_pool': 1 } as const;

/** Watchers opened together; `onEvent(watcher, value, at)` sees each SET event's float value. */
interface WatcherGroup {
  readonly size: number;
  close(): void;
}

type OnSet = (watcher: number, value: number, at: bigint) => void;

/**
 * Opens `channels × perChannel` watch streams on `identifiers` of a session
 * and resolves once every stream has its INITIAL snapshot (so is subscribed).
 */
async function openWatchers(
  address: string,
  sessionId: string,
  identifiers: readonly string[],
  channels: number,
  perChannel: number,
  onSet: OnSet,
): Promise<WatcherGroup> {
  const rpcs = Array.from({ length: channels }, () => new LedgerRpc(address, OWN_CONNECTION));
  const streams: ClientReadableStream<WatchResponse>[] = [];
  let failure: ServiceError | undefined;
  const ready: Promise<void>[] = [];
  for (const rpc of rpcs) {
    for (let s = 0; s < perChannel; s++) {
      const index = streams.length;
      const stream = rpc.watch({ sessionId, identifiers: [...identifiers], includeInitial: true });
      streams.push(stream);
      ready.push(
        new Promise<void>((resolve, reject) => {
          stream.once('data', () => resolve());
          stream.once('error', reject);
        }),
      );
      stream.on('data', (response: WatchResponse) => {
        const at = process.hrtime.bigint();
        for (const event of response.events) {
          const kind = event.variable?.value?.kind;
          if (event.kind === WatchEventKind.WATCH_EVENT_KIND_SET && kind?.$case === 'floatValue') onSet(index, kind.floatValue, at);
        }
      });
      stream.on('error', (error: ServiceError) => {
        if (error.code !== status.CANCELLED) failure ??= error;
      });
    }
  }
  const close = () => {
    for (const stream of streams) stream.cancel();
    for (const rpc of rpcs) rpc.close();
  };
  try {
    await Promise.all(ready);
  } catch (error) {
    close();
    throw error;
  }
  return {
    size: streams.length,
    close() {
      close();
      if (failure) throw failure;
    },
  };
}

/** A promise with its resolver, rejected if not resolved within `ms`. */
function deadlineLatch(ms: number, what: () => string): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch bench: ${what()} after ${ms} ms`)), ms);
    resolve = () => {
      clearTimeout(timer);
      res();
    };
  });
  return { promise, resolve };
}

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

function latencyFigure(ms: readonly number[]): DeliveryLatency {
  return {
    samples: ms.length,
    p50Ms: round(median(ms), 3),
    p99Ms: round(quantile(ms, 0.99), 3),
    meanMs: round(ms.reduce((a, b) => a + b, 0) / ms.length, 3),
    maxMs: round(Math.max(...ms), 3),
  };
}

/** Distinct float values for every write of the section, so each event names its set. */
let tick = 0;

/**
 * Sequential sets on one variable with `watchers` watching it. Returns, per
 * timed sample, the SetVariable call time and the arrival time at each
 * watcher in arrival order (ms after the call was issued).
 */
async function sequentialDelivery(
  rpc: LedgerRpc,
  address: string,
  sessionId: string,
  watchers: { channels: number; perChannel: number },
): Promise<{ setCallMs: number[]; arrivalsMs: number[][] }> {
  const [name] = await seedFloats(rpc, sessionId, 1);
  const identifier = name as string;
  let pending: { value: number; start: bigint; arrivals: number[]; resolve: () => void } | undefined;
  let expected = 0;
  const group = await openWatchers(address, sessionId, [identifier], watchers.channels, watchers.perChannel, (_w, value, at) => {
    if (!pending || value !== pending.value) return;
    pending.arrivals.push(nsToMs(at - pending.start));
    if (pending.arrivals.length === expected) pending.resolve();
  });
  expected = group.size;
  const setCallMs: number[] = [];
  const arrivalsMs: number[][] = [];
  try {
    for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
      const value = ++tick;
      const arrivals: number[] = [];
      const latch = deadlineLatch(DELIVERY_TIMEOUT_MS, () => `set ${value}: ${arrivals.length}/${expected} watchers got the event`);
      const start = process.hrtime.bigint();
      pending = { value, start, arrivals, resolve: latch.resolve };
      const call = rpc.call('setVariable', { sessionId, identifier, value: floatValue(value) }, ACTOR).then(() => process.hrtime.bigint());
      const [returnedAt] = await Promise.all([call, latch.promise]);
      if (i >= LATENCY_WARMUP) {
        setCallMs.push(nsToMs(returnedAt - start));
        arrivalsMs.push(arrivals);
      }
    }
  } finally {
    pending = undefined;
    group.close();
  }
  return { setCallMs, arrivalsMs };
}

/** `calls` SetVariable calls over `names` with one worker per name (as throughput.ts); resolves to the elapsed ms. */
async function writeLoad(rpc: LedgerRpc, sessionId: string, names: readonly string[], calls: number): Promise<number> {
  let issued = 0;
  const worker = async (identifier: string) => {
    while (issued < calls) {
      issued++;
      await rpc.call('setVariable', { sessionId, identifier, value: floatValue(++tick) }, ACTOR);
    }
  };
  const start = performance.now();
  await Promise.all(names.map(worker));
  return since(start);
}

/** Counts SET events per watcher; `until(n)` resolves once every watcher has n. */
class EventCounter {
  readonly counts: number[];
  lastAt = 0n;
  private waiting: { target: number; resolve: () => void } | undefined;

  constructor(size: number) {
    this.counts = new Array<number>(size).fill(0);
  }

  readonly onSet: OnSet = (watcher, _value, at) => {
    this.counts[watcher] = (this.counts[watcher] ?? 0) + 1;
    this.lastAt = at;
    if (this.waiting && this.min() >= this.waiting.target) this.waiting.resolve();
  };

  min(): number {
    return Math.min(...this.counts);
  }

  until(target: number): Promise<void> {
    if (this.min() >= target) return Promise.resolve();
    const latch = deadlineLatch(60_000, () => `watchers at ${this.min()}/${target} events`);
    this.waiting = { target, resolve: latch.resolve };
    return latch.promise.finally(() => (this.waiting = undefined));
  }
}

export async function runWatchDelivery(server: BenchServer): Promise<WatchDeliveryResult> {
  const loadAverageAtStart = loadavg().map((x) => round(x, 2));
  const rpc = new LedgerRpc(server.address, OWN_CONNECTION);
  try {
    let partStart = performance.now();
    const lap = () => {
      const seconds = round(since(partStart) / 1000, 1);
      partStart = performance.now();
      return seconds;
    };
    // 1. Sequential set → event latency.
    const one = await sequentialDelivery(rpc, server.address, 'wd-lat-1', { channels: 1, perChannel: 1 });
    const many = await sequentialDelivery(rpc, server.address, 'wd-lat-100', { channels: WATCH_CHANNELS, perChannel: STREAMS_PER_CHANNEL });
    const pick = (f: (a: number[]) => number) => many.arrivalsMs.map((a) => f(a));
    const latencySeconds = lap();

    // 2. Events/s at one watcher under a 16-in-flight write load.
    const rateNames = await seedFloats(rpc, 'wd-rate', CONCURRENCY);
    const rateCounter = new EventCounter(1);
    const rateWatcher = await openWatchers(server.address, 'wd-rate', rateNames, 1, 1, rateCounter.onSet);
    let streamRate: WatchDeliveryResult['streamRate'];
    try {
      await writeLoad(rpc, 'wd-rate', rateNames, WARMUP_CALLS);
      await rateCounter.until(WARMUP_CALLS);
      rateCounter.counts[0] = 0;
      const start = process.hrtime.bigint();
      const writeMs = await writeLoad(rpc, 'wd-rate', rateNames, STREAM_RATE_WRITES);
      const writesDoneAt = process.hrtime.bigint();
      await rateCounter.until(STREAM_RATE_WRITES);
      const received = rateCounter.counts[0] ?? 0;
      streamRate = {
        eventsPerSecond: round(received / (nsToMs(rateCounter.lastAt - start) / 1000), 0),
        writesPerSecond: round(STREAM_RATE_WRITES / (writeMs / 1000), 0),
        writes: STREAM_RATE_WRITES,
        eventsReceived: received,
        lastEventLagMs: round(Math.max(0, nsToMs(rateCounter.lastAt - writesDoneAt)), 3),
      };
    } finally {
      rateWatcher.close();
    }
    const streamRateSeconds = lap();

    // 3. 16-in-flight SetVariable calls/s, unwatched vs watched by 100.
    const freeNames = await seedFloats(rpc, 'wd-free', CONCURRENCY);
    const fanNames = await seedFloats(rpc, 'wd-fan', CONCURRENCY);
    const fanCounter = new EventCounter(MANY);
    const fanWatchers = await openWatchers(server.address, 'wd-fan', fanNames, WATCH_CHANNELS, STREAMS_PER_CHANNEL, fanCounter.onSet);
    const roundsWithout: number[] = [];
    const roundsWith: number[] = [];
    const drainMs: number[] = [];
    try {
      let delivered = 0;
      const watchedRound = async (calls: number): Promise<number> => {
        const ms = await writeLoad(rpc, 'wd-fan', fanNames, calls);
        const doneAt = process.hrtime.bigint();
        delivered += calls;
        await fanCounter.until(delivered);
        drainMs.push(round(Math.max(0, nsToMs(fanCounter.lastAt - doneAt)), 1));
        return calls / (ms / 1000);
      };
      await writeLoad(rpc, 'wd-free', freeNames, WARMUP_CALLS);
      await watchedRound(WARMUP_CALLS);
      drainMs.length = 0;
      for (let r = 0; r < FANOUT_ROUNDS; r++) {
        roundsWithout.push(round(FANOUT_CALLS / ((await writeLoad(rpc, 'wd-free', freeNames, FANOUT_CALLS)) / 1000), 0));
        roundsWith.push(round(await watchedRound(FANOUT_CALLS), 0));
      }
    } finally {
      fanWatchers.close();
    }
    const fanOutSeconds = lap();
    const withoutWatchers = median(roundsWithout);
    const withWatchers = median(roundsWith);

    return {
      oneWatcher: latencyFigure(one.arrivalsMs.map((a) => a[0] ?? Number.NaN)),
      oneWatcherSetCall: latencyFigure(one.setCallMs),
      manyWatchers: {
        first: latencyFigure(pick((a) => a[0] ?? Number.NaN)),
        median: latencyFigure(pick((a) => median(a))),
        last: latencyFigure(pick((a) => a[a.length - 1] ?? Number.NaN)),
      },
      streamRate,
      fanOut: {
        withoutWatchersCallsPerSecond: round(withoutWatchers, 0),
        withWatchersCallsPerSecond: round(withWatchers, 0),
        ratio: round(withWatchers / withoutWatchers, 3),
        roundsWithoutWatchers: roundsWithout,
        roundsWithWatchers: roundsWith,
        drainMs,
      },
      conditions: {
        latencySamples: LATENCY_SAMPLES,
        latencyWarmup: LATENCY_WARMUP,
        manyWatchers: MANY,
        watchChannels: WATCH_CHANNELS,
        streamsPerChannel: STREAMS_PER_CHANNEL,
        concurrency: CONCURRENCY,
        streamRateWrites: STREAM_RATE_WRITES,
        fanOutCallsPerRound: FANOUT_CALLS,
        fanOutRounds: FANOUT_ROUNDS,
        variablesUnderLoad: CONCURRENCY,
        loadAverageAtStart,
        partSeconds: { latency: latencySeconds, streamRate: streamRateSeconds, fanOut: fanOutSeconds },
      },
    };
  } finally {
    rpc.close();
  }
}
