/**
 * The exact bytes a Snakepit worker reads: every type's type_url, value JSON
 * and constraints_json, on the first read and on later ones (large values are
 * encoded once and reused, small ones encoded per reply), through every read
 * RPC, and again after a batch set gives each variable a new value.
 */
import test from 'ava';
import type { Variable } from '../../../src/gen/snakepit/bridge/snakepit_bridge.js';
import { jsonAny, startBridge } from './bridge-client.js';

const LONG_TEXT = `"quoted" — ünïcode ✓ \\ ${'x'.repeat(300)}`;

/** [name, type, JSON sent, constraints_json sent, JSON read back, constraints_json read back, next JSON, next read back] */
const CASES: [string, string, string, string, string, string, string, string][] = [
  ['f', 'float', '0.25', '{"max": 1, "min": 0}', '0.25', '{"min":0,"max":1}', '1e-7', '1e-7'],
  ['nan', 'float', '"NaN"', '', '"NaN"', '{}', '"-Infinity"', '"-Infinity"'],
  ['i', 'integer', '9007199254740993', '', '9007199254740993', '{}', '-42', '-42'],
  ['s', 'string', '"hello"', '{"min_length": 1, "pattern": "[a-z]+"}', '"hello"', '{"min_length":1,"pattern":"[a-z]+"}', '"world"', '"world"'],
  ['long', 'string', JSON.stringify(LONG_TEXT), '', JSON.stringify(LONG_TEXT), '{}', JSON.stringify(`${LONG_TEXT}!`), JSON.stringify(`${LONG_TEXT}!`)],
  ['b', 'boolean', 'true', '', 'true', '{}', 'false', 'false'],
  ['c', 'choice', '"gpt-4"', '{"choices": ["gpt-4", "claude"]}', '"gpt-4"', '{"choices":["gpt-4","claude"]}', '"claude"', '"claude"'],
  ['m', 'module', '"Predict"', '{"allowed_values": ["Predict", "ChainOfThought"]}', '"Predict"', '{"allowed_modules":["Predict","ChainOfThought"]}', '"ChainOfThought"', '"ChainOfThought"'],
  ['e', 'embedding', '[0.1, 0.2, 0.3]', '{"dimensions": 3}', '[0.1,0.2,0.3]', '{"dimensions":3}', '[1, 2.5, -3]', '[1,2.5,-3]'],
  ['t', 'tensor', '{"shape": [2, 2], "data": [[1, 2], [3, 4]]}', '{"shape": [2, 2]}', '{"shape":[2,2],"data":[[1,2],[3,4]]}', '{"shape":[2,2]}', '[[0.5, 0], [0, 0.5]]', '{"shape":[2,2],"data":[[0.5,0],[0,0.5]]}'],
];

function wire(v: Variable | undefined): { typeUrl: string; json: string; constraintsJson: string; binary: number } {
  return {
    typeUrl: v?.value?.typeUrl ?? '',
    json: Buffer.from(v?.value?.value ?? []).toString('utf8'),
    constraintsJson: v?.constraintsJson ?? '',
    binary: v?.binaryValue.length ?? -1,
  };
}

test('every type reads back as the same bytes from GetVariable, GetVariables (twice) and ListVariables, and after SetVariables', async (t) => {
  const s = await startBridge();
  t.teardown(() => s.stop());
  await s.bridge.call('initializeSession', { sessionId: 'w1' });
  for (const [name, type, sent, constraintsJson] of CASES) {
    await s.bridge.call('registerVariable', { sessionId: 'w1', name, type, initialValue: jsonAny(type, sent), constraintsJson });
  }
  const names = CASES.map(([name]) => name);

  const readAll = async (): Promise<Map<string, ReturnType<typeof wire>[]>> => {
    const reads = new Map<string, ReturnType<typeof wire>[]>(names.map((n) => [n, []]));
    for (const name of names) reads.get(name)?.push(wire((await s.bridge.call('getVariable', { sessionId: 'w1', variableIdentifier: name })).variable));
    for (let i = 0; i < 2; i++) {
      const { variables } = await s.bridge.call('getVariables', { sessionId: 'w1', variableIdentifiers: names });
      for (const name of names) reads.get(name)?.push(wire(variables[name]));
    }
    for (const v of (await s.bridge.call('listVariables', { sessionId: 'w1' })).variables) reads.get(v.name)?.push(wire(v));
    return reads;
  };

  const first = await readAll();
  for (const [name, type, , , json, constraintsJson] of CASES) {
    const expected = { typeUrl: `type.googleapis.com/snakepit.${type}`, json, constraintsJson, binary: 0 };
    t.deepEqual(first.get(name), [expected, expected, expected, expected], name);
  }

  const updates = Object.fromEntries(CASES.map(([name, type, , , , , next]) => [name, jsonAny(type, next)]));
  const reply = await s.bridge.call('setVariables', { sessionId: 'w1', updates, atomic: true });
  t.true(reply.success, JSON.stringify(reply.errors));
  t.deepEqual(reply.newVersions, Object.fromEntries(names.map((n) => [n, 1])));

  const second = await readAll();
  for (const [name, type, , , , constraintsJson, , json] of CASES) {
    const expected = { typeUrl: `type.googleapis.com/snakepit.${type}`, json, constraintsJson, binary: 0 };
    t.deepEqual(second.get(name), [expected, expected, expected, expected], name);
  }
});
