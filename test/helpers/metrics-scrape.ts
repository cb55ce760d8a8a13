/**
 * Scrapes a server's `/metrics` over real HTTP, as Prometheus does, and
 * reads samples out of the exposition text.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

export class Scrape {
  constructor(
    readonly text: string,
    readonly samples: readonly Sample[],
  ) {}

  /** The sum of the samples of `name` whose labels include `labels`; 0 when there are none (a counter not yet touched). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  }

  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }
}

export async function scrape(port: number, host = '127.0.0.1'): Promise<Scrape> {
  const response = await fetch(`http://${host}:${port}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  return new Scrape(text, parseExposition(text));
}

/**
 * Scrapes until `holds` is true of a scrape (the server has processed
 * something the client cannot see finish, such as a cancelled stream);
 * each try is a full HTTP round trip, never a timer. Fails after `tries`.
 */
export async function scrapeUntil(port: number, holds: (scrape: Scrape) => boolean, tries = 500): Promise<Scrape> {
  let last: Scrape | undefined;
  for (let i = 0; i < tries; i++) {
    last = await scrape(port);
    if (holds(last)) return last;
  }
  throw new Error(`the metrics never showed what was expected; last scrape:\n${last?.text ?? ''}`);
}
