/**
 * The web view's HTTP server (`serve --http-port`): binds, serves the app,
 * and on shutdown ends every live stream (browsers see a `shutdown` event)
 * before closing the connections.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import type { StoreLocation } from '../store/store-location.js';
import { OPEN_ACCESS, type WebAccess } from './access.js';
import type { WebLedger } from './ledger-port.js';
import { LiveFeed } from './live-feed.js';
import { VerifyJob } from './verify-job.js';
import { webApp } from './web-app.js';

export interface WebServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly ledger: WebLedger;
  /** The log (SQLite file or PostgreSQL database), for "verify now". */
  readonly store: StoreLocation;
  readonly logger: Logger;
  /** Default: no authentication, like the gRPC API without it. */
  readonly access?: WebAccess;
  /** Bytes queued per live page before it falls back to reading the log. */
  readonly liveBufferBytes?: number;
  /** Open live streams at most. */
  readonly maxLiveStreams?: number;
  /** Serve HTTPS with the gRPC port's certificate: tokens never cross the network in clear text. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface RunningWebServer {
  readonly port: number;
  /** Live streams open now (browser pages following a session or the log). */
  readonly liveStreams: number;
  readonly protocol: 'http' | 'https';
  /** Reads the certificate files again for new connections (SIGHUP); throws, keeping the old ones, if they do not load. */
  reloadTls(): Promise<void>;
  close(): Promise<void>;
}

/** Why listening failed, in words (the gRPC port's start-up messages are matched on error codes). */
function listenProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return 'the port is already in use';
  if (code === 'EACCES') return 'no permission to use the port';
  if (code === 'EADDRNOTAVAIL') return 'not an address of this machine';
  return error instanceof Error ? error.message : String(error);
}

async function readPem(files: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  return { cert, key };
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const { logger } = options;
  const feed = new LiveFeed(options.ledger, {
    ...(options.liveBufferBytes !== undefined && { maxBufferBytes: options.liveBufferBytes }),
    ...(options.maxLiveStreams !== undefined && { maxStreams: options.maxLiveStreams }),
    onError: (error) => logger.error({ err: error }, 'web live update failed'),
  });
  const verify = new VerifyJob(options.store);
  const app = webApp({ ledger: options.ledger, feed, verify, access: options.access ?? OPEN_ACCESS, logger });
  const { tls } = options;
  const server = (
    tls
      ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: await readPem(tls) })
      : createAdaptorServer({ fetch: app.fetch })
  ) as Server | HttpsServer;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    feed.close('not started');
    throw new Error(`the web view cannot listen on ${options.host}:${options.port}: ${listenProblem(error)}`);
  }
  server.on('error', (error) => logger.error({ err: error }, 'web server error'));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    port,
    get liveStreams() {
      return feed.size;
    },
    protocol: tls ? 'https' : 'http',
    async reloadTls() {
      if (tls) (server as HttpsServer).setSecureContext(await readPem(tls));
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        feed.close('server shutting down');
        verify.stop();
        server.close(() => resolve());
        // Streams just ended; idle keep-alive connections would hold close() open.
        server.closeIdleConnections();
        setImmediate(() => server.closeAllConnections());
      });
      return closing;
    },
  };
}
