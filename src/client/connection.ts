/**
 * How a client reaches a server: channel credentials (plain, TLS, or mTLS)
 * and the bearer token every call carries. Shared by `connect()`,
 * `LedgerRpc` and the CLI.
 */
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';

export interface TlsOptions {
  /** PEM of the CA that signed the server's certificate; absent: the system's roots. */
  readonly ca?: string | Buffer;
  /** PEM client certificate chain, for a server that requires one (mTLS). */
  readonly cert?: string | Buffer;
  /** PEM private key of `cert`. */
  readonly key?: string | Buffer;
}

export interface ConnectionOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  /** Connect over TLS; absent: plain text (loopback). */
  readonly tls?: TlsOptions;
}

const bytes = (pem: string | Buffer | undefined) => (pem === undefined ? null : Buffer.isBuffer(pem) ? pem : Buffer.from(pem));

export function channelCredentials(tls: TlsOptions | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError('varledger connect: tls.cert and tls.key go together');
  return credentials.createSsl(bytes(tls.ca), bytes(tls.key), bytes(tls.cert));
}

/**
 * The token travels as call metadata rather than as grpc call credentials:
 * grpc-js refuses those on a plain-text channel, and a token over loopback
 * without TLS is a supported setup.
 */
export function addToken(metadata: Metadata, token: string | undefined): Metadata {
  if (token !== undefined && token !== '') metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
