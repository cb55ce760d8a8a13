/**
 * Request bodies that do not decode, on every service of the port, answer
 * INVALID_ARGUMENT (never INTERNAL "Error deserializing request") and change
 * nothing; request headers over the limit answer RESOURCE_EXHAUSTED.
 */
import { connect } from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { metadataSize } from '../../src/server/request-guard.js';
import { Digest } from '../../src/gen/varledger/v1/ledger.js';
import { codeName } from '../helpers/grpc-expect.js';
import { startLedger } from '../helpers/harness.js';
import { RawClient } from '../helpers/raw-call.js';

const GARBAGE = Buffer.from([0xff, 0xff, 0xff]);
const HEALTH = '/grpc.health.v1.Health/Check';

/** 10,000 nested start-group tags of an unknown field (15), each closed again. */
function nestedGroups(depth: number): Buffer {
  return Buffer.concat([Buffer.alloc(depth, (15 << 3) | 3), Buffer.alloc(depth, (15 << 3) | 4)]);
}

async function setup(t: ExecutionContext) {
  const ledger = await startLedger();
  const raw = new RawClient(ledger.address);
  t.teardown(async () => {
    raw.close();
    await ledger.stop();
  });
  const head = async () => {
    const reply = await raw.unary('/varledger.v1.Ledger/GetDigest', Buffer.alloc(0));
    return Digest.decode(reply.body ?? Buffer.alloc(0)).revision;
  };
  const healthy = async () => (await raw.unary(HEALTH, Buffer.alloc(0))).code === status.OK;
  return { ledger, raw, head, healthy };
}

test('a body that does not decode gets INVALID_ARGUMENT on every service and changes nothing', async (t) => {
  const { ledger, raw, head, healthy } = await setup(t);
  await ledger.rpc.call('createSession', { sessionId: 's1' });
  const before = await head();
  const unary = [
    '/varledger.v1.Ledger/SetVariable',
    '/varledger.v1.Ledger/Commit',
    '/varledger.v1.Ledger/ExecuteTool',
    '/snakepit.bridge.BridgeService/SetVariable',
    '/snakepit.bridge.BridgeService/AddDependency',
    HEALTH,
  ];
  for (const path of unary) {
    const reply = await raw.unary(path, GARBAGE);
    t.is(codeName(reply.code), 'INVALID_ARGUMENT', `${path}: ${reply.details}`);
    t.regex(reply.details, new RegExp(`^Malformed request for ${path}: `));
  }
  const settle = () => raw.unary(HEALTH, Buffer.alloc(0));
  for (const path of ['/varledger.v1.Ledger/WatchVariables', '/snakepit.bridge.BridgeService/WatchVariables', '/varledger.v1.Ledger/ExecuteStreamingTool']) {
    const reply = await raw.serverStream(path, GARBAGE, settle);
    t.is(codeName(reply.code), 'INVALID_ARGUMENT', `${path}: ${reply.details}`);
  }
  for (const path of ['/varledger.v1.Ledger/ServeTools', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo']) {
    const reply = await raw.bidi(path, [GARBAGE], settle);
    t.is(codeName(reply.code), 'INVALID_ARGUMENT', `${path}: ${reply.details}`);
  }
  t.is(await head(), before);
  t.true(await healthy());
});

test('10,000 nested unknown groups get INVALID_ARGUMENT, not a crash', async (t) => {
  const { raw, healthy } = await setup(t);
  const reply = await raw.unary('/varledger.v1.Ledger/GetDigest', nestedGroups(10_000));
  t.is(codeName(reply.code), 'INVALID_ARGUMENT', reply.details);
  t.true(await healthy());
});

test('request headers over 16 KiB get RESOURCE_EXHAUSTED; smaller ones pass', async (t) => {
  const { raw, healthy } = await setup(t);
  const withHeader = (bytes: number) => {
    const metadata = new Metadata();
    metadata.set('x-padding', 'p'.repeat(bytes));
    return metadata;
  };
  const big = await raw.unary(HEALTH, Buffer.alloc(0), { metadata: withHeader(70 * 1024) });
  t.is(codeName(big.code), 'RESOURCE_EXHAUSTED', big.details);
  t.regex(big.details, /^Request metadata is \d+ bytes; the limit is 16384$/);
  const small = await raw.unary(HEALTH, Buffer.alloc(0), { metadata: withHeader(8 * 1024) });
  t.is(codeName(small.code), 'OK', small.details);
  t.true(await healthy());
});

test('binary (-bin) headers count as they travel, base64 with padding', async (t) => {
  const { raw, healthy } = await setup(t);
  const size = async (bytes: number) => {
    const metadata = new Metadata();
    metadata.set('x-blob-bin', Buffer.alloc(bytes, 7));
    const reply = await raw.unary(HEALTH, Buffer.alloc(0), { metadata });
    t.is(codeName(reply.code), 'RESOURCE_EXHAUSTED', reply.details);
    return Number(/^Request metadata is (\d+) bytes/.exec(reply.details)?.[1]);
  };
  const base = await size(12_300); // 16,400 base64 characters
  t.is(await size(12_301), base + 4); // one more byte is one more padded 4-character group
  t.is(await size(12_303), base + 4);
  t.is(await size(12_304), base + 8);
  t.true(await healthy());
});

test('metadataSize equals the size of the header list grpc-js would send for the same metadata', (t) => {
  // The reference: every header as HTTP/2 sees it (binary values re-encoded), name + value + 32.
  const reference = (metadata: Metadata): number => {
    let size = 0;
    for (const [key, value] of Object.entries(metadata.toHttp2Headers())) {
      for (const v of Array.isArray(value) ? value : [value]) size += key.length + String(v).length + 32;
    }
    return size;
  };
  const key = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/).filter((k) => !k.endsWith('-bin'));
  const header = fc.oneof(
    fc.record({ key, values: fc.array(fc.stringMatching(/^[ -~]{0,40}$/), { minLength: 1, maxLength: 3 }) }),
    fc.record({ key: key.map((k) => `${k}-bin`), values: fc.array(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), { minLength: 1, maxLength: 3 }) }),
  );
  fc.assert(
    fc.property(fc.array(header, { maxLength: 8 }), (headers) => {
      const metadata = new Metadata();
      for (const { key: k, values } of headers) for (const v of values) metadata.add(k, v);
      return metadataSize(metadata) === reference(metadata);
    }),
  );
  t.pass();
});

/** Sends one gRPC frame over plain HTTP/2, as a client with a broken framing layer would; answers grpc-status and grpc-message. */
function rawFrame(address: string, path: string, frame: Buffer, headers: Record<string, string> = {}): Promise<{ code: number; details: string }> {
  const session = connect(`http://${address}`);
  return new Promise((resolve, reject) => {
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let received: Record<string, unknown> = {};
    request.on('response', (h) => (received = { ...received, ...h }));
    request.on('trailers', (h) => (received = { ...received, ...h }));
    request.on('data', () => {});
    request.on('end', () => {
      session.close();
      resolve({ code: Number(received['grpc-status']), details: decodeURIComponent(String(received['grpc-message'] ?? '')) });
    });
    request.on('error', reject);
    request.end(frame);
  });
}

const frame = (compressed: boolean, length: number, payload: Buffer) => {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, payload]);
};

test('a body that does not decompress, or a cut-off message, is INVALID_ARGUMENT too', async (t) => {
  const { ledger, healthy } = await setup(t);
  const path = '/varledger.v1.Ledger/GetDigest';
  const gzip = await rawFrame(ledger.address, path, frame(true, 3, Buffer.from([1, 2, 3])), { 'grpc-encoding': 'gzip' });
  t.deepEqual(gzip, { code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: the body does not decompress` });
  const cut = await rawFrame(ledger.address, path, frame(false, 100, Buffer.from([1, 2, 3])));
  t.deepEqual(cut, { code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: no complete request message` });
  const none = await rawFrame(ledger.address, '/snakepit.bridge.BridgeService/Ping', Buffer.alloc(0));
  t.is(none.code, status.INVALID_ARGUMENT, none.details);
  t.true(await healthy());
});

test('a grpc-timeout header that is not a timeout is INVALID_ARGUMENT, on every service', async (t) => {
  const { ledger, healthy } = await setup(t);
  const empty = frame(false, 0, Buffer.alloc(0));
  for (const path of ['/varledger.v1.Ledger/GetDigest', '/snakepit.bridge.BridgeService/Ping', HEALTH]) {
    for (const timeout of ['abc', '1x', '']) {
      const reply = await rawFrame(ledger.address, path, empty, { 'grpc-timeout': timeout });
      t.deepEqual(
        reply,
        { code: status.INVALID_ARGUMENT, details: `Malformed request for ${path}: the grpc-timeout header is not a timeout (digits and one of H M S m u n)` },
        `${path} with grpc-timeout ${JSON.stringify(timeout)}`,
      );
    }
  }
  // A well-formed one still works.
  t.is((await rawFrame(ledger.address, '/varledger.v1.Ledger/GetDigest', empty, { 'grpc-timeout': '5S' })).code, status.OK);
  t.true(await healthy());
});
