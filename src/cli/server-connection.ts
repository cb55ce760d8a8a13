/**
 * Flags of CLI commands that talk to a running server: where it is, the
 * bearer token, and TLS files. The audit commands read the database file
 * directly and need none of this.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { ConnectionOptions } from '../client/connection.js';
import { CliError } from './exit.js';

export interface ServerFlags {
  address: string;
  token?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tls?: boolean;
}

/** Adds --address, --token, --tls, --tls-ca, --tls-cert, --tls-key, each with a VARLEDGER_* variable. */
export function withServerFlags(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', 'the server').env('VARLEDGER_ADDRESS').default('127.0.0.1:50051'))
    .addOption(new Option('--token <token>', 'bearer token (varledger token add)').env('VARLEDGER_TOKEN'))
    .addOption(new Option('--tls', 'connect over TLS, trusting the system CAs').env('VARLEDGER_TLS'))
    .addOption(new Option('--tls-ca <file>', 'connect over TLS, trusting this PEM CA').env('VARLEDGER_TLS_CA'))
    // Not VARLEDGER_TLS_CERT/KEY: those name the server's own certificate for `serve`.
    .addOption(new Option('--tls-cert <file>', 'PEM client certificate, for servers that require one').env('VARLEDGER_CLIENT_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('VARLEDGER_CLIENT_KEY'));
}

function pem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function connectionOptions(flags: ServerFlags): ConnectionOptions {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together');
  const useTls = flags.tls === true || flags.tlsCa !== undefined || flags.tlsCert !== undefined;
  return {
    ...(flags.token !== undefined && flags.token !== '' && { token: flags.token }),
    ...(useTls && {
      tls: {
        ...(flags.tlsCa !== undefined && { ca: pem(flags.tlsCa) }),
        ...(flags.tlsCert !== undefined && { cert: pem(flags.tlsCert) }),
        ...(flags.tlsKey !== undefined && { key: pem(flags.tlsKey) }),
      },
    }),
  };
}
