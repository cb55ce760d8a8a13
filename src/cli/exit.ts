/**
 * Exit codes shared by every audit command, and the wrapper that turns an
 * action's result or error into one. Scripts rely on the split: 1 means "the
 * check ran and found a problem", 2 means "the check could not run".
 */
export const EXIT_OK = 0;
/** A verification or comparison ran and failed. */
export const EXIT_FAILED = 1;
/** Bad usage, or a database that cannot be read. */
export const EXIT_USAGE = 2;

/** An error whose message is meant for the user, with the exit code it calls for. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

/**
 * Wraps a commander action: its return value becomes the exit code, an error
 * a one-line message on stderr. Sets `process.exitCode` rather than calling
 * `process.exit`, which could cut off output still queued for a pipe.
 */
export function runAction<A extends unknown[]>(fn: (...args: A) => number | void | Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    try {
      process.exitCode = (await fn(...args)) ?? EXIT_OK;
    } catch (error) {
      process.stderr.write(`varledger: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : EXIT_USAGE;
    }
  };
}
