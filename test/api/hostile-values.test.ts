/**
 * The attacks of issue 11 against a real server: tensor shapes that used to
 * exhaust memory or break the bridge, ReDoS constraint patterns, and globs
 * that backtracked for minutes. Each gets a clear INVALID_ARGUMENT (or a
 * right answer) while other clients keep being served.
 */
import { status } from '@grpc/grpc-js';
import test from 'ava';
import { VariableType } from '../../src/gen/varledger/v1/ledger.js';
import type { VariableUpdate } from '../../src/gen/snakepit/bridge/snakepit_bridge.js';
import { expectStatus, intValue, stringValue, tensorValue } from '../helpers/grpc-expect.js';
import { anyJson, anyOf, startBridge, StreamReader } from '../compat/bridge/bridge-client.js';

const T = VariableType;

test('tensor shapes beyond the rule are refused on every way in; the server stays up', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const { rpc, bridge } = s;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'ok', type: T.VARIABLE_TYPE_TENSOR, initialValue: tensorValue([1], [1]) });
  const head = s.server.service.head;
  const register = (name: string, shape: number[], data: number[] = []) =>
    rpc.call('registerVariable', { sessionId: 's1', name, type: T.VARIABLE_TYPE_TENSOR, initialValue: tensorValue(shape, data) });
  await expectStatus(t, register('huge', [4294967295, 0]), status.INVALID_ARGUMENT, 'Tensor shape [4294967295,0] must hold whole sizes from 0 to 1048576');
  await expectStatus(t, register('big', [1e7, 0]), status.INVALID_ARGUMENT, /Tensor shape \[10000000,0\]/);
  await expectStatus(t, register('deep', Array<number>(33).fill(1), [1]), status.INVALID_ARGUMENT, 'Tensor shape has 33 dimensions; the limit is 32');
  await expectStatus(
    t,
    rpc.call('setVariable', { sessionId: 's1', identifier: 'ok', value: tensorValue([4294967295, 0], []) }),
    status.INVALID_ARGUMENT,
    /Tensor shape/,
  );
  await expectStatus(
    t,
    rpc.call('commit', { sessionId: 's1', atomic: true, operations: [{ op: { $case: 'set', set: { identifier: 'ok', value: tensorValue([2 ** 20, 0], []) } } }] }),
    status.INVALID_ARGUMENT,
    /Tensor shape/,
  );
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'c', type: T.VARIABLE_TYPE_TENSOR, initialValue: tensorValue([1], [1]), constraints: { shape: Array<number>(33).fill(1) } }),
    status.INVALID_ARGUMENT,
    'Constraint shape has 33 dimensions; the limit is 32',
  );
  // Through the bridge: nested JSON 33 lists deep, and a declared shape beyond the rule.
  let deep: unknown = [1];
  for (let i = 0; i < 32; i++) deep = [deep];
  await expectStatus(t, bridge.call('registerVariable', { sessionId: 's1', name: 'bd', type: 'tensor', initialValue: anyOf('tensor', deep) }), status.INVALID_ARGUMENT);
  await expectStatus(
    t,
    bridge.call('registerVariable', { sessionId: 's1', name: 'bs', type: 'tensor', initialValue: anyOf('tensor', { shape: [4294967295, 0], data: [] }) }),
    status.INVALID_ARGUMENT,
  );
  t.is(s.server.service.head, head, 'nothing was written');
  t.deepEqual(anyJson((await bridge.call('getVariable', { sessionId: 's1', variableIdentifier: 'ok' })).variable?.value), { shape: [1], data: [1] });
});

test('a 32-dimensional tensor, the deepest allowed, reads through every bridge RPC', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const shape = Array<number>(32).fill(1);
  await s.rpc.call('registerVariable', { sessionId: 's1', name: 'd', type: T.VARIABLE_TYPE_TENSOR, initialValue: tensorValue(shape, [7]) });
  let nested: unknown = 7;
  for (let i = 0; i < 32; i++) nested = [nested];
  const expected = { shape, data: nested };
  t.deepEqual(anyJson((await s.bridge.call('getVariable', { sessionId: 's1', variableIdentifier: 'd' })).variable?.value), expected);
  t.deepEqual(anyJson((await s.bridge.call('listVariables', { sessionId: 's1' })).variables[0]?.value), expected);
  t.deepEqual(anyJson((await s.bridge.call('initializeSession', { sessionId: 's1' })).initialVariables['d']?.value), expected);
  t.deepEqual(anyJson((await s.bridge.call('getVariableHistory', { sessionId: 's1', variableIdentifier: 'd' })).entries[0]?.value), expected);
  const reader = new StreamReader<VariableUpdate>(s.bridge.stream('watchVariables', { sessionId: 's1', includeInitialValues: true }));
  t.teardown(() => reader.stream.cancel());
  const [initial] = await reader.next();
  t.deepEqual(anyJson(initial?.variable?.value), expected);
});

test('a ReDoS pattern answers the hostile write with INVALID_ARGUMENT while another client is served', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const { rpc } = s;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'other', type: T.VARIABLE_TYPE_INTEGER, initialValue: intValue(1n) });
  const hostile = `${'a'.repeat(30)}!`;
  // A deadline turns a stalled server into a failure instead of a slow pass.
  for (const pattern of ['(a+)+$', '(a|aa)+$']) {
    const name = `s${pattern.length}${pattern.includes('|') ? 'alt' : 'plus'}`;
    await rpc.call('registerVariable', { sessionId: 's1', name, type: T.VARIABLE_TYPE_STRING, initialValue: stringValue('aaa'), constraints: { pattern } });
    const [write, read] = await Promise.allSettled([
      rpc.call('setVariable', { sessionId: 's1', identifier: name, value: stringValue(hostile) }, { deadline: new Date(Date.now() + 5000) }),
      rpc.call('getVariable', { sessionId: 's1', identifier: 'other' }, { deadline: new Date(Date.now() + 5000) }),
    ]);
    t.is(write.status, 'rejected');
    if (write.status === 'rejected') {
      t.is((write.reason as { code: status }).code, status.INVALID_ARGUMENT);
      t.regex((write.reason as { details: string }).details, /does not match pattern/);
    }
    t.is(read.status, 'fulfilled');
    const ok = await rpc.call('setVariable', { sessionId: 's1', identifier: name, value: stringValue('a'.repeat(31)) });
    t.is(ok.version, 1n);
  }
  await expectStatus(
    t,
    rpc.call('registerVariable', { sessionId: 's1', name: 'br', type: T.VARIABLE_TYPE_STRING, initialValue: stringValue('aa'), constraints: { pattern: '(a)\\1' } }),
    status.INVALID_ARGUMENT,
    /not a valid regular expression: .*without backreferences or lookaround/,
  );
});

test('globs: the backtracking killer answers at once, and an over-long pattern is INVALID_ARGUMENT everywhere', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  const { rpc, bridge } = s;
  await rpc.call('registerVariable', { sessionId: 's1', name: 'a'.repeat(64), type: T.VARIABLE_TYPE_INTEGER, initialValue: intValue(1n) });
  await rpc.call('registerVariable', { sessionId: 's1', name: 'ab', type: T.VARIABLE_TYPE_INTEGER, initialValue: intValue(1n) });
  for (const pairs of [7, 8, 20]) {
    const listed = await rpc.call('listVariables', { sessionId: 's1', pattern: `${'*a'.repeat(pairs)}*b` });
    t.deepEqual(listed.variables.map((v) => v.name), []);
  }
  t.deepEqual((await rpc.call('listVariables', { sessionId: 's1', pattern: '*a*b' })).variables.map((v) => v.name), ['ab']);
  t.deepEqual((await bridge.call('listVariables', { sessionId: 's1', pattern: 'a?' })).variables.map((v) => v.name), ['ab']);

  const long = '*'.repeat(70_000);
  await expectStatus(t, rpc.call('listVariables', { sessionId: 's1', pattern: long }), status.INVALID_ARGUMENT, 'pattern is longer than 1024 characters');
  await expectStatus(t, bridge.call('listVariables', { sessionId: 's1', pattern: long }), status.INVALID_ARGUMENT, 'pattern is longer than 1024 characters');
  const watch = rpc.watch({ sessionId: 's1', pattern: long });
  const error = await new Promise<{ code: status; details: string }>((resolve) => watch.on('error', resolve));
  t.is(error.code, status.INVALID_ARGUMENT);
  t.is(error.details, 'pattern is longer than 1024 characters');
});
