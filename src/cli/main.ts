#!/usr/bin/env node
/** The `varledger` command. */
import { Command } from 'commander';
import { serveCommand } from './serve-command.js';

const program = new Command('varledger')
  .description('typed, versioned session variables over gRPC, backed by an append-only SQLite event log')
  .addCommand(serveCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`varledger: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
