/**
 * Calls any method on the port with a raw request body: what a client with
 * a broken encoder, or an attacker, sends. Answers the status and the raw
 * reply instead of throwing, so tests and fuzzers can look at both.
 */
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';

export interface RawReply {
  readonly code: status;
  readonly details: string;
  readonly body?: Buffer;
}

const identity = (bytes: Buffer): Buffer => bytes;

export class RawClient {
  readonly grpc: Client;

  constructor(address: string) {
    this.grpc = new Client(address, credentials.createInsecure(), {});
  }

  /** A unary call with `body` as the request bytes. */
  unary(path: string, body: Uint8Array, options: { metadata?: Metadata; deadlineMs?: number } = {}): Promise<RawReply> {
    const deadline = Date.now() + (options.deadlineMs ?? 10_000);
    return new Promise((resolve) => {
      this.grpc.makeUnaryRequest(path, identity, identity, Buffer.from(body), options.metadata ?? new Metadata(), { deadline }, (error, reply) =>
        resolve(error ? { code: error.code, details: error.details } : { code: status.OK, details: '', ...(reply && { body: reply }) }),
      );
    });
  }

  /**
   * A server-streaming call: resolves with the status if the stream ends
   * within `settle` (a promise that says the server has had its chance, e.g.
   * a Health round trip after it), else cancels it and answers OK.
   */
  serverStream(path: string, body: Uint8Array, settle: () => Promise<unknown>, deadlineMs = 10_000): Promise<RawReply & { messages: number }> {
    return new Promise((resolve) => {
      let messages = 0;
      let done = false;
      const stream = this.grpc.makeServerStreamRequest(path, identity, identity, Buffer.from(body), new Metadata(), {
        deadline: Date.now() + deadlineMs,
      });
      const finish = (reply: RawReply) => {
        if (done) return;
        done = true;
        resolve({ ...reply, messages });
      };
      stream.on('data', () => messages++);
      stream.on('error', (error: { code: status; details: string }) => finish({ code: error.code, details: error.details }));
      stream.on('end', () => finish({ code: status.OK, details: 'ended' }));
      void settle().then(() => {
        if (done) return;
        finish({ code: status.OK, details: 'open' });
        stream.cancel();
      });
    });
  }

  /** A bidi call that sends `bodies` and half-closes; resolves with the status or, if still open after `settle`, OK. */
  bidi(path: string, bodies: readonly Uint8Array[], settle: () => Promise<unknown>): Promise<RawReply & { messages: number }> {
    return new Promise((resolve) => {
      let messages = 0;
      let done = false;
      const stream = this.grpc.makeBidiStreamRequest(path, identity, identity, new Metadata(), { deadline: Date.now() + 10_000 });
      const finish = (reply: RawReply) => {
        if (done) return;
        done = true;
        resolve({ ...reply, messages });
      };
      stream.on('data', () => messages++);
      stream.on('error', (error: { code: status; details: string }) => finish({ code: error.code, details: error.details }));
      stream.on('end', () => finish({ code: status.OK, details: 'ended' }));
      for (const body of bodies) stream.write(Buffer.from(body));
      void settle().then(() => {
        if (done) return;
        finish({ code: status.OK, details: 'open' });
        stream.cancel();
      });
    });
  }

  close(): void {
    this.grpc.close();
  }
}
