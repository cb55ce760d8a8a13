/**
 * `GET /metrics` over plain HTTP for Prometheus (`serve --metrics-port`).
 * Its own listener, apart from gRPC and the web view: Prometheus scrapes
 * without credentials, so it binds 127.0.0.1 unless told otherwise, and it
 * serves counts and method names only — never session ids or values.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Error texts a user can act on; the raw code would be mistaken for the gRPC port's (serve reports both). */
function bindFailure(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const reason =
    error.code === 'EADDRINUSE'
      ? 'the port is already in use'
      : error.code === 'EACCES'
        ? 'no permission to listen there'
        : error.code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine`
          : error.message;
  return new Error(`cannot serve metrics on ${host}:${port}: ${reason}`);
}

export async function serveMetrics(source: MetricsSource, host: string, port: number, logger: Logger): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
      return;
    }
    source.metrics().then(
      (text) => response.writeHead(200, { 'content-type': source.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        logger.error({ err: error }, 'collecting metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('Collecting metrics failed; see the server log\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(bindFailure(error, host, port)));
    server.listen(port, host, () => resolve());
  });
  server.on('error', (error) => logger.error({ err: error }, 'metrics listener failed'));
  return {
    port: (server.address() as AddressInfo).port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        // Prometheus keeps its connection open between scrapes.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
