/** A progress bar on stderr, only when stderr is a terminal (never in logs or pipes). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number): void;
  stop(): void;
}

const NONE: Progress = { update: () => {}, stop: () => {} };

/** Redraws at most this many times over a run: cheap enough for a million-event fold. */
const STEPS = 1_000;

/** A bar counting `unit`s (events, bytes) up to `total`; does nothing unless stderr is a terminal. */
export function progressBar(label: string, total: number, unit = 'events'): Progress {
  if (!process.stderr.isTTY || total === 0) return NONE;
  const STEP = Math.max(1, Math.floor(total / STEPS));
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let shown = 0;
  let stopped = false;
  return {
    update(value) {
      if (value - shown >= STEP || value === total) {
        shown = value;
        bar.update(value);
      }
    },
    stop() {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}
