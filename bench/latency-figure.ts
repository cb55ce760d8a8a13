/** A tinybench task's latency statistics as the figure every latency section reports. */
import type { Task } from 'tinybench';
import { round } from './stats.js';

export interface LatencyFigure {
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly rmePercent: number;
}

/** Reads a finished task's statistics (tinybench reports ms; figures are µs). Throws if it has none. */
export function latencyFigure(task: Task | undefined, taskName: string): LatencyFigure {
  const result = task?.result;
  if (!result || (result.state !== 'completed' && result.state !== 'aborted-with-statistics')) {
    throw new Error(`${taskName}: no statistics (${result?.state ?? 'missing'}${result?.state === 'errored' ? `: ${result.error.message}` : ''})`);
  }
  const l = result.latency;
  const us = (ms: number) => round(ms * 1000);
  return {
    samples: l.samplesCount,
    p50Us: us(l.p50),
    p99Us: us(l.p99),
    meanUs: us(l.mean),
    minUs: us(l.min),
    maxUs: us(l.max),
    rmePercent: round(l.rme, 2),
  };
}
