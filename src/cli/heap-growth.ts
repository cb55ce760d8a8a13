/**
 * How far V8 lets the old generation grow past the live heap before its next
 * full collection, for `varledger serve` once it has started.
 *
 * V8 chooses that factor itself, up to 4× for a small heap whose collections
 * are quick. A server's live heap is small and steady (live sessions), so
 * under load its RSS grew with garbage V8 saw no reason to collect yet: over
 * 20,000 sessions created and closed, RSS grew 15–48 MiB from run to run
 * while the heap in use after a collection grew 0.4 MiB. With the old
 * generation held to 1.5× the live heap it moved −7 to +4 MiB, and 16-in-flight
 * SetVariable throughput stayed within the run-to-run noise (bench
 * `closed` and `zero` sections, 2026-12-06).
 *
 * Set after start-up, not on the command line: the fold at start builds the
 * live heap from nothing, and a tight factor there means a full collection
 * every few MiB (a 300,000-event fold: 0.76–0.89 s → 0.86–1.15 s). V8 reads
 * the flag at every collection, so setting it late takes effect at once.
 */
import { setFlagsFromString } from 'node:v8';

/** Headroom over the live heap, percent: 50 lets the old generation reach 1.5× what survived the last full collection. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

/** Applies `percent` (0: V8's own choice, left alone). */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
