/**
 * Request bodies for fuzzing every RPC on the port: messages built from the
 * proto descriptors with values drawn from hostile pools (tensor shapes,
 * patterns and globs at and past their limits, odd numbers, deep JSON,
 * pickles), then sometimes mutated byte by byte, or replaced by random bytes.
 * Generic over the descriptors, so a new RPC or field is fuzzed without
 * touching this file.
 */
import { join } from 'node:path';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';
import { encodeErlangTermNumbers, encodePickledNumbers } from '../../src/compat/binary-values.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export type CallKind = 'unary' | 'serverStream' | 'bidi';

export interface FuzzTarget {
  readonly path: string;
  readonly kind: CallKind;
  /** Request bodies (one per message; unary and server-streaming calls send one). */
  readonly bodies: fc.Arbitrary<Uint8Array[]>;
}

/** Names the seeded session's variables have (see fuzz-run.ts), plus misses and limits. */
export const VARIABLE_NAMES = ['f', 'i', 's', 'b', 'c', 'm', 'e', 't', 'a'.repeat(64), 'new', 'x'] as const;
export const SESSION_IDS = ['s1', 's2', 'fresh'] as const;

const ones = (n: number) => Array<number>(n).fill(1);
let deepJson = '[1]';
for (let i = 0; i < 33; i++) deepJson = `[${deepJson}]`;

const SHAPES: readonly number[][] = [[2, 2], [4], [1], [0], [4294967295, 0], [1e7, 0], [2 ** 20, 0], [2 ** 20 - 2, 0], [2 ** 20], ones(32), ones(33), [], [3, 0, 4294967295]];
const PATTERNS = ['(a+)+$', '(a|aa)+$', '(a)\\1', '(?=a)a', '[a-z]+', '([a-z', '\\p{L}+', 'a'.repeat(1024), 'a'.repeat(1025), ''];
const GLOBS = [`${'*a'.repeat(8)}*b`, `${'*a'.repeat(511)}*b`, '*'.repeat(1025), `*${'?'.repeat(200)}b*`, '?', '*', 'a*', '[a]', ''];
const TYPES = ['float', 'integer', 'string', 'boolean', 'choice', 'module', 'embedding', 'tensor', 'Tensor', 'nope', ''];
const JSON_VALUES = [
  '1', '1.5', '-0', '1e400', '"a"', '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"', 'true', 'null', '[1,2,3]', '[]', '[[],[]]', deepJson,
  '{"shape":[2,2],"data":[[1,2],[3,4]]}', '{"shape":[4294967295,0],"data":[]}', `{"shape":${JSON.stringify(ones(33))},"data":${deepJson}}`,
  '{"data":1}', '{"shape":"x","data":[1]}', '"NaN"', '{', '', '9223372036854775808',
];
const CONSTRAINTS_JSON = [
  '{}', '{"min":0,"max":1}', '{"pattern":"(a+)+$"}', '{"pattern":"(a)\\\\1"}', `{"shape":${JSON.stringify(ones(33))}}`,
  '{"shape":[4294967295,0]}', '{"choices":["a","b"]}', '{"dimensions":3}', '{"min":2,"max":1}', 'not json', '[]', '',
];
const pickled = Buffer.from(encodePickledNumbers([1, 2, 3]));
const erlang = Buffer.from(encodeErlangTermNumbers([1, 2, 3]));
const BINARIES = [pickled, erlang, pickled.subarray(0, 5), Buffer.from([0x80, 2, 0x63]), Buffer.alloc(0), Buffer.from([131, 108, 255, 255, 255, 255])];

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const smallString = fc.string({ maxLength: 6 });

/** Strings by field name: the fields a handler branches on get the hostile pools. */
function stringFor(field: string): fc.Arbitrary<string> {
  if (field === 'session_id') return fc.oneof(pick(SESSION_IDS), pick(['', 'x'.repeat(129), '\u0000', '\ufffd']));
  if (/identifier|^name$|^names$/.test(field)) return fc.oneof(pick(VARIABLE_NAMES), pick(['', 'a'.repeat(257), 'var_t_0003']), smallString);
  if (field === 'pattern') return fc.oneof(pick(GLOBS), pick(PATTERNS));
  if (field === 'type') return pick(TYPES);
  if (field === 'constraints_json') return pick(CONSTRAINTS_JSON);
  if (field.endsWith('_json') || field === 'value') return pick(JSON_VALUES);
  if (field === 'type_url') return fc.oneof(...TYPES.map((t) => pick([`type.googleapis.com/snakepit.${t}`, `type.googleapis.com/snakepit.${t}.binary`])));
  return fc.oneof(smallString, pick(PATTERNS), pick(['💥', 'a'.repeat(2000)]));
}

const INT64 = ['0', '1', '2', '3', '-1', '9007199254740993', '9223372036854775807', '-9223372036854775808'];
const UINT64 = ['0', '1', '2', '3', '9007199254740993', '18446744073709551615'];
const DOUBLES = [0, 1, -1, 0.5, 1.5, -0, NaN, Infinity, -Infinity, 1e308, 5e-324, 2 ** 53];

/** The parts of a DescriptorProto (as proto-loader gives it) the generator reads. */
interface Descriptor {
  readonly name: string;
  readonly field: readonly {
    readonly name: string;
    readonly type: string;
    readonly typeName: string;
    readonly label: string;
  }[];
  readonly nestedType: readonly Descriptor[];
  readonly options?: { readonly mapEntry?: boolean } | null;
}
interface Loaded {
  readonly definition: ReturnType<typeof loadSync>;
}

function resolve(loaded: Loaded, pkg: string, parent: Descriptor, typeName: string): { descriptor?: Descriptor; enumValues?: string[]; fullName: string } {
  const nested = parent.nestedType.find((n) => n.name === typeName);
  if (nested) return { descriptor: nested, fullName: `${pkg}.${parent.name}.${typeName}` };
  for (const fullName of [typeName, `${pkg}.${typeName}`]) {
    const entry = loaded.definition[fullName] as { format?: string; type?: unknown } | undefined;
    if (!entry?.format) continue;
    if (entry.format.includes('EnumDescriptorProto')) {
      return { enumValues: (entry.type as { value: { name: string }[] }).value.map((v) => v.name), fullName };
    }
    return { descriptor: entry.type as Descriptor, fullName };
  }
  throw new Error(`cannot resolve ${typeName} in ${pkg}`);
}

const MAX_DEPTH = 4;

function messageArbitrary(loaded: Loaded, pkg: string, descriptor: Descriptor, fullName: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
  if (fullName.endsWith('varledger.v1.Tensor')) {
    return fc.record({ shape: pick(SHAPES), data: fc.oneof(pick([[], [1, 2, 3, 4], [1], [7]]), fc.array(fc.double(), { maxLength: 5 })), dtype: pick(['', 'float64', 'int8', 'bool', 'complex']) });
  }
  if (fullName === 'google.protobuf.Timestamp') return fc.record({ seconds: pick(INT64), nanos: pick([0, 1, -1, 999_999_999, 2e9]) });
  const entries: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of descriptor.field) {
    const value = fieldArbitrary(loaded, pkg, descriptor, field, depth);
    if (value) entries[field.name] = value;
  }
  return fc.record(entries, { requiredKeys: [] });
}

function scalar(field: Descriptor['field'][number]): fc.Arbitrary<unknown> | undefined {
  switch (field.type) {
    case 'TYPE_STRING':
      return stringFor(field.name);
    case 'TYPE_BYTES':
      return fc.oneof(pick(BINARIES), fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)));
    case 'TYPE_DOUBLE':
    case 'TYPE_FLOAT':
      return fc.oneof(pick(DOUBLES), fc.double());
    case 'TYPE_INT64':
    case 'TYPE_SINT64':
    case 'TYPE_SFIXED64':
      return pick(INT64);
    case 'TYPE_UINT64':
    case 'TYPE_FIXED64':
      return pick(UINT64);
    case 'TYPE_INT32':
    case 'TYPE_SINT32':
    case 'TYPE_SFIXED32':
      return fc.oneof(pick([0, 1, 2, 3, -1, 2 ** 31 - 1, -(2 ** 31)]), fc.integer({ min: -5, max: 200 }));
    case 'TYPE_UINT32':
    case 'TYPE_FIXED32':
      return fc.oneof(pick([0, 1, 2, 3, 33, 2 ** 20, 4294967295]), fc.nat(200));
    case 'TYPE_BOOL':
      return fc.boolean();
    default:
      return undefined;
  }
}

function fieldArbitrary(loaded: Loaded, pkg: string, parent: Descriptor, field: Descriptor['field'][number], depth: number): fc.Arbitrary<unknown> | undefined {
  const repeated = field.label === 'LABEL_REPEATED';
  let element = scalar(field);
  if (!element && field.type === 'TYPE_ENUM') {
    const { enumValues = [] } = resolve(loaded, pkg, parent, field.typeName);
    element = fc.oneof(pick(enumValues), pick([99, -1]));
  }
  if (!element && field.type === 'TYPE_MESSAGE') {
    if (depth >= MAX_DEPTH) return undefined;
    const { descriptor, fullName } = resolve(loaded, pkg, parent, field.typeName);
    if (!descriptor) return undefined;
    if (descriptor.options?.mapEntry) {
      const [keyField, valueField] = descriptor.field;
      const value = valueField && fieldArbitrary(loaded, pkg, descriptor, valueField, depth + 1);
      if (!keyField || !value) return undefined;
      // Metadata keys are free text; other maps (batch updates) are keyed by variable.
      const keys = field.name === 'metadata' ? smallString : stringFor('identifier');
      return fc.dictionary(keys, value, { maxKeys: 3 });
    }
    if (fullName === 'google.protobuf.Any') {
      element = fc.record({ type_url: stringFor('type_url'), value: pick(JSON_VALUES).map((v) => Buffer.from(v)) });
    } else {
      element = fc.constant(null).chain(() => messageArbitrary(loaded, pkg, descriptor, fullName, depth + 1));
    }
  }
  if (!element) return undefined;
  if (!repeated) return element;
  if (field.name === 'shape') return pick(SHAPES);
  return fc.array(element, { maxLength: 3 });
}

/** Small byte-level damage: flips, cuts, insertions, duplications. */
function mutate(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = Math.max(bytes.length, 1);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(n - 1), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(n) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(n), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(n) }),
  );
  return fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => {
    let out = Buffer.from(bytes);
    for (const o of ops) {
      const at = Math.min(o.at, out.length);
      if (o.kind === 'flip' && out.length > 0) {
        const i = Math.min(at, out.length - 1);
        out[i] = (out[i] ?? 0) ^ (1 << o.bit);
      }
      else if (o.kind === 'cut') out = out.subarray(0, at);
      else if (o.kind === 'insert') out = Buffer.concat([out.subarray(0, at), o.bytes, out.subarray(at)]);
      else if (o.kind === 'repeat') out = Buffer.concat([out, out.subarray(at)]);
    }
    return out;
  });
}

const SERVICES = ['varledger.v1.Ledger', 'snakepit.bridge.BridgeService'] as const;

/** Every RPC of the native and the Snakepit service, with request bodies to send. */
export function fuzzTargets(): FuzzTarget[] {
  const definition = loadSync(['varledger/v1/ledger.proto', 'snakepit/bridge/snakepit_bridge.proto'], {
    includeDirs: [join(PACKAGE_ROOT, 'proto')],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded: Loaded = { definition };
  const targets: FuzzTarget[] = [];
  for (const service of SERVICES) {
    const pkg = service.slice(0, service.lastIndexOf('.'));
    const methods = definition[service] as Record<string, MethodDefinition<object, object>>;
    for (const method of Object.values(methods)) {
      const descriptor = (method.requestType as unknown as { type: Descriptor }).type;
      const message = messageArbitrary(loaded, pkg, descriptor, descriptor.name, 0);
      const encoded = message.map((m) => new Uint8Array(method.requestSerialize(m)));
      const body = fc.oneof(
        { arbitrary: encoded, weight: 6 },
        { arbitrary: encoded.chain(mutate), weight: 3 },
        { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
      );
      const kind: CallKind = method.requestStream ? 'bidi' : method.responseStream ? 'serverStream' : 'unary';
      targets.push({ path: method.path, kind, bodies: kind === 'bidi' ? fc.array(body, { minLength: 1, maxLength: 3 }) : body.map((b) => [b]) });
    }
  }
  return targets;
}
