/**
 * The web view as the server starts it (`serve --http-port`): the ledger's
 * read side, the server's authentication and, under TLS, its certificate.
 * The server imports this module only when the web view is asked for, so a
 * server without it loads none of the HTTP stack.
 */
import type { Logger } from 'pino';
import type { Authority } from '../auth/authority.js';
import type { LedgerService } from '../service/ledger-service.js';
import type { StoreLocation } from '../store/store-location.js';
import type { WebAccess } from './access.js';
import { authorityAccess } from './authority-access.js';
import { webLedger } from './ledger-port.js';
import { startWebServer, type RunningWebServer } from './web-server.js';

export interface WebViewOptions {
  readonly host: string;
  readonly port: number;
  readonly service: LedgerService;
  readonly authority: Authority;
  /** The log, for "verify now". */
  readonly store: StoreLocation;
  readonly logger: Logger;
  /** Overrides the server's authentication (tests, embedding). */
  readonly access?: WebAccess;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export function startWebView(options: WebViewOptions): Promise<RunningWebServer> {
  return startWebServer({
    host: options.host,
    port: options.port,
    ledger: webLedger(options.service),
    store: options.store,
    logger: options.logger,
    access: options.access ?? authorityAccess(options.authority),
    ...(options.tls && { tls: options.tls }),
  });
}
