import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import * as gen from '../../src/gen/varledger/v1/ledger.js';
import { VariableType, type Constraints, type DeepPartial, type Value } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger, type TestLedger } from '../helpers/harness.js';
import { boolValue, expectStatus, floatValue, intValue, stringValue, tensorValue, vectorValue } from '../helpers/grpc-expect.js';

const T = VariableType;

/** What a reader can see of session s1: the head revision and every variable. */
async function snapshot(ledger: TestLedger) {
  const listed = await ledger.rpc.call('listVariables', { sessionId: 's1' });
  return { head: ledger.server.service.head, revision: listed.revision, variables: listed.variables };
}

async function assertUnchanged(t: ExecutionContext, ledger: TestLedger, before: Awaited<ReturnType<typeof snapshot>>) {
  t.deepEqual(await snapshot(ledger), before, 'nothing was written');
}

interface ValueCase {
  readonly title: string;
  readonly type: VariableType;
  readonly constraints?: DeepPartial<Constraints>;
  readonly good: DeepPartial<Value>;
  readonly bad: DeepPartial<Value>;
  readonly message: string | RegExp;
}

const valueCases: readonly ValueCase[] = [
  { title: 'text to integer', type: T.VARIABLE_TYPE_INTEGER, good: intValue(1n), bad: stringValue('abc'), message: 'Cannot convert "abc" to integer' },
  { title: 'fractional float to integer', type: T.VARIABLE_TYPE_INTEGER, good: intValue(1n), bad: floatValue(1.5), message: 'Cannot convert 1.5 to integer' },
  { title: 'float beyond int64 to integer', type: T.VARIABLE_TYPE_INTEGER, good: intValue(1n), bad: floatValue(1e19), message: /^Cannot convert .* to integer$/ },
  { title: 'text beyond int64 to integer', type: T.VARIABLE_TYPE_INTEGER, good: intValue(1n), bad: stringValue('9223372036854775808'), message: 'Cannot convert "9223372036854775808" to integer' },
  { title: 'boolean to float', type: T.VARIABLE_TYPE_FLOAT, good: floatValue(1), bad: boolValue(true), message: 'Cannot convert true to float' },
  { title: 'text to float', type: T.VARIABLE_TYPE_FLOAT, good: floatValue(1), bad: stringValue('abc'), message: 'Cannot convert "abc" to float' },
  { title: 'vector to float', type: T.VARIABLE_TYPE_FLOAT, good: floatValue(1), bad: vectorValue([1]), message: 'Cannot convert vector of 1 to float' },
  { title: 'float above maximum', type: T.VARIABLE_TYPE_FLOAT, constraints: { min: 0, max: 1 }, good: floatValue(0.5), bad: floatValue(1.5), message: 'Value 1.5 is above maximum 1' },
  { title: 'float below minimum', type: T.VARIABLE_TYPE_FLOAT, constraints: { min: 0, max: 1 }, good: floatValue(0.5), bad: floatValue(-0.5), message: 'Value -0.5 is below minimum 0' },
  { title: 'NaN with bounds', type: T.VARIABLE_TYPE_FLOAT, constraints: { max: 1 }, good: floatValue(0.5), bad: floatValue(Number.NaN), message: /NaN/ },
  { title: 'Infinity with bounds', type: T.VARIABLE_TYPE_FLOAT, constraints: { min: 0 }, good: floatValue(0.5), bad: floatValue(Infinity), message: /Infinity/ },
  { title: 'integer above maximum', type: T.VARIABLE_TYPE_INTEGER, constraints: { min: 1, max: 10 }, good: intValue(5n), bad: intValue(11n), message: 'Value 11 is above maximum 10' },
  { title: 'integer below minimum', type: T.VARIABLE_TYPE_INTEGER, constraints: { min: 1, max: 10 }, good: intValue(5n), bad: intValue(0n), message: 'Value 0 is below minimum 1' },
  { title: 'choice not allowed', type: T.VARIABLE_TYPE_CHOICE, constraints: { choices: ['a', 'b'] }, good: stringValue('a'), bad: stringValue('c'), message: /^Value "c" not in allowed choices/ },
  { title: 'module not allowed', type: T.VARIABLE_TYPE_MODULE, constraints: { choices: ['Predict'] }, good: stringValue('Predict'), bad: stringValue('Other'), message: /not in allowed choices/ },
  { title: 'integer to choice', type: T.VARIABLE_TYPE_CHOICE, constraints: { choices: ['1'] }, good: stringValue('1'), bad: intValue(1n), message: 'Cannot convert 1 to choice' },
  { title: 'string too short', type: T.VARIABLE_TYPE_STRING, constraints: { minLength: 3 }, good: stringValue('abc'), bad: stringValue('a'), message: 'String too short: 1 < 3' },
  { title: 'string too long', type: T.VARIABLE_TYPE_STRING, constraints: { maxLength: 3 }, good: stringValue('abc'), bad: stringValue('abcd'), message: 'String too long: 4 > 3' },
  { title: 'string against pattern', type: T.VARIABLE_TYPE_STRING, constraints: { pattern: '[a-z]+' }, good: stringValue('abc'), bad: stringValue('abc1'), message: /does not match pattern/ },
  { title: 'integer to string', type: T.VARIABLE_TYPE_STRING, good: stringValue('x'), bad: intValue(5n), message: 'Cannot convert 5 to string' },
  { title: 'text to boolean', type: T.VARIABLE_TYPE_BOOLEAN, good: boolValue(true), bad: stringValue('yes'), message: 'Cannot convert "yes" to boolean' },
  { title: 'embedding dimensions', type: T.VARIABLE_TYPE_EMBEDDING, constraints: { dimensions: 5 }, good: vectorValue([1, 2, 3, 4, 5]), bad: vectorValue([1, 2]), message: 'Wrong dimensions: 2 != 5' },
  { title: 'embedding with NaN', type: T.VARIABLE_TYPE_EMBEDDING, good: vectorValue([1]), bad: vectorValue([1, Number.NaN]), message: /not a finite number/ },
  { title: 'text to embedding', type: T.VARIABLE_TYPE_EMBEDDING, good: vectorValue([1]), bad: stringValue('[1]'), message: 'Cannot convert "[1]" to embedding' },
  { title: 'tensor shape', type: T.VARIABLE_TYPE_TENSOR, constraints: { shape: [2, 3] }, good: tensorValue([2, 3], [1, 2, 3, 4, 5, 6]), bad: tensorValue([2, 2], [1, 2, 3, 4]), message: 'Wrong shape: [2,2] != [2,3]' },
  { title: 'tensor data/shape mismatch', type: T.VARIABLE_TYPE_TENSOR, good: tensorValue([2], [1, 2]), bad: tensorValue([2, 2], [1, 2, 3]), message: /3 values but shape \[2,2\] needs 4/ },
  { title: 'tensor dtype unknown', type: T.VARIABLE_TYPE_TENSOR, good: tensorValue([1], [1]), bad: tensorValue([1], [1], 'complex128'), message: /Unknown tensor dtype/ },
  { title: 'tensor integer dtype with a fraction', type: T.VARIABLE_TYPE_TENSOR, good: tensorValue([1], [1]), bad: tensorValue([1], [1.5], 'int32'), message: /non-integer/ },
  { title: 'tensor with an empty shape', type: T.VARIABLE_TYPE_TENSOR, good: tensorValue([1], [1]), bad: tensorValue([], []), message: /shape is empty/ },
  { title: 'tensor with Infinity', type: T.VARIABLE_TYPE_TENSOR, good: tensorValue([1], [1]), bad: tensorValue([1], [Infinity]), message: /not a finite number/ },
];

for (const c of valueCases) {
  test(`INVALID_ARGUMENT, nothing written: ${c.title}`, async (t) => {
    const ledger = await startLedger();
    t.teardown(() => ledger.stop());
    const { rpc } = ledger;
    const register = (name: string, initialValue: DeepPartial<Value>) =>
      rpc.call('registerVariable', { sessionId: 's1', name, type: c.type, initialValue, constraints: c.constraints ?? {} });
    await register('v', c.good);
    const before = await snapshot(ledger);
    await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'v', value: c.bad }), status.INVALID_ARGUMENT, c.message);
    await expectStatus(t, register('w', c.bad), status.INVALID_ARGUMENT, c.message);
    await assertUnchanged(t, ledger, before);
    // A register that would also create the session creates nothing.
    await expectStatus(
      t,
      rpc.call('registerVariable', { sessionId: 'fresh', name: 'w', type: c.type, initialValue: c.bad, constraints: c.constraints ?? {} }),
      status.INVALID_ARGUMENT,
      c.message,
    );
    await expectStatus(t, rpc.call('getSession', { sessionId: 'fresh' }), status.NOT_FOUND);
    t.is(ledger.server.service.head, before.head);
  });
}

interface ConstraintCase {
  readonly title: string;
  readonly type: VariableType;
  readonly constraints: DeepPartial<Constraints>;
  readonly value: DeepPartial<Value>;
  readonly message: string | RegExp;
}

const constraintCases: readonly ConstraintCase[] = [
  { title: 'min > max', type: T.VARIABLE_TYPE_FLOAT, constraints: { min: 2, max: 1 }, value: floatValue(1.5), message: /min 2 is greater than max 1/ },
  { title: 'min_length > max_length', type: T.VARIABLE_TYPE_STRING, constraints: { minLength: 5, maxLength: 2 }, value: stringValue('abc'), message: /min_length 5 is greater than max_length 2/ },
  { title: 'choice without choices', type: T.VARIABLE_TYPE_CHOICE, constraints: {}, value: stringValue('a'), message: 'A choice variable needs at least one choice' },
  { title: 'min on a string', type: T.VARIABLE_TYPE_STRING, constraints: { min: 0 }, value: stringValue('a'), message: 'Constraint min does not apply to string variables' },
  { title: 'pattern on an integer', type: T.VARIABLE_TYPE_INTEGER, constraints: { pattern: '\\d+' }, value: intValue(1n), message: 'Constraint pattern does not apply to integer variables' },
  { title: 'choices on a float', type: T.VARIABLE_TYPE_FLOAT, constraints: { choices: ['1'] }, value: floatValue(1), message: 'Constraint choices does not apply to float variables' },
  { title: 'dimensions on a tensor', type: T.VARIABLE_TYPE_TENSOR, constraints: { dimensions: 2 }, value: tensorValue([2], [1, 2]), message: 'Constraint dimensions does not apply to tensor variables' },
  { title: 'shape on an embedding', type: T.VARIABLE_TYPE_EMBEDDING, constraints: { shape: [2] }, value: vectorValue([1, 2]), message: 'Constraint shape does not apply to embedding variables' },
  { title: 'max_length on a boolean', type: T.VARIABLE_TYPE_BOOLEAN, constraints: { maxLength: 2 }, value: boolValue(true), message: 'Constraint max_length does not apply to boolean variables' },
  { title: 'an invalid regular expression', type: T.VARIABLE_TYPE_STRING, constraints: { pattern: '([a-z' }, value: stringValue('a'), message: /not a valid regular expression/ },
  { title: 'zero dimensions', type: T.VARIABLE_TYPE_EMBEDDING, constraints: { dimensions: 0 }, value: vectorValue([]), message: /dimensions must be at least 1/ },
  { title: 'a zero in shape', type: T.VARIABLE_TYPE_TENSOR, constraints: { shape: [2, 0] }, value: tensorValue([2], [1, 2]), message: /empty dimension/ },
];

for (const c of constraintCases) {
  test(`registration refuses a constraint that does not fit: ${c.title}`, async (t) => {
    const ledger = await startLedger();
    t.teardown(() => ledger.stop());
    await ledger.rpc.call('createSession', { sessionId: 's1' });
    const before = await snapshot(ledger);
    await expectStatus(
      t,
      ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'v', type: c.type, initialValue: c.value, constraints: c.constraints }),
      status.INVALID_ARGUMENT,
      c.message,
    );
    await assertUnchanged(t, ledger, before);
  });
}

test('malformed requests are INVALID_ARGUMENT and write nothing', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  const before = await snapshot(ledger);
  const register = (request: DeepPartial<gen.RegisterVariableRequest>) =>
    rpc.call('registerVariable', { sessionId: 's1', name: 'y', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1), ...request });
  const bad = status.INVALID_ARGUMENT;

  await expectStatus(t, register({ initialValue: undefined }), bad, /initial_value is required/);
  await expectStatus(t, register({ initialValue: {} }), bad, /initial_value is required/);
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'x' }), bad, /value is required/);
  await expectStatus(t, register({ type: 99 as VariableType }), bad, 'Unknown variable type 99');
  await expectStatus(t, register({ type: T.VARIABLE_TYPE_UNSPECIFIED }), bad, 'type is required');
  await expectStatus(t, register({ name: '' }), bad, 'name is required');
  await expectStatus(t, register({ name: 'n'.repeat(257) }), bad, /name is longer than 256/);
  await expectStatus(t, register({ name: 'tab\there' }), bad, /name must be valid UTF-8 without control characters/);
  await expectStatus(t, register({ sessionId: '' }), bad, 'session_id is required');
  await expectStatus(t, register({ sessionId: 's'.repeat(129) }), bad, /session_id is longer than 128/);
  await expectStatus(t, rpc.call('getVariable', { sessionId: 's1', identifier: '' }), bad, 'identifier is required');
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: '', value: floatValue(2) }), bad, 'identifier is required');
  await expectStatus(t, rpc.call('createSession', { sessionId: 's2', ttlSeconds: 400 * 24 * 3600 }), bad, /ttl_seconds/);
  await expectStatus(
    t,
    rpc.call('commit', { sessionId: 's1', atomic: true, operations: [{ op: { $case: 'set', set: { identifier: 'x', value: floatValue(2) } } }, {}] }),
    bad,
    /operations\[1\] is empty/,
  );
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2) }, { actor: 'a'.repeat(257) }),
    bad,
    /x-varledger-actor is longer than 256/,
  );
  await assertUnchanged(t, ledger, before);
  // A name of exactly 256 characters is fine.
  const longest = await register({ name: 'n'.repeat(256) });
  t.is(longest.name.length, 256);
});

test('a revision far beyond the head is OUT_OF_RANGE, not a crash', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  await expectStatus(t, ledger.rpc.call('getVariable', { sessionId: 's1', identifier: 'x', atRevision: 2n ** 63n }), status.OUT_OF_RANGE);
});

/** Sends raw bytes as a RegisterVariable request and resolves with the status error. */
function sendRaw(ledger: TestLedger, bytes: Buffer): Promise<gen.Variable> {
  return new Promise((resolve, reject) => {
    ledger.rpc.grpc.makeUnaryRequest(
      gen.LedgerService.registerVariable.path,
      (b: Buffer) => b,
      (b: Buffer) => gen.Variable.decode(b),
      bytes,
      new Metadata(),
      {},
      (error: ServiceError | null, reply?: gen.Variable) => (error || !reply ? reject(error) : resolve(reply)),
    );
  });
}

/** Encodes a RegisterVariableRequest, then overwrites the first byte of `marker` with 0xff. */
function withInvalidUtf8(request: DeepPartial<gen.RegisterVariableRequest>, marker: string): Buffer {
  const bytes = Buffer.from(gen.RegisterVariableRequest.encode(gen.RegisterVariableRequest.fromPartial(request)).finish());
  const at = bytes.indexOf(Buffer.from(marker, 'utf8'));
  if (at < 0) throw new Error('marker not found in the encoded request');
  bytes[at] = 0xff;
  return bytes;
}

test('invalid UTF-8 on the wire in a name, a session id or a string value is INVALID_ARGUMENT', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  await ledger.rpc.call('createSession', { sessionId: 's1' });
  const before = await snapshot(ledger);
  const base = { sessionId: 's1', name: 'ok', type: T.VARIABLE_TYPE_STRING, initialValue: stringValue('fine') };
  // Sanity: the raw path works for a clean request.
  const clean = await sendRaw(ledger, Buffer.from(gen.RegisterVariableRequest.encode(gen.RegisterVariableRequest.fromPartial({ ...base, name: 'clean' })).finish()));
  t.is(clean.name, 'clean');
  const afterClean = await snapshot(ledger);

  await expectStatus(t, sendRaw(ledger, withInvalidUtf8({ ...base, name: 'zzzz' }, 'zzzz')), status.INVALID_ARGUMENT, /not valid UTF-8/);
  await expectStatus(
    t,
    sendRaw(ledger, withInvalidUtf8({ ...base, sessionId: 'qqqq' }, 'qqqq')),
    status.INVALID_ARGUMENT,
    /not valid UTF-8/,
  );
  await expectStatus(
    t,
    sendRaw(ledger, withInvalidUtf8({ ...base, initialValue: stringValue('vvvv') }, 'vvvv')),
    status.INVALID_ARGUMENT,
    /UTF-8/,
  );
  t.not(afterClean.head, before.head);
  await assertUnchanged(t, ledger, afterClean);
  await expectStatus(t, ledger.rpc.call('getSession', { sessionId: '\ufffdqqq' }), status.INVALID_ARGUMENT);
});

test('metadata over 64 KiB or 256 entries is RESOURCE_EXHAUSTED and writes nothing', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'x', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1) });
  const before = await snapshot(ledger);
  const huge = { blob: 'm'.repeat(64 * 1024 + 1) };
  const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, 'v']));
  const full = status.RESOURCE_EXHAUSTED;
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2), metadata: huge }), full, /metadata is \d+ bytes; the limit is 65536/);
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2), metadata: many }), full, /257 entries/);
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'y', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1), metadata: huge }),
    full,
  );
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'y', type: T.VARIABLE_TYPE_FLOAT, initialValue: floatValue(1), description: 'd'.repeat(16 * 1024 + 1) }),
    full,
    /description/,
  );
  await expectStatus(t, rpc.call('deleteVariable', { sessionId: 's1', identifier: 'x', metadata: huge }), full);
  await expectStatus(t, rpc.call('createSession', { sessionId: 's2', metadata: huge }), full, /session metadata/);
  await expectStatus(
    t,
    rpc.call('commit', { sessionId: 's1', atomic: true, metadata: huge, operations: [{ op: { $case: 'set', set: { identifier: 'x', value: floatValue(2) } } }] }),
    full,
  );
  // Non-atomic: the shared metadata joins every operation, so each one fails on its own.
  const partial = await rpc.call('commit', {
    sessionId: 's1',
    atomic: false,
    metadata: huge,
    operations: [{ op: { $case: 'set', set: { identifier: 'x', value: floatValue(2) } } }],
  });
  t.is(partial.revision, 0n);
  t.deepEqual(
    partial.results.map((r) => [r.ok, r.errorCode]),
    [[false, 'RESOURCE_EXHAUSTED']],
  );
  await assertUnchanged(t, ledger, before);
  await expectStatus(t, rpc.call('getSession', { sessionId: 's2' }), status.NOT_FOUND);
  // Exactly at the limit is accepted.
  const atLimit = await rpc.call('setVariable', { sessionId: 's1', identifier: 'x', value: floatValue(2), metadata: { b: 'm'.repeat(64 * 1024 - 1) } });
  t.is(atLimit.version, 1n);
});

test('a request larger than maxMessageBytes is RESOURCE_EXHAUSTED; the server keeps serving', async (t) => {
  const ledger = await startLedger({ maxMessageBytes: 64 * 1024 });
  t.teardown(() => ledger.stop());
  const { rpc } = ledger;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'small', type: T.VARIABLE_TYPE_EMBEDDING, initialValue: vectorValue([1, 2, 3]) });
  const before = await snapshot(ledger);
  const big = vectorValue(Array.from({ length: 10_000 }, (_, i) => i / 7));
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'big', type: T.VARIABLE_TYPE_EMBEDDING, initialValue: big }),
    status.RESOURCE_EXHAUSTED,
  );
  await expectStatus(t, rpc.call('setVariable', { sessionId: 's1', identifier: 'small', value: big }), status.RESOURCE_EXHAUSTED);
  await assertUnchanged(t, ledger, before);
  const fine = await rpc.call('setVariable', { sessionId: 's1', identifier: 'small', value: vectorValue([4, 5, 6]) });
  t.is(fine.version, 1n);
});
