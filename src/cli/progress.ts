/** A progress bar on stderr, only when stderr is a terminal (never in logs or pipes). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number): void;
  stop(): void;
}

const NONE: Progress = { update: () => {}, stop: () => {} };

/** Redraws at most every this many events: cheap enough for a million-event fold. */
const STEP = 1_000;

export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY || total === 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} events | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let shown = 0;
  return {
    update(value) {
      if (value - shown >= STEP || value === total) {
        shown = value;
        bar.update(value);
      }
    },
    stop: () => bar.stop(),
  };
}
