/**
 * Throw-away certificates for TLS tests, made with the openssl command line
 * in a temp folder: a CA, a server certificate for 127.0.0.1/localhost, and
 * client certificates with a chosen subject CN. EC P-256 keys: quick to make.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

const openssl = (args: readonly string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function read(certFile: string, keyFile: string): Pem {
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

export class TestCa {
  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly pem: Pem,
  ) {}

  /** A self-signed CA named `name` in `dir`. */
  static create(dir: string, name: string): TestCa {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    openssl(['req', '-x509', ...ecKey, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`]);
    return new TestCa(dir, name, read(certFile, keyFile));
  }

  /** A certificate signed by this CA: subject CN `cn`; `server` adds 127.0.0.1 and localhost as names. */
  issue(file: string, cn: string, options: { server?: boolean } = {}): Pem {
    const base = join(this.dir, file);
    const ext = `${base}.ext`;
    writeFileSync(ext, options.server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n');
    openssl(['req', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.pem.certFile, '-CAkey', this.pem.keyFile, '-CAcreateserial', '-out', `${base}.pem`, '-days', '2', '-extfile', ext]);
    return read(`${base}.pem`, `${base}.key`);
  }
}
