/** Events for the store tests: every event kind and every value kind with its edge values. */
import type { NewEvent, Revision, SessionId, StoredEvent, Value, VariableId, Version } from '../../src/domain/index.js';

export const S1 = 's1' as SessionId;
export const S2 = 's2' as SessionId;
export const rev = (n: number) => n as Revision;
export const vid = (s: string) => s as VariableId;
export const ver = (n: number) => n as Version;

export const created = (sessionId = S1, time = 1000): NewEvent => ({
  kind: 'session_created',
  sessionId,
  time,
  actor: 'boot',
  metadata: { owner: 'team-ä', empty: '' },
  ttlSeconds: 3600,
});

export const registered = (name: string, value: Value, sessionId = S1): NewEvent => ({
  kind: 'variable_registered',
  sessionId,
  time: 2000,
  actor: 'alice',
  variableId: vid(`var_${name}_1`),
  version: ver(0),
  name,
  type: 'float',
  value,
  constraints: {},
  metadata: {},
  description: '',
});

export const set = (name: string, version: number, value: Value, sessionId = S1): NewEvent => ({
  kind: 'variable_set',
  sessionId,
  time: 3000 + version,
  actor: 'bob',
  variableId: vid(`var_${name}_1`),
  version: ver(version),
  value,
  metadata: { reason: `step ${version}` },
});

/** Every event kind, and every value kind with its edge values. */
export const EVERY_EVENT: NewEvent[] = [
  created(),
  {
    kind: 'variable_registered',
    sessionId: S1,
    time: 2000,
    actor: 'alice',
    variableId: vid('var_temperature_1'),
    version: ver(0),
    name: 'temperature',
    type: 'float',
    value: { kind: 'float', value: 0.7 },
    constraints: { min: 0, max: 1 },
    metadata: { unit: 'none' },
    description: 'sampling temperature — ünïcode',
  },
  {
    kind: 'variable_registered',
    sessionId: S1,
    time: 2001,
    actor: 'alice',
    variableId: vid('var_mode_2'),
    version: ver(0),
    name: 'mode',
    type: 'choice',
    value: { kind: 'string', value: 'fast' },
    constraints: { choices: ['fast', 'slow'] },
    metadata: {},
    description: '',
  },
  {
    kind: 'variable_registered',
    sessionId: S1,
    time: 2002,
    actor: 'alice',
    variableId: vid('var_prompt_3'),
    version: ver(0),
    name: 'prompt',
    type: 'string',
    value: { kind: 'string', value: '' },
    constraints: { minLength: 0, maxLength: 10_000, pattern: '^\\p{L}*$' },
    metadata: {},
    description: '',
  },
  {
    kind: 'variable_registered',
    sessionId: S1,
    time: 2003,
    actor: 'alice',
    variableId: vid('var_emb_4'),
    version: ver(0),
    name: 'emb',
    type: 'embedding',
    value: { kind: 'vector', values: [0.1, -2.5, 1e-300, 1.7976931348623157e308] },
    constraints: { dimensions: 4 },
    metadata: {},
    description: '',
  },
  {
    kind: 'variable_registered',
    sessionId: S1,
    time: 2004,
    actor: 'alice',
    variableId: vid('var_w_5'),
    version: ver(0),
    name: 'w',
    type: 'tensor',
    value: { kind: 'tensor', shape: [2, 3], data: [1, 2, 3, 4, 5, 6.5], dtype: 'float32' },
    constraints: { shape: [2, 3] },
    metadata: {},
    description: '',
  },
  set('seed', 1, { kind: 'integer', value: 2n ** 63n - 1n }),
  set('seed', 2, { kind: 'integer', value: -(2n ** 63n) }),
  set('x', 1, { kind: 'float', value: NaN }),
  set('x', 2, { kind: 'float', value: -Infinity }),
  set('x', 3, { kind: 'float', value: Infinity }),
  set('x', 4, { kind: 'float', value: 5e-324 }),
  set('s', 1, { kind: 'string', value: 'héllo 🌍 日本語 \u0000 "quoted" \\ \n new line' }),
  set('b', 1, { kind: 'boolean', value: false }),
  set('b', 2, { kind: 'boolean', value: true }),
  set('t', 1, { kind: 'tensor', shape: [1], data: [0], dtype: 'bool' }),
  { kind: 'variable_deleted', sessionId: S1, time: 4000, actor: 'carol', variableId: vid('var_x_1'), version: ver(4), metadata: { reason: 'done' } },
  { kind: 'session_expired', sessionId: S1, time: 5000, actor: 'sweeper' },
  created(S2, 6000),
  { kind: 'session_closed', sessionId: S2, time: 7000, actor: 'dave' },
];

export const withRevisions = (events: readonly NewEvent[], first: number): StoredEvent[] =>
  events.map((e, i) => ({ ...e, revision: rev(first + i), commitId: rev(first) }));
