/** `varledger token add`: a principal with a fresh bearer token, stored in the auth file as a hash. */
import { Command, Option } from 'commander';
import { ACCESS_LEVELS, type Access } from '../auth/access.js';
import { addTokenPrincipal } from '../auth/auth-file-edit.js';
import { AuthFileError } from '../auth/auth-file.js';
import { CliError, runAction } from './exit.js';

interface TokenAddOptions {
  sessions: string;
  access: Access;
  authFile: string;
}

export function tokenCommand(): Command {
  const add = new Command('add')
    .description('add a principal with a new random token; prints the token once, stores only its SHA-256')
    .argument('<name>', 'principal name (recorded as the actor of its changes)')
    .requiredOption('--sessions <glob>', 'sessions it may access (* and ? wildcards)')
    .addOption(new Option('--access <level>', 'read < write < admin (admin: every session)').choices([...ACCESS_LEVELS]).makeOptionMandatory())
    .addOption(new Option('--auth-file <file>', 'the auth file to add to (created if missing)').env('VARLEDGER_AUTH_FILE').makeOptionMandatory())
    .action(
      runAction(async (name: string, opts: TokenAddOptions) => {
        let token: string;
        try {
          token = await addTokenPrincipal(opts.authFile, { name, sessions: opts.sessions, access: opts.access });
        } catch (error) {
          if (error instanceof AuthFileError) throw new CliError(error.message);
          throw error;
        }
        process.stdout.write(`${token}\n`);
        process.stderr.write(`varledger: added ${name} (${opts.access} on ${opts.sessions}) to ${opts.authFile}; the token above is shown only this once\n`);
      }),
    );
  return new Command('token').description('manage bearer tokens in an auth file').addCommand(add);
}
