#!/usr/bin/env node
/** The `varledger` command. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { PACKAGE_ROOT } from '../package-root.js';
import { EXIT_USAGE } from './exit.js';

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

/**
 * Each command's module, loaded only when that command runs: a command's
 * imports (the server, the stores, the progress bar) cost a start-up most
 * invocations do not need — `varledger audit` loads a fraction of what
 * `varledger serve` does. The order is the order `--help` lists them in.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve-command.js')).serveCommand(),
  audit: async () => (await import('./audit-command.js')).auditCommand(),
  history: async () => (await import('./history-command.js')).historyCommand(),
  state: async () => (await import('./state-command.js')).stateCommand(),
  replay: async () => (await import('./replay-command.js')).replayCommand(),
  verify: async () => (await import('./verify-command.js')).verifyCommand(),
  export: async () => (await import('./export-command.js')).exportCommand(),
  compact: async () => (await import('./compact-command.js')).compactCommand(),
  import: async () => (await import('./import-command.js')).importCommand(),
  sessions: async () => (await import('./sessions-command.js')).sessionsCommand(),
  token: async () => (await import('./token-command.js')).tokenCommand(),
};

// The command named first on the line, or all of them when there is none
// (--help, --version, a typo): commander then lists or rejects as usual.
const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);

const program = new Command('varledger')
  .description('typed, versioned session variables over gRPC, backed by an append-only SQLite event log')
  .version(version, '-V, --version', 'print the version and exit');
for (const command of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) program.addCommand(command);

// Commander exits 1 on a usage error; 1 means "a check failed" here, so
// usage errors throw instead and exit 2 below. (Subcommands added with
// addCommand do not inherit the setting.)
for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) command.exitOverride();

// `varledger audit | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  process.stderr.write(`varledger: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
