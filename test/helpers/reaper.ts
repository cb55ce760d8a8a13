/**
 * Child processes that cannot outlive their test file.
 *
 * Teardowns are not enough: when a test times out, ava terminates the
 * worker thread of every file still running, which runs no teardown and no
 * `exit` listener, and a `serve` child (or one a README block started in the
 * background) would run on with nobody to stop it. So each child gets its own
 * process group, and one small `sh` per test file holds the read end of a
 * pipe from this worker: the pipe closes however the worker ends (normally,
 * terminated, or the whole ava process killed), and the watchdog then kills
 * every group still registered with SIGKILL.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Socket } from 'node:net';

// `add G` / `del G` lines; at end of input, SIGKILL to every group still listed.
const WATCHDOG = `
groups=" "
while read -r op g; do
  case "$op" in
    add) groups="$groups$g " ;;
    del) groups=$(printf '%s' "$groups" | sed "s/ $g / /") ;;
  esac
done
for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
`;

let watchdog: ChildProcess | undefined;

function tell(line: string): void {
  if (!watchdog) {
    watchdog = spawn('sh', ['-c', WATCHDOG], { stdio: ['pipe', 'ignore', 'ignore'] });
    // Neither the watchdog nor its pipe may keep this worker alive.
    watchdog.unref();
    (watchdog.stdin as Socket).unref();
  }
  watchdog.stdin!.write(`${line}\n`);
}

/** Kills the child's whole process group (ignored when it is gone already). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/**
 * `spawn`, with the child leading a new process group that is killed when
 * this test file's worker ends; once the child has exited, whatever it left
 * running in its group (a background server) is killed at once — unless
 * `keepGroupAfterExit`, for a test of what the group does when its leader
 * dies: then the group stays until the test kills it (`killGroup`) or the
 * worker ends.
 */
export function spawnReaped(command: string, args: readonly string[], options: SpawnOptions, { keepGroupAfterExit = false } = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) return child;
  tell(`add ${pid}`);
  if (keepGroupAfterExit) return child;
  child.once('exit', () => {
    killGroup(child);
    tell(`del ${pid}`);
  });
  return child;
}
