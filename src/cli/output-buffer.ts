/**
 * Batches small writes to a stream and waits for it to drain when it is
 * full, so a command printing millions of lines into a slow pipe holds a
 * bounded amount in memory instead of queueing everything.
 */
import { once } from 'node:events';

/** Characters gathered before one write to the stream. */
const CHUNK = 64 * 1024;

export class OutputBuffer {
  private pending = '';

  constructor(private readonly stream: NodeJS.WritableStream) {}

  /** Resolves at once unless a full chunk met back-pressure. */
  async write(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}
