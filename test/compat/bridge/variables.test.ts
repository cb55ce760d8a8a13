import { status, type ServiceError } from '@grpc/grpc-js';
import test from 'ava';
import { anyJson, anyOf, jsonAny, startBridge, type BridgeTest } from './bridge-client.js';

const codeOf = (error: unknown) => (error as ServiceError).code;

async function session(t: { teardown: (fn: () => Promise<void>) => void }): Promise<BridgeTest> {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  return s;
}

test('RegisterVariable returns a var_ id; the variable starts at version 0 and reads by name or id', async (t) => {
  const s = await session(t);
  const reg = await s.bridge.call('registerVariable', {
    sessionId: 'w1',
    name: 'temperature',
    type: 'float',
    initialValue: anyOf('float', 0.7),
    constraintsJson: JSON.stringify({ min: 0.0, max: 1.0 }),
    metadata: { source: 'python' },
  });
  t.true(reg.success);
  t.regex(reg.variableId, /^var_temperature_/);

  for (const identifier of ['temperature', reg.variableId]) {
    const { variable } = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: identifier });
    t.is(variable?.id, reg.variableId);
    t.is(variable?.name, 'temperature');
    t.is(variable?.type, 'float');
    t.is(variable?.version, 0);
    t.is(variable?.value?.typeUrl, 'type.googleapis.com/snakepit.float');
    t.is(anyJson(variable?.value), 0.7);
    t.deepEqual(JSON.parse(variable?.constraintsJson ?? ''), { min: 0, max: 1 });
    t.is(variable?.source, 1 /* PYTHON, from metadata.source */);
    t.is(variable?.binaryValue.length, 0);
  }
});

test('errors carry the native codes and the messages the Python client looks for', async (t) => {
  const s = await session(t);
  const above = await t.throwsAsync(
    s.bridge.call('registerVariable', {
      sessionId: 'w1',
      name: 'p',
      type: 'float',
      initialValue: anyOf('float', 2.0),
      constraintsJson: '{"min": 0.0, "max": 1.0}',
    }),
  );
  t.is(codeOf(above), status.INVALID_ARGUMENT);
  t.regex(above.message, /above maximum/);

  const missing = await t.throwsAsync(s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'ghost' }));
  t.is(codeOf(missing), status.NOT_FOUND);
  t.true(missing.message.toLowerCase().includes('not found'));
  t.regex(missing.message, /Variable not found: ghost/);

  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'n', type: 'integer', initialValue: anyOf('integer', 1) });
  const taken = await t.throwsAsync(
    s.bridge.call('registerVariable', { sessionId: 'w1', name: 'n', type: 'integer', initialValue: anyOf('integer', 1) }),
  );
  t.is(codeOf(taken), status.ALREADY_EXISTS);

  const badType = await t.throwsAsync(
    s.bridge.call('registerVariable', { sessionId: 'w1', name: 'q', type: 'complex', initialValue: anyOf('complex', 1) }),
  );
  t.is(codeOf(badType), status.INVALID_ARGUMENT);
  const badJson = await t.throwsAsync(
    s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'n', value: jsonAny('integer', '{oops') }),
  );
  t.is(codeOf(badJson), status.INVALID_ARGUMENT);
  const wrongType = await t.throwsAsync(
    s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'n', value: anyOf('string', 'abc') }),
  );
  t.is(codeOf(wrongType), status.INVALID_ARGUMENT);
  t.regex(wrongType.message, /Cannot convert "abc" to integer/);
});

test('SetVariable bumps the version; expected_version 0 means none, a stale one is ABORTED', async (t) => {
  const s = await session(t);
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'k', type: 'integer', initialValue: anyOf('integer', 1) });
  const first = await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'k', value: anyOf('integer', 2), expectedVersion: 0 });
  t.deepEqual(first, { success: true, errorMessage: '', newVersion: 1 });
  const second = await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'k', value: anyOf('integer', 3), expectedVersion: 1 });
  t.is(second.newVersion, 2);
  const stale = await t.throwsAsync(
    s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'k', value: anyOf('integer', 4), expectedVersion: 1 }),
  );
  t.is(codeOf(stale), status.ABORTED);
  t.regex(stale.message, /expected 1, current 2/);
  const { variable } = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'k' });
  t.is(anyJson(variable?.value), 3);
});

test('floats travel as JSON with "NaN", "Infinity" and "-Infinity" strings', async (t) => {
  const s = await session(t);
  await s.bridge.call('registerVariable', { sessionId: 'w1', name: 'f', type: 'float', initialValue: anyOf('float', 'NaN') });
  const nan = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'f' });
  t.true(nan.value?.kind?.$case === 'floatValue' && Number.isNaN(nan.value.kind.floatValue));
  t.is((await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'f' })).variable?.value?.value.toString(), '"NaN"');

  for (const [sent, expected] of [['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'f', value: anyOf('float', sent) });
    const native = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'f' });
    t.deepEqual(native.value?.kind, { $case: 'floatValue', floatValue: expected });
    const bridged = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'f' });
    t.is(anyJson(bridged.variable?.value), sent);
  }
  await s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'f', value: anyOf('float', 1.25) });
  t.is(anyJson((await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: 'f' })).variable?.value), 1.25);
});

test('every Snakepit type round-trips; constraint keys map onto varledger constraints', async (t) => {
  const s = await session(t);
  const cases: [string, unknown, string, unknown][] = [
    ['integer', 9007199254740993n, '', '9007199254740993'],
    ['string', 'hello', '{"min_length": 2, "max_length": 10, "pattern": "[a-z]+"}', 'hello'],
    ['boolean', true, '', true],
    ['choice', 'gpt-4', '{"choices": ["gpt-4", "claude"]}', 'gpt-4'],
    ['module', 'ChainOfThought', '{"allowed_values": ["Predict", "ChainOfThought"]}', 'ChainOfThought'],
    ['embedding', [0.1, 0.2, 0.3], '{"dimensions": 3}', [0.1, 0.2, 0.3]],
    ['tensor', { shape: [2, 2], data: [[1, 2], [3, 4]] }, '{"shape": [2, 2]}', { shape: [2, 2], data: [[1, 2], [3, 4]] }],
  ];
  for (const [type, value, constraintsJson, expected] of cases) {
    const json = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    await s.bridge.call('registerVariable', { sessionId: 'w1', name: `v_${type}`, type, initialValue: jsonAny(type, json), constraintsJson });
    const { variable } = await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: `v_${type}` });
    const text = Buffer.from(variable?.value?.value ?? []).toString('utf8');
    if (typeof expected === 'string' && type === 'integer') t.is(text, expected, type);
    else t.deepEqual(JSON.parse(text), expected, type);
  }
  const native = await s.rpc.call('getVariable', { sessionId: 'w1', identifier: 'v_module' });
  t.deepEqual(native.constraints?.choices, ['Predict', 'ChainOfThought']);
  const notAllowed = await t.throwsAsync(
    s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'v_choice', value: anyOf('choice', 'llama') }),
  );
  t.regex(notAllowed.message, /not in allowed choices/);
  const wrongDims = await t.throwsAsync(
    s.bridge.call('setVariable', { sessionId: 'w1', variableIdentifier: 'v_embedding', value: anyOf('embedding', [1, 2]) }),
  );
  t.regex(wrongDims.message, /Wrong dimensions: 2 != 3/);
});

test('GetVariables reports found and missing; ListVariables filters by glob; DeleteVariable removes', async (t) => {
  const s = await session(t);
  for (const name of ['temp_a', 'temp_b', 'other']) {
    await s.bridge.call('registerVariable', { sessionId: 'w1', name, type: 'integer', initialValue: anyOf('integer', 1) });
  }
  const batch = await s.bridge.call('getVariables', { sessionId: 'w1', variableIdentifiers: ['temp_a', 'ghost', 'other'] });
  t.deepEqual(Object.keys(batch.variables).sort(), ['other', 'temp_a']);
  t.deepEqual(batch.missingVariables, ['ghost']);

  const listed = await s.bridge.call('listVariables', { sessionId: 'w1', pattern: 'temp_*' });
  t.deepEqual(listed.variables.map((v) => v.name), ['temp_a', 'temp_b']);
  t.is((await s.bridge.call('listVariables', { sessionId: 'w1' })).variables.length, 3);

  t.deepEqual(await s.bridge.call('deleteVariable', { sessionId: 'w1', variableIdentifier: 'temp_a' }), { success: true, errorMessage: '' });
  const gone = await t.throwsAsync(s.bridge.call('deleteVariable', { sessionId: 'w1', variableIdentifier: 'temp_a' }));
  t.is(codeOf(gone), status.NOT_FOUND);
  t.is((await s.bridge.call('listVariables', { sessionId: 'w1' })).variables.length, 2);
});
