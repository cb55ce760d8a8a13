/**
 * The server's view of who is who: the auth file (reloaded when it changes
 * or on `reload()`, i.e. SIGHUP) and whether client certificates name
 * principals. Every protocol asks it the same two questions — "who is this"
 * (`authenticate`, `principalFromToken`) and "may they" (`mayAccess`) — so
 * the gRPC interceptor and an HTTP layer decide alike.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { DomainError } from '../domain/index.js';
import { isAdmin, mayAccess, type Access, type Principal } from './access.js';
import { AuthFileError, DEFAULT_LIMITS, parseAuthFile, principalNameProblem, type AuthConfig } from './auth-file.js';
import { bearerToken, hashToken } from './tokens.js';

export { mayAccess, isAdmin, type Access, type Principal };
export { actorFor } from './actor.js';

export interface AuthorityOptions {
  /** JSON auth file; absent: no tokens. */
  readonly authFile?: string;
  /** Client certificates are required and their subject CN is the principal (mTLS). */
  readonly clientCertificates?: boolean;
  /** Told about reloads and failed reloads (the old file then stays in force). */
  readonly onReload?: (outcome: { ok: true; principals: number } | { ok: false; error: Error }) => void;
}

/** What a call presents: its `authorization` header values and its verified client certificate's CN. */
export interface Credentials {
  readonly authorization: readonly (string | Buffer)[];
  readonly certificateSubject?: string | undefined;
}

const EMPTY: AuthConfig = { principals: [], byTokenHash: new Map(), byName: new Map(), defaultLimits: DEFAULT_LIMITS };

export class Authority {
  private config: AuthConfig = EMPTY;
  private watcher: FSWatcher | undefined;
  private loading: Promise<void> = Promise.resolve();

  private constructor(private readonly options: AuthorityOptions) {}

  /** Loads the auth file (a bad one fails here, with its path) and watches it for changes. */
  static async open(options: AuthorityOptions): Promise<Authority> {
    const authority = new Authority(options);
    if (options.authFile !== undefined) {
      authority.config = await readAuthFile(options.authFile);
      authority.watchFile(options.authFile);
    }
    return authority;
  }

  /** Auth is on: calls must name a principal, and what they may do is checked. */
  get enabled(): boolean {
    return this.options.authFile !== undefined || this.options.clientCertificates === true;
  }

  /**
   * Reads the auth file again. A file that does not parse is refused and the
   * previous one stays in force: a half-saved edit must not lock everyone out
   * (or let everyone in).
   */
  reload(): Promise<void> {
    const file = this.options.authFile;
    if (file === undefined) return Promise.resolve();
    this.loading = this.loading.then(async () => {
      try {
        this.config = await readAuthFile(file);
        this.options.onReload?.({ ok: true, principals: this.config.principals.length });
      } catch (error) {
        this.options.onReload?.({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
    return this.loading;
  }

  /** The principal a bearer token belongs to, or undefined. For HTTP layers: the same tokens as gRPC. */
  principalFromToken(token: string): Principal | undefined {
    return this.config.byTokenHash.get(hashToken(token));
  }

  /**
   * The principal of a call. Throws DomainError `unauthenticated` (never
   * anything else) when there is none. A verified client certificate names
   * the principal; a token alongside it must name the same one.
   */
  authenticate(credentials: Credentials): Principal {
    const fromCertificate = credentials.certificateSubject !== undefined ? this.certificatePrincipal(credentials.certificateSubject) : undefined;
    if (fromCertificate && credentials.authorization.length === 0) return fromCertificate;
    const bearer = bearerToken(credentials.authorization);
    if ('problem' in bearer) throw new DomainError('unauthenticated', `Unauthenticated: ${bearer.problem}; send "authorization: Bearer <token>"`);
    const fromToken = this.principalFromToken(bearer.token);
    if (!fromToken) throw new DomainError('unauthenticated', 'Unauthenticated: unknown token');
    if (fromCertificate && fromCertificate.name !== fromToken.name) {
      throw new DomainError('unauthenticated', 'Unauthenticated: the token and the client certificate name different principals');
    }
    return fromToken;
  }

  /** Stops watching the file. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private certificatePrincipal(subject: string): Principal {
    const problem = principalNameProblem(subject);
    if (problem) throw new DomainError('unauthenticated', `Unauthenticated: the client certificate's subject CN ${problem}`);
    // Without an entry in the auth file the CA's word is the grant: a CA
    // that signs client certificates for this server vouches for them fully.
    return this.config.byName.get(subject) ?? (this.options.authFile === undefined ? certificateAdmin(subject) : noGrants(subject, this.config));
  }

  /**
   * Watches the file's folder, not the file: editors and `token add` save by
   * writing a new file and renaming it over the old one.
   */
  private watchFile(file: string): void {
    const path = resolve(file);
    const name = basename(path);
    this.watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      if (changed === null || changed.toString() === name) void this.reload();
    });
    this.watcher.on('error', () => this.close());
  }
}

const certificateAdmin = (name: string): Principal => ({ name, grants: [{ sessions: '*', access: 'admin' }], limits: DEFAULT_LIMITS });
const noGrants = (name: string, config: AuthConfig): Principal => ({ name, grants: [], limits: config.defaultLimits });

async function readAuthFile(file: string): Promise<AuthConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AuthFileError(`cannot read auth file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parseAuthFile(text);
  } catch (error) {
    throw new AuthFileError(`auth file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
