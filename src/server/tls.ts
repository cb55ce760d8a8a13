/**
 * TLS for the gRPC port, with certificates that can be swapped without a
 * restart. grpc-js hands new secure-context options to its HTTP/2 servers
 * through the credentials' watchers (`setSecureContext`), the mechanism its
 * own certificate providers use; these credentials feed it from PEM files
 * read again on `reload()` (SIGHUP). New connections get the new files;
 * established ones keep theirs.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';

export interface TlsFiles {
  /** PEM certificate chain of the server. */
  readonly certFile: string;
  /** PEM private key of the server. */
  readonly keyFile: string;
  /** PEM CA bundle: clients must present a certificate it signed (mTLS). */
  readonly clientCaFile?: string;
}

async function readPems(files: TlsFiles): Promise<SecureContextOptions> {
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, 'certificate'),
    read(files.keyFile, 'key'),
    files.clientCaFile === undefined ? undefined : read(files.clientCaFile, 'client CA'),
  ]);
  const options: SecureContextOptions = { cert, key, ...(ca && { ca }) };
  try {
    // Parse now: a bad file must fail here with its names, not when a client connects.
    createSecureContext(options);
  } catch (error) {
    throw new Error(`the TLS files do not load (${files.certFile}, ${files.keyFile}${files.clientCaFile ? `, ${files.clientCaFile}` : ''}): ${error instanceof Error ? error.message : String(error)}`);
  }
  return options;
}

export class ReloadableTlsCredentials extends ServerCredentials {
  private constructor(
    private readonly files: TlsFiles,
    initial: SecureContextOptions,
  ) {
    super(
      // Without a client CA, no certificate is asked for; with one, it is required and verified.
      { requestCert: files.clientCaFile !== undefined, rejectUnauthorized: files.clientCaFile !== undefined },
      initial,
    );
  }

  /** Reads and checks the files; throws with their names if they do not load. */
  static async load(files: TlsFiles): Promise<ReloadableTlsCredentials> {
    return new ReloadableTlsCredentials(files, await readPems(files));
  }

  /**
   * Reads the files again and serves them to new connections. If they do not
   * load, throws and the current certificates stay in use.
   */
  async reload(): Promise<void> {
    this.updateSecureContextOptions(await readPems(this.files));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
