/**
 * `varledger sessions`: the sessions a running server shows the caller —
 * with auth on, exactly those its principal may read. A quick check of a
 * token, a certificate or a grant.
 */
import { Command } from 'commander';
import { CliError, runAction } from './exit.js';
import { iso, printTable, writeJsonLine } from './format.js';
import { connectionOptions, withServerFlags, type ServerFlags } from './server-connection.js';

interface SessionsOptions extends ServerFlags {
  json?: boolean;
}

const PAGE = 1000;
const DEADLINE_MS = 10_000;

export function sessionsCommand(): Command {
  return withServerFlags(
    new Command('sessions')
      .description('list the sessions a running server shows you (with auth on: those you may read)')
      .option('--json', 'one JSON object per session'),
  )
    .addHelpText('after', '\nExamples:\n  varledger sessions --address 127.0.0.1:50051\n  VARLEDGER_TOKEN=… varledger sessions --tls-ca ca.pem --address ledger.internal:50051')
    .action(
      runAction(async (opts: SessionsOptions) => {
        // Loaded here: gRPC would slow the start of every other command.
        const [{ toVarledgerError }, { LedgerRpc }, { SessionState }] = await Promise.all([
          import('../client/errors.js'),
          import('../client/ledger-rpc.js'),
          import('../gen/varledger/v1/ledger.js'),
        ]);
        const rpc = new LedgerRpc(opts.address, {}, connectionOptions(opts));
        try {
          const rows: string[][] = [];
          let pageToken = '';
          do {
            const page = await rpc.call('listSessions', { pageSize: PAGE, pageToken }, { deadline: new Date(Date.now() + DEADLINE_MS) });
            for (const s of page.sessions) {
              const state = (SessionState[s.state] ?? String(s.state)).replace(/^SESSION_STATE_/, '').toLowerCase();
              if (opts.json) writeJsonLine({ session_id: s.sessionId, state, variable_count: s.variableCount, created_at: s.createdAt?.toISOString() ?? null });
              else rows.push([s.sessionId, state, String(s.variableCount), s.createdAt ? iso(s.createdAt.getTime()) : '']);
            }
            pageToken = page.nextPageToken;
          } while (pageToken !== '');
          if (!opts.json) printTable(['session', 'state', 'variables', 'created'], rows, 'no sessions (or none you may read)');
        } catch (error) {
          if (error instanceof CliError) throw error;
          const typed = toVarledgerError(error);
          throw new CliError(`${opts.address}: ${typed.message}`, 1);
        } finally {
          rpc.close();
        }
      }),
    );
}
