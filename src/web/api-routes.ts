/**
 * The web view's JSON API under /api: sessions, variables as of a revision,
 * histories, rollback, the chain digest and verify, and the live streams.
 * Every route states the permission it needs (auth-middleware.ts).
 */
import { Hono, type Context } from 'hono';
import {
  compileGlob,
  findVariable,
  parseIdentifier,
  parseSessionId,
  parseVersion,
  type Revision,
  type SessionId,
  type SessionState,
  type VariableState,
} from '../domain/index.js';
import { makeFilter } from '../watch/watch-filter.js';
import type {
  DigestJson,
  HistoryJson,
  SessionDetailJson,
  SessionJson,
  SessionsPageJson,
  VariablesAtJson,
  WhoAmIJson,
} from './api-types.js';
import { guard, may, type WebEnv } from './auth-middleware.js';
import { httpError } from './http-errors.js';
import { historyEntryJson, MAX_PICKED, sessionJson, variableJson } from './json.js';
import type { WebLedger } from './ledger-port.js';
import { SSE_HEADERS, type LiveFeed } from './live-feed.js';
import type { VerifyJob } from './verify-job.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const DEFAULT_HISTORY_LIMIT = 200;
const MAX_HISTORY_LIMIT = 2_000;
const MAX_PATTERN_LENGTH = 256;
/** Sessions read per step while filtering the list. */
const SCAN_BATCH = 500;

export interface ApiDeps {
  readonly ledger: WebLedger;
  readonly feed: LiveFeed;
  readonly verify: VerifyJob;
}

function count(c: Context, name: string, fallback: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw httpError(400, `${name} must be a whole number`);
  return Math.min(Number(raw), max);
}

function revisionParam(c: Context, ledger: WebLedger, name: string, raw = c.req.query(name)): Revision {
  if (raw === undefined || raw === '') return 0 as Revision;
  if (!/^\d{1,15}$/.test(raw)) throw httpError(400, `${name} must be a revision number`);
  const revision = Number(raw);
  if (revision > ledger.head()) throw httpError(400, `${name} ${revision} is beyond the head of the log (${ledger.head()})`);
  return revision as Revision;
}

function patternParam(c: Context): string {
  const pattern = c.req.query('pattern') ?? '';
  if (pattern.length > MAX_PATTERN_LENGTH) throw httpError(400, `pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  return pattern;
}

/** Element indices to pick from vectors and tensors: `dims=0,5,7`. */
function dimsParam(c: Context): number[] {
  const raw = c.req.query('dims') ?? '';
  if (raw === '') return [];
  const parts = raw.split(',');
  if (parts.length > MAX_PICKED || !parts.every((p) => /^\d{1,9}$/.test(p))) {
    throw httpError(400, `dims must be up to ${MAX_PICKED} comma-separated element indices`);
  }
  return parts.map(Number);
}

function sessionParam(c: Context): SessionId {
  return parseSessionId(c.req.param('session') ?? '');
}

async function requireSession(ledger: WebLedger, sessionId: SessionId): Promise<SessionState> {
  const session = await ledger.session(sessionId);
  if (!session) throw httpError(404, `Session not found: ${sessionId}`);
  return session;
}

/** A live variable by id or name; the web view shows deleted ones only in the past (`at`). */
function requireVariable(c: Context, session: SessionState): VariableState {
  const identifier = parseIdentifier(c.req.param('variable') ?? '');
  const variable = findVariable(session, identifier);
  if (!variable) throw httpError(404, `Variable not found: ${identifier}`);
  return variable;
}

async function summary(ledger: WebLedger, session: SessionState, expiresAt: number | null): Promise<SessionJson> {
  return sessionJson(session, expiresAt, await ledger.lastEvent(session));
}

export function apiRoutes({ ledger, feed, verify }: ApiDeps): Hono<WebEnv> {
  const api = new Hono<WebEnv>();

  api.get('/whoami', (c) => {
    const principal = c.get('principal');
    const body: WhoAmIJson = { authRequired: c.get('access').required, principal: principal?.name ?? null, admin: may(c, 'admin') };
    return c.json(body);
  });

  // Signed in at all: the list filters by each session's read permission.
  const signedIn = async (c: Context<WebEnv>, next: () => Promise<void>) => {
    if (c.get('access').required && !c.get('principal')) throw httpError(401, 'Sign in: this server needs a token');
    await next();
  };

  api.get('/sessions', signedIn, async (c) => {
    const pageSize = Math.max(1, count(c, 'page_size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
    const pattern = patternParam(c);
    const matches = compileGlob(pattern);
    const found: SessionJson[] = [];
    let token = c.req.query('page_token') ?? '';
    let exhausted = false;
    // Scans in id order until a page of readable matches is full: bounded by the number of sessions.
    while (found.length < pageSize && !exhausted) {
      const page = await ledger.listSessions(SCAN_BATCH, token);
      let scanned = 0;
      for (const view of page.sessions) {
        scanned++;
        token = view.session.id;
        if (!matches(view.session.id) || !may(c, 'read', view.session.id)) continue;
        found.push(await summary(ledger, view.session, view.expiresAt));
        if (found.length === pageSize) break;
      }
      exhausted = page.nextPageToken === '' && scanned === page.sessions.length;
    }
    const body: SessionsPageJson = { sessions: found, nextPageToken: exhausted ? '' : token, head: ledger.head() };
    return c.json(body);
  });

  api.get('/sessions/:session', guard('read'), async (c) => {
    const session = await requireSession(ledger, sessionParam(c));
    const body: SessionDetailJson = { session: await summary(ledger, session, null), head: ledger.head(), can: { write: may(c, 'write', session.id) } };
    return c.json(body);
  });

  api.get('/sessions/:session/variables', guard('read'), async (c) => {
    const sessionId = sessionParam(c);
    await requireSession(ledger, sessionId);
    const at = revisionParam(c, ledger, 'at');
    const { variables, revision } = await ledger.variablesAt(sessionId, patternParam(c), at);
    const body: VariablesAtJson = { revision, revisionTime: (await ledger.revisionTime(revision)) ?? null, variables: variables.map((v) => variableJson(v)) };
    return c.json(body);
  });

  api.get('/sessions/:session/variables/:variable/history', guard('read'), async (c) => {
    const sessionId = sessionParam(c);
    await requireSession(ledger, sessionId);
    const variable = requireVariable(c, (await ledger.sessionWithVariables(sessionId)) as SessionState);
    const limit = Math.max(1, count(c, 'limit', DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT));
    const before = count(c, 'before', 0, Number.MAX_SAFE_INTEGER);
    const dims = dimsParam(c);
    // One extra entry tells whether an older page exists.
    const entries = await ledger.history(variable.id, before > 0 ? before : Number.MAX_SAFE_INTEGER, limit + 1);
    const page = entries.slice(0, limit);
    const oldest = page.at(-1);
    const body: HistoryJson = {
      variable: variableJson(variable, { fullStrings: true, dims }),
      entries: page.map((e) => historyEntryJson(e, { dims })),
      nextBefore: entries.length > limit && oldest ? oldest.version : null,
    };
    return c.json(body);
  });

  api.post('/sessions/:session/variables/:variable/rollback', guard('write'), async (c) => {
    const sessionId = sessionParam(c);
    const body: unknown = await c.req.json().catch(() => undefined);
    if (typeof body !== 'object' || body === null) throw httpError(400, 'Send a JSON object: {"targetVersion": N, "expectedVersion"?: N, "reason"?: "…"}');
    const { targetVersion, expectedVersion, reason } = body as Record<string, unknown>;
    if (typeof targetVersion !== 'number') throw httpError(400, 'targetVersion must be a number');
    if (expectedVersion !== undefined && typeof expectedVersion !== 'number') throw httpError(400, 'expectedVersion must be a number');
    if (reason !== undefined && typeof reason !== 'string') throw httpError(400, 'reason must be a string');
    const variable = await ledger.rollback(
      {
        sessionId,
        identifier: parseIdentifier(c.req.param('variable')),
        targetVersion: parseVersion(targetVersion),
        metadata: reason ? { reason } : {},
        expectedVersion: expectedVersion === undefined ? undefined : parseVersion(expectedVersion),
      },
      c.get('access').actorOf(c.get('principal')),
    );
    return c.json({ variable: variableJson(variable, { fullStrings: true }) });
  });

  api.get('/sessions/:session/events', guard('read'), async (c) => {
    const sessionId = sessionParam(c);
    const session = await requireSession(ledger, sessionId);
    // A reconnecting EventSource says where it was; a page says what it loaded.
    const after = revisionParam(c, ledger, 'after', c.req.header('last-event-id') ?? c.req.query('after'));
    const position = (after > 0 ? after : ledger.head()) as Revision;
    // Nothing will follow an ended session's last event: 204 tells EventSource not to reconnect.
    if (session.status !== 'active' && position >= session.modifiedRevision) return c.body(null, 204);
    if (feed.full) throw httpError(503, 'Too many live views open; try again later');
    const variable = c.req.query('variable');
    const matches = makeFilter({ identifiers: variable ? [parseIdentifier(variable)] : [], pattern: '' });
    return new Response(feed.sessionStream(sessionId, position, matches), { headers: SSE_HEADERS });
  });

  api.get('/events', signedIn, () => {
    if (feed.full) throw httpError(503, 'Too many live views open; try again later');
    return new Response(feed.headStream(), { headers: SSE_HEADERS });
  });

  api.get('/digest', signedIn, async (c) => {
    const digest = await ledger.digest();
    const body: DigestJson = { revision: digest.revision, hash: digest.hash };
    return c.json(body);
  });

  api.get('/verify', guard('admin'), (c) => c.json(verify.latest ?? null));
  api.post('/verify', guard('admin'), async (c) => c.json(await verify.run()));

  api.all('*', () => {
    throw httpError(404, 'No such API route');
  });
  return api;
}
