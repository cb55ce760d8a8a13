/**
 * Python workers against a real server: `varledger serve` in a child process
 * (port 0, temp database, a server-side tool module), our own Python worker
 * (bridge_worker.py, stubs generated from proto/snakepit/bridge/
 * snakepit_bridge.proto) speaking the wire as Snakepit's SessionContext does,
 * and a restart (kill -9) between its two phases.
 *
 * When VARLEDGER_SNAKEPIT_DIR names a Snakepit checkout (commit 40d87b1, the
 * variables era), the same group also runs Snakepit's own client and its
 * test/integration/test_variables.py against the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startCli, type ReadyCli } from '../helpers/cli-process.js';
import { preparePython, PYTHON_DIR, runPython, type PythonEnv } from './python-env.js';

const TOOLS_MODULE = `
export const tools = [
  {
    name: 'add',
    description: 'adds two numbers',
    parameters: [
      { name: 'a', type: 'float', required: true },
      { name: 'b', type: 'float', required: true },
    ],
    handler: ({ a, b }) => a + b,
  },
];
`;

interface Scratch {
  readonly dir: string;
  readonly data: string;
  readonly tools: string;
}

function scratch(): Scratch & { remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-py-'));
  const tools = join(dir, 'tools.mjs');
  writeFileSync(tools, TOOLS_MODULE);
  return { dir, data: join(dir, 'ledger.db'), tools, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const serve = (s: Scratch): Promise<ReadyCli> => startCli(['--port', '0', '--data', s.data, '--tools', s.tools, '--log-level', 'warn']);

async function worker(env: PythonEnv, address: string, phase: 'before' | 'after'): Promise<Record<string, unknown>> {
  const { stdout } = await runPython(env.python, [join(PYTHON_DIR, 'bridge_worker.py'), env.stubsDir, address, phase]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

test.serial('a Python worker: every type round-trips, batches are atomic, watch/history/tools work, data survives kill -9', async (t) => {
  const env = await preparePython();
  t.teardown(() => env.remove());
  const s = scratch();
  t.teardown(() => s.remove());

  let server = await serve(s);
  t.teardown(() => server.stop('SIGKILL'));
  const before = await worker(env, server.address, 'before');

  t.deepEqual(before['registered'], {
    temperature: 0.7,
    max_tokens: '9007199254740993',
    model: 'gpt-4o-mini',
    reasoner: 'ChainOfThought',
    prompt: 'Answer briefly: ünïcode ✓',
    enabled: true,
    loss: 'inf',
    small_embedding: [0.25, -0.5, 1.0],
    big_embedding_equal: true,
    small_tensor_equal: true,
    big_tensor_equal: true,
    missing: ['nope'],
  });
  t.deepEqual(before['reply_encodings'], {
    temperature: 'type.googleapis.com/snakepit.float',
    big_embedding: 'type.googleapis.com/snakepit.embedding.binary',
    big_tensor: 'type.googleapis.com/snakepit.tensor.binary',
    small_tensor: 'type.googleapis.com/snakepit.tensor',
  });
  t.is(before['set_version'], 1);
  t.like(before['above_max'], { code: 'INVALID_ARGUMENT', details: 'Value 1.5 is above maximum 1' });
  t.like(before['not_an_integer'], { code: 'INVALID_ARGUMENT' });
  t.regex((before['not_an_integer'] as { details: string }).details, /Cannot convert "lots" to integer/);
  t.like(before['stale_version'], { code: 'ABORTED' });
  t.deepEqual(before['unknown_variable'], { code: 'NOT_FOUND', details: 'Variable not found: no_such_variable' });
  t.deepEqual(before['watch'], { initial: ['initial_value', 0.9], change: ['value_change', 0.8, { reason: 'watched' }] });

  t.deepEqual(before['atomic_batch'], { success: false, error_keys: ['model'], new_versions: {}, after: [0.8, '9007199254740993', 'gpt-4o-mini'] });
  // Non-atomic: processed (success), the bad key reported, the good ones written.
  t.deepEqual(before['non_atomic_batch'], { success: true, error_keys: ['model'], versioned_keys: ['max_tokens', 'temperature'], after: [0.4, '8', 'gpt-4o-mini'] });
  t.deepEqual(before['binary_batch'], { success: true, errors: {}, equal: true, enabled: false });

  t.deepEqual(before['history'], [
    [3, 0.4, ''],
    [2, 0.8, 'watched'],
    [1, 0.9, 'explore'],
    [0, 0.7, ''],
  ]);
  t.deepEqual(before['rollback'], [4, 0.9]);
  t.deepEqual(before['list_small'], ['small_embedding', 'small_tensor']);
  t.deepEqual(before['tools'], { add: ['a', 'b'] });
  t.is(before['tool_result'], 5.5);
  t.like(before['deleted'], { code: 'NOT_FOUND' });
  t.deepEqual(before['cleanup'], [1, 0]);
  t.like(before['after_cleanup'], { code: 'FAILED_PRECONDITION' });

  // kill -9: every acknowledged write must be in the log.
  await server.stop('SIGKILL');
  server = await serve(s);
  const after = await worker(env, server.address, 'after');
  t.deepEqual(after, {
    initial_variables: [
      'big_embedding',
      'big_tensor',
      'enabled',
      'loss',
      'max_tokens',
      'model',
      'prompt',
      'reasoner',
      'small_embedding',
      'small_tensor',
      'temperature',
    ],
    temperature: 0.9,
    max_tokens: '8',
    model: 'gpt-4o-mini',
    reasoner: 'ChainOfThought',
    prompt: 'Answer briefly: ünïcode ✓',
    enabled: false,
    loss: 'inf',
    big_embedding_equal: true,
    big_tensor_equal: true,
    small_tensor_equal: true,
    missing: [],
    history_versions: [4, 3, 2, 1, 0],
    set_version: 5,
  });
});

const snakepitDir = process.env.VARLEDGER_SNAKEPIT_DIR;

(snakepitDir ? test.serial : test.skip)("Snakepit's own client and its test_variables.py against varledger (VARLEDGER_SNAKEPIT_DIR)", async (t) => {
  const dir = snakepitDir as string;
  const env = await preparePython(['grpc', 'google.protobuf', 'numpy', 'pytest']);
  t.teardown(() => env.remove());
  const s = scratch();
  t.teardown(() => s.remove());
  const server = await serve(s);
  t.teardown(() => server.stop('SIGKILL'));
  const shimEnv = { VARLEDGER_STUBS_DIR: env.stubsDir, VARLEDGER_SNAKEPIT_DIR: dir, VARLEDGER_ADDRESS: server.address, PYTHONPATH: PYTHON_DIR };

  const client = await runPython(env.python, [join(PYTHON_DIR, 'snakepit_client_check.py')], shimEnv);
  const observed = JSON.parse(client.stdout) as Record<string, unknown>;
  t.deepEqual(observed, {
    registered_id_prefix: 'var_',
    temperature: 0.9,
    dict_style: 42,
    batch: { a: true, b: true },
    batch_values: [10, 20],
    embedding_sent_as: 'type.googleapis.com/snakepit.embedding.binary',
    big_embedding_equal: true,
    tensor_sent_as: 'type.googleapis.com/snakepit.tensor.binary',
    tensor_shape: [1500, 2],
    tensor_equal: true,
    above_max: true,
    tools: ['add'],
    tool_result: 5.5,
  });

  const pytest = await runPython(
    env.python,
    [
      '-m', 'pytest', '-p', 'snakepit_pytest_shim', '-q', '-rfE', '-p', 'no:cacheprovider',
      '--rootdir', dir, '-c', join(dir, 'pytest.ini'), join(dir, 'test', 'integration', 'test_variables.py'),
    ],
    shimEnv,
    120_000,
  ).catch((error: Error) => ({ stdout: error.message, stderr: '' }));
  const summary = /=+ (.*) in [\d.]+s =+/.exec(pytest.stdout)?.[1] ?? 'no summary';
  const failed = [...pytest.stdout.matchAll(/^(?:FAILED|ERROR) [^:\s]+::(\S+)/gm)].map((m) => m[1]).sort();
  t.log(`Snakepit test_variables.py against varledger: ${summary}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  t.regex(summary, /\b(1[89]|2\d) passed\b/);
  t.deepEqual(failed, Object.keys(KNOWN_SNAKEPIT_FAILURES).sort(), pytest.stdout);
});

/**
 * Tests of Snakepit's test_variables.py (40d87b1) that fail against
 * Snakepit's own Elixir server too, for reasons inside its client or test.
 */
const KNOWN_SNAKEPIT_FAILURES: Record<string, string> = {
  // Expects ValueError for a too-short / non-matching string, but
  // SessionContext.update_variable checks no constraints itself: the
  // server's INVALID_ARGUMENT arrives as grpc.RpcError (Snakepit's own
  // bridge_server.ex raises the same status).
  'TestErrorHandling::test_constraint_validation': 'client raises grpc.RpcError, the test expects ValueError',
};
