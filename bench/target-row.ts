/** One row of the bench's figure-vs-target table, and the number format every row uses. */

export interface TargetRow {
  readonly benchmark: string;
  readonly measured: string;
  readonly target: string;
  /** null when the figure is informational (no target). */
  readonly met: boolean | null;
}

/** A number with thousands separators and exactly `digits` decimals. */
export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
