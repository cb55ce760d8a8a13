/**
 * Python for the bridge tests and the bench: an interpreter that has Debian's
 * python3-grpcio, python3-protobuf and python3-numpy, and stubs generated
 * from our copy of Snakepit's proto with Debian's protoc + grpc_python_plugin
 * (protobuf-compiler-grpc). `.ci/run` installs those packages when missing.
 *
 * The interpreter is VARLEDGER_PYTHON when set, else the first of
 * /usr/bin/python3 and `python3` that can import them: the python3 first on
 * PATH may be another installation (pyenv) without the Debian modules.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const run = promisify(execFile);

export const PYTHON_DIR = join(PACKAGE_ROOT, 'test', 'python');
const PROTO_DIR = join(PACKAGE_ROOT, 'proto', 'snakepit', 'bridge');
const INSTALL_HINT = 'install Debian packages python3-grpcio python3-protobuf python3-numpy protobuf-compiler-grpc (see .ci/run)';

export interface PythonEnv {
  /** The interpreter that imports grpc, google.protobuf and numpy. */
  readonly python: string;
  /** Folder holding snakepit_bridge_pb2.py and snakepit_bridge_pb2_grpc.py. */
  readonly stubsDir: string;
  /** Removes the stubs folder. */
  remove(): void;
}

async function canImport(python: string, modules: readonly string[]): Promise<boolean> {
  try {
    await run(python, ['-c', `import ${modules.join(', ')}`], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The first interpreter that imports `modules`; throws naming what to install. */
export async function findPython(modules: readonly string[] = ['grpc', 'google.protobuf', 'numpy']): Promise<string> {
  const candidates = process.env.VARLEDGER_PYTHON ? [process.env.VARLEDGER_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const python of candidates) {
    if (await canImport(python, modules)) return python;
  }
  throw new Error(`no Python interpreter (${candidates.join(', ')}) imports ${modules.join(', ')}: ${INSTALL_HINT}`);
}

/** Generates the Python stubs into a fresh temp folder (top-level module names, as Snakepit's client imports them). */
export async function generateStubs(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'varledger-pystubs-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const { stdout: plugin } = await run('sh', ['-c', 'command -v grpc_python_plugin']).catch(() => ({ stdout: '' }));
    if (plugin.trim() === '') throw new Error(`grpc_python_plugin not found: ${INSTALL_HINT}`);
    await run('protoc', [
      `-I${PROTO_DIR}`,
      `--python_out=${dir}`,
      `--grpc_python_out=${dir}`,
      `--plugin=protoc-gen-grpc_python=${plugin.trim()}`,
      join(PROTO_DIR, 'snakepit_bridge.proto'),
    ]);
    return { dir, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export async function preparePython(modules?: readonly string[]): Promise<PythonEnv> {
  const python = await findPython(modules);
  const stubs = await generateStubs();
  return { python, stubsDir: stubs.dir, remove: stubs.remove };
}

export interface PythonRun {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Python script to completion; rejects with its stderr when it exits non-zero. */
export async function runPython(python: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<PythonRun> {
  try {
    return await run(python, [...args], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...env },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${python} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
