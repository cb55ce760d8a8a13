/**
 * A queue one side pushes into and the other reads as an async iterable:
 * how a worker's answers (arriving as stream messages) reach the caller
 * waiting on a tool call. Unbounded: a call's chunks are bounded by what the
 * worker sends, and the caller reads them as fast as gRPC lets it.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private failure: { error: unknown } | undefined;
  private ended = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    if (this.ended || this.failure) return;
    this.items.push(item);
    this.notify();
  }

  /** No more items; readers finish after the queued ones. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Readers get this error after the queued items. The first failure wins. */
  fail(error: unknown): void {
    if (this.ended || this.failure) return;
    this.failure = { error };
    this.notify();
  }

  get settled(): boolean {
    return this.ended || this.failure !== undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
