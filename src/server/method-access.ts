/**
 * What each RPC requires — the one table the auth interceptor reads. Typed
 * against the generated service definitions, so an RPC added to a proto
 * does not compile until it has a rule here.
 *
 * - `open`: anyone, no credentials (health).
 * - `principal`: any authenticated principal; the handler shows only what
 *   the principal may see (ListSessions) or nothing session-bound (Ping).
 * - `session`: `access` on the request's `session_id`. `creates`: the call
 *   may create the session; when it would, it needs write access and the
 *   principal's session limit applies. Calls needing more than read count
 *   their request bytes against the byte limit.
 * - `serve-tools`: a worker stream; each `declare` needs write on its
 *   session, or admin for global tools.
 */
import type { Access } from '../auth/access.js';
import { BridgeServiceService } from '../gen/snakepit/bridge/snakepit_bridge.js';
import { LedgerService } from '../gen/varledger/v1/ledger.js';

export type MethodRule =
  | { readonly kind: 'open' }
  | { readonly kind: 'principal' }
  | {
      readonly kind: 'session';
      readonly access: Access;
      readonly creates?: boolean;
      /** An empty session_id asks for no session (ListTools: the global tools only). */
      readonly emptyIsGlobal?: boolean;
    }
  | { readonly kind: 'serve-tools' };

const read = { kind: 'session', access: 'read' } as const;
const write = { kind: 'session', access: 'write' } as const;
const creates = { kind: 'session', access: 'write', creates: true } as const;
const principal = { kind: 'principal' } as const;

const LEDGER: Readonly<Record<keyof typeof LedgerService, MethodRule>> = {
  createSession: creates,
  getSession: read,
  heartbeat: read,
  closeSession: write,
  listSessions: principal,
  registerVariable: creates,
  getVariable: read,
  getVariables: read,
  listVariables: read,
  setVariable: write,
  deleteVariable: write,
  commit: creates,
  watchVariables: read,
  getHistory: read,
  rollbackVariable: write,
  getDigest: principal,
  listTools: { kind: 'session', access: 'read', emptyIsGlobal: true },
  // A call is written to the log (tool_called …) and the tool may write.
  executeTool: write,
  executeStreamingTool: write,
  serveTools: { kind: 'serve-tools' },
};

const BRIDGE: Readonly<Record<keyof typeof BridgeServiceService, MethodRule>> = {
  ping: principal,
  // Workers call it on every start: on an existing session it only reads.
  initializeSession: { kind: 'session', access: 'read', creates: true },
  cleanupSession: write,
  getSession: read,
  heartbeat: read,
  getVariable: read,
  setVariable: write,
  getVariables: read,
  setVariables: write,
  registerVariable: creates,
  listVariables: read,
  deleteVariable: write,
  executeTool: write,
  executeStreamingTool: write,
  registerTools: write,
  getExposedElixirTools: read,
  executeElixirTool: write,
  watchVariables: read,
  addDependency: write,
  startOptimization: write,
  stopOptimization: write,
  getVariableHistory: read,
  rollbackVariable: write,
};

/** Services served beside the two above, by path prefix. */
const OTHER_SERVICES: readonly (readonly [string, MethodRule])[] = [
  // Load balancers and supervisors probe without credentials.
  ['/grpc.health.v1.Health/', { kind: 'open' }],
  // Reflection describes the API, not data; still, only to callers we know.
  ['/grpc.reflection.', principal],
];

/** Anything unlisted: admins only. */
const FALLBACK: MethodRule = { kind: 'session', access: 'admin' };

const BY_PATH = new Map<string, MethodRule>();
for (const [definition, rules] of [
  [LedgerService, LEDGER],
  [BridgeServiceService, BRIDGE],
] as const) {
  for (const [name, method] of Object.entries(definition)) {
    const rule = (rules as Record<string, MethodRule>)[name];
    if (rule) BY_PATH.set(method.path, rule);
  }
}

export function ruleOf(path: string): MethodRule {
  return BY_PATH.get(path) ?? OTHER_SERVICES.find(([prefix]) => path.startsWith(prefix))?.[1] ?? FALLBACK;
}

/** Rules per RPC, for tests that walk every method. */
export const METHOD_RULES = { ledger: LEDGER, bridge: BRIDGE } as const;
