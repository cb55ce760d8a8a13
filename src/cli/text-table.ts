/**
 * Plain-text tables written a row at a time. Column widths are fixed before
 * the first row (from a sample of rows, capped), so a table of any length
 * streams in constant memory and linear time; a cell wider than its column
 * is cut with `…` (the last column never is). `--json` keeps every byte.
 */
import stringWidth from 'string-width';

export interface Column {
  readonly title: string;
  /** Widest this column may grow; wider cells are cut. Default: no limit. */
  readonly max?: number;
}

const GAP = '  ';

/** Printable ASCII: one column per character (nearly every cell; string-width is much slower). */
const ASCII = /^[\x20-\x7e]*$/;

/** Display width (wide and combining characters counted as a terminal shows them). */
const widthOf = (text: string): number => (ASCII.test(text) ? text.length : stringWidth(text));

function fit(text: string, width: number, last: boolean): string {
  const w = widthOf(text);
  if (w <= width) return last ? text : text + ' '.repeat(width - w);
  // Cut by code points until it fits with the ellipsis.
  let cut = '';
  for (const ch of text) {
    if (widthOf(cut + ch) > width - 1) break;
    cut += ch;
  }
  return `${cut}…${' '.repeat(Math.max(0, width - 1 - widthOf(cut)))}`;
}

export class TextTable {
  private readonly widths: number[];

  /** Widths fit the titles and the sample rows, within each column's `max`. */
  constructor(
    private readonly columns: readonly Column[],
    sample: Iterable<readonly string[]> = [],
    private readonly style: { header: (s: string) => string; rule: (s: string) => string } = { header: (s) => s, rule: (s) => s },
  ) {
    this.widths = columns.map((c) => widthOf(c.title));
    for (const row of sample) {
      row.forEach((cell, i) => {
        const max = columns[i]?.max ?? Infinity;
        this.widths[i] = Math.min(max, Math.max(this.widths[i] ?? 0, widthOf(cell)));
      });
    }
  }

  /** The title line and a rule under it. */
  header(): string {
    const titles = this.line(this.columns.map((c) => c.title));
    const rule = this.widths.map((w) => '─'.repeat(w)).join(GAP);
    return `${this.style.header(titles)}\n${this.style.rule(rule)}\n`;
  }

  /** One row, newline-terminated, trailing spaces trimmed. */
  row(cells: readonly string[]): string {
    return `${this.line(cells)}\n`;
  }

  private line(cells: readonly string[]): string {
    const last = this.columns.length - 1;
    return this.columns
      .map((_, i) => fit(cells[i] ?? '', this.widths[i] ?? 0, i === last))
      .join(GAP)
      .trimEnd();
  }
}
