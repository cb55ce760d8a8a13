#!/usr/bin/env node
/** The `varledger` command. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { PACKAGE_ROOT } from '../package-root.js';
import { auditCommand } from './audit-command.js';
import { compactCommand } from './compact-command.js';
import { EXIT_USAGE } from './exit.js';
import { exportCommand } from './export-command.js';
import { historyCommand } from './history-command.js';
import { importCommand } from './import-command.js';
import { replayCommand } from './replay-command.js';
import { serveCommand } from './serve-command.js';
import { sessionsCommand } from './sessions-command.js';
import { stateCommand } from './state-command.js';
import { tokenCommand } from './token-command.js';
import { verifyCommand } from './verify-command.js';

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

const program = new Command('varledger')
  .description('typed, versioned session variables over gRPC, backed by an append-only SQLite event log')
  .version(version, '-V, --version', 'print the version and exit')
  .addCommand(serveCommand())
  .addCommand(auditCommand())
  .addCommand(historyCommand())
  .addCommand(stateCommand())
  .addCommand(replayCommand())
  .addCommand(verifyCommand())
  .addCommand(exportCommand())
  .addCommand(compactCommand())
  .addCommand(importCommand())
  .addCommand(sessionsCommand())
  .addCommand(tokenCommand());

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
