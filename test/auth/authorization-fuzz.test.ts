/**
 * Hostile `authorization` headers — empty, huge, non-ASCII bytes, repeated,
 * `Bearer` in every spelling, tokens that are nearly right — always answer
 * UNAUTHENTICATED: never INTERNAL, never a pass. Sent over raw HTTP/2, so
 * bytes a gRPC client library would refuse to send reach the server too.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { logVerbosity, setLogVerbosity, status } from '@grpc/grpc-js';
import test from 'ava';
import fc from 'fast-check';
import { GetSessionRequest } from '../../src/gen/varledger/v1/ledger.js';
import { startAuthLedger, TOKENS } from './auth-fixture.js';

/** One gRPC call with raw header values; resolves with its grpc-status. */
function rawCall(session: ClientHttp2Session, path: string, authorization: string | undefined): Promise<number> {
  const body = Buffer.from(GetSessionRequest.encode({ sessionId: 'team-a-1' }).finish());
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
  return new Promise((resolve, reject) => {
    const request = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(authorization !== undefined && { authorization }),
    });
    let code: number | undefined;
    const take = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) code = Number(headers['grpc-status']);
    };
    request.on('response', take);
    request.on('trailers', take);
    request.on('data', () => undefined);
    request.on('end', () => (code === undefined ? reject(new Error('no grpc-status')) : resolve(code)));
    request.on('error', reject);
    request.end(frame);
  });
}

const bearer = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearer:', 'Basic', 'Token', 'Bearer\t', '');
const almost = fc.constantFrom(TOKENS.alice.slice(1), `${TOKENS.alice}x`, TOKENS.alice.toUpperCase(), `${TOKENS.alice}=`, Buffer.from(TOKENS.alice).toString('base64'));
const latin1 = fc.array(fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f), { maxLength: 64 }).map((codes) => String.fromCharCode(...codes));
const header = fc.oneof(
  fc.constant(''),
  latin1,
  fc.tuple(bearer, fc.constantFrom(' ', '  ', ''), fc.oneof(almost, latin1, fc.string({ maxLength: 40 }))).map(([b, space, token]) => `${b}${space}${token}`),
  fc.integer({ min: 1, max: 6000 }).map((n) => `Bearer ${'A'.repeat(n)}`),
  fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
);

// grpc-js drops header values that are not printable ASCII and logs each at ERROR:
// expected here, and the call then has no authorization header at all.
setLogVerbosity(logVerbosity.NONE);

test('hostile authorization headers get UNAUTHENTICATED, never INTERNAL or a pass', async (t) => {
  const ledger = await startAuthLedger(t);
  const session = connect(`http://${ledger.address}`);
  t.teardown(() => session.close());
  const paths = ['/varledger.v1.Ledger/GetSession', '/snakepit.bridge.BridgeService/GetSession'];
  await fc.assert(
    fc.asyncProperty(header, fc.constantFrom(...paths), async (value, path) => {
      const code = await rawCall(session, path, value);
      if (code !== status.UNAUTHENTICATED) throw new Error(`${JSON.stringify(value.slice(0, 80))} on ${path} answered ${status[code]}`);
    }),
    { numRuns: 150, seed: 14 },
  );
  // Repeated headers: grpc-js joins them, so they arrive as one list.
  t.is(await rawCall(session, paths[0]!, `Bearer ${TOKENS.alice}, Bearer ${TOKENS.alice}`), status.UNAUTHENTICATED);
  t.is(await rawCall(session, paths[0]!, undefined), status.UNAUTHENTICATED);
  // The right token gets through the same path: the property is not vacuous.
  t.is(await rawCall(session, paths[0]!, `Bearer ${TOKENS.alice}`), status.NOT_FOUND);
  t.is(Number(ledger.server.service.head), 0);
});
