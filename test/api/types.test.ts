import test from 'ava';
import { VariableType, type DeepPartial, type Value } from '../../src/gen/varledger/v1/ledger.js';
import { startLedger } from '../helpers/harness.js';
import { boolValue, floatValue, intValue, stringValue, tensorValue, vectorValue } from '../helpers/grpc-expect.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

interface Case {
  readonly title: string;
  readonly type: VariableType;
  readonly constraints?: { choices?: string[]; dimensions?: number; shape?: number[] };
  /** Values written in order: the first registers, the rest are sets. */
  readonly values: readonly DeepPartial<Value>[];
  /** What each value reads back as, when the server normalises it. */
  readonly expected?: readonly DeepPartial<Value>[];
}

const cases: readonly Case[] = [
  {
    title: 'float, including NaN and ±Infinity when unbounded',
    type: VariableType.VARIABLE_TYPE_FLOAT,
    values: [floatValue(0.1), floatValue(-0), floatValue(Number.NaN), floatValue(Infinity), floatValue(-Infinity), floatValue(-0.5e-300), floatValue(Number.MAX_VALUE)],
  },
  {
    title: 'integer at the int64 extremes, as bigint',
    type: VariableType.VARIABLE_TYPE_INTEGER,
    values: [intValue(0n), intValue(INT64_MAX), intValue(INT64_MIN), intValue(-1n), intValue(2n ** 53n + 1n)],
  },
  {
    title: 'string, including unicode and the empty string',
    type: VariableType.VARIABLE_TYPE_STRING,
    values: [stringValue('hello'), stringValue(''), stringValue('Grüße 👋 日本'), stringValue('line\nbreak\ttab')],
  },
  {
    title: 'boolean',
    type: VariableType.VARIABLE_TYPE_BOOLEAN,
    values: [boolValue(true), boolValue(false), boolValue(true)],
  },
  {
    title: 'choice',
    type: VariableType.VARIABLE_TYPE_CHOICE,
    constraints: { choices: ['gpt-4o', 'claude', 'llama'] },
    values: [stringValue('gpt-4o'), stringValue('claude'), stringValue('llama')],
  },
  {
    title: 'module',
    type: VariableType.VARIABLE_TYPE_MODULE,
    values: [stringValue('ChainOfThought'), stringValue('dspy.Predict')],
  },
  {
    title: 'embedding vector',
    type: VariableType.VARIABLE_TYPE_EMBEDDING,
    constraints: { dimensions: 4 },
    values: [vectorValue([0.1, -0.2, -0, 1e-12]), vectorValue([0, 0, 0, 0]), vectorValue([1.5, 2.5, -3.5, 1e300])],
    // -0 inside vectors and tensors is stored as 0, so live reads equal a fold of the log.
    expected: [vectorValue([0.1, -0.2, 0, 1e-12]), vectorValue([0, 0, 0, 0]), vectorValue([1.5, 2.5, -3.5, 1e300])],
  },
  {
    title: 'tensor, with dtypes',
    type: VariableType.VARIABLE_TYPE_TENSOR,
    constraints: { shape: [2, 3] },
    values: [tensorValue([2, 3], [1, 2, 3, 4, -0, 6], 'float32'), tensorValue([2, 3], [0.5, -1, 2, 3, 4, 5], 'float64'), tensorValue([2, 3], [1, 2, 3, 4, 5, 6], 'int64')],
    expected: [tensorValue([2, 3], [1, 2, 3, 4, 0, 6], 'float32'), tensorValue([2, 3], [0.5, -1, 2, 3, 4, 5], 'float64'), tensorValue([2, 3], [1, 2, 3, 4, 5, 6], 'int64')],
  },
  {
    title: 'tensor without a dtype reads back as float64',
    type: VariableType.VARIABLE_TYPE_TENSOR,
    values: [tensorValue([3], [1, 2, 3]), tensorValue([1, 2, 2], [1, 2, 3, 4])],
    expected: [tensorValue([3], [1, 2, 3], 'float64'), tensorValue([1, 2, 2], [1, 2, 3, 4], 'float64')],
  },
];

for (const c of cases) {
  test(`round-trip: ${c.title}`, async (t) => {
    const { rpc, stop } = await startLedger();
    t.teardown(() => stop());
    const [first, ...rest] = c.values;
    const registered = await rpc.call('registerVariable', {
      sessionId: 's1',
      name: 'v',
      type: c.type,
      initialValue: first,
      constraints: c.constraints ?? {},
    });
    const written = [registered, ...(await sequential(rest, (value) => rpc.call('setVariable', { sessionId: 's1', identifier: 'v', value })))];
    for (const [i, variable] of written.entries()) {
      const expected = c.expected?.[i] ?? c.values[i];
      t.is(variable.type, c.type);
      t.deepEqual(variable.value, expected, `reply of write ${i}`);
      const past = await rpc.call('getVariable', { sessionId: 's1', identifier: 'v', atRevision: variable.modifiedRevision });
      t.deepEqual(past.value, expected, `read at revision of write ${i}`);
      t.is(past.version, BigInt(i));
    }
    const current = await rpc.call('getVariable', { sessionId: 's1', identifier: 'v' });
    t.deepEqual(current.value, c.expected?.[c.values.length - 1] ?? c.values[c.values.length - 1]);
  });
}

async function sequential<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await run(item));
  return out;
}

test('accepted conversions: integer from integral float and text, float from integer and text, boolean from text', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  const reg = (name: string, type: VariableType, initialValue: DeepPartial<Value>) =>
    rpc.call('registerVariable', { sessionId: 's1', name, type, initialValue });
  t.deepEqual((await reg('i1', VariableType.VARIABLE_TYPE_INTEGER, floatValue(42))).value, intValue(42n));
  t.deepEqual((await reg('i2', VariableType.VARIABLE_TYPE_INTEGER, stringValue('-9223372036854775808'))).value, intValue(INT64_MIN));
  t.deepEqual((await reg('f1', VariableType.VARIABLE_TYPE_FLOAT, intValue(7n))).value, floatValue(7));
  t.deepEqual((await reg('f2', VariableType.VARIABLE_TYPE_FLOAT, stringValue('1.25'))).value, floatValue(1.25));
  t.deepEqual((await reg('f3', VariableType.VARIABLE_TYPE_FLOAT, stringValue('-Infinity'))).value, floatValue(-Infinity));
  t.deepEqual((await reg('b1', VariableType.VARIABLE_TYPE_BOOLEAN, stringValue('false'))).value, boolValue(false));
  t.deepEqual((await reg('t1', VariableType.VARIABLE_TYPE_TENSOR, vectorValue([1, 2]))).value, tensorValue([2], [1, 2], 'float64'));
});

test('a string value holding U+FFFD sent as valid UTF-8 is stored like any other text', async (t) => {
  const { rpc, stop } = await startLedger();
  t.teardown(() => stop());
  // EF BF BD on the wire is valid UTF-8; model output often contains it.
  const text = 'decoded with errors: \ufffd\ufffd';
  const v = await rpc.call('registerVariable', { sessionId: 's1', name: 'completion', type: VariableType.VARIABLE_TYPE_STRING, initialValue: stringValue(text) });
  t.deepEqual(v.value, stringValue(text));
  const set = await rpc.call('setVariable', { sessionId: 's1', identifier: 'completion', value: stringValue(`${text}!`) });
  t.is(set.version, 1n);
});
