/** Reads a WatchVariables stream message by message, as promises (no timers). */
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { WatchResponse } from '../../src/gen/varledger/v1/ledger.js';

export class WatchReader {
  private readonly buffered: WatchResponse[] = [];
  private readonly waiting: { resolve: (m: WatchResponse) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private ended = false;
  /** Resolves when the server ends the stream (cleanly or with an error). */
  readonly done: Promise<ServiceError | undefined>;

  constructor(readonly stream: ClientReadableStream<WatchResponse>) {
    stream.on('data', (message: WatchResponse) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(message);
      else this.buffered.push(message);
    });
    this.done = new Promise((resolve) => {
      stream.on('error', (error: ServiceError) => {
        this.failure = error;
        for (const w of this.waiting.splice(0)) w.reject(error);
        resolve(error);
      });
      stream.on('end', () => {
        this.ended = true;
        for (const w of this.waiting.splice(0)) w.reject(new Error('stream ended'));
        resolve(undefined);
      });
    });
  }

  /** The next message; rejects if the stream fails or ends first. */
  next(): Promise<WatchResponse> {
    const message = this.buffered.shift();
    if (message) return Promise.resolve(message);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error('stream ended'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Collects messages until `count` events (not messages) have arrived. */
  async events(count: number): Promise<WatchResponse['events']> {
    const events: WatchResponse['events'] = [];
    while (events.length < count) events.push(...(await this.next()).events);
    return events;
  }

  cancel(): void {
    this.stream.cancel();
  }
}
