/**
 * The JSON the web view's HTTP API sends, shared by the server (which builds
 * it) and the browser code (which reads it). Types only: both sides compile it.
 *
 * Times are milliseconds since the Unix epoch. Integers travel as decimal
 * strings so 64-bit values survive. Large values are summarised: strings are
 * cut (with their full length), vectors and tensors send their length, norm
 * and first elements — a list or a history never ships megabytes.
 */

export type VariableTypeName = 'float' | 'integer' | 'string' | 'boolean' | 'choice' | 'module' | 'embedding' | 'tensor';

/** A non-finite float is its name; an element of a vector that is not finite is null. */
export type FloatJson = number | 'NaN' | 'Infinity' | '-Infinity';

export type ValueJson =
  | { readonly kind: 'float'; readonly value: FloatJson }
  | { readonly kind: 'integer'; readonly value: string }
  | { readonly kind: 'string'; readonly value: string; readonly length: number; readonly truncated: boolean }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | {
      readonly kind: 'vector' | 'tensor';
      readonly length: number;
      /** Euclidean (Frobenius) norm; null when an element is not finite. */
      readonly norm: number | null;
      /** The first elements. */
      readonly head: readonly (number | null)[];
      /** Elements asked for by index (`dims`), when asked. */
      readonly picked?: Readonly<Record<string, number | null>>;
      readonly shape?: readonly number[];
      readonly dtype?: string;
    };

export interface VariableJson {
  readonly id: string;
  readonly name: string;
  readonly type: VariableTypeName;
  readonly value: ValueJson;
  readonly version: number;
  readonly description: string;
  readonly constraints: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdRevision: number;
  readonly modifiedRevision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly modifiedBy: string;
}

export interface LastChangeJson {
  readonly revision: number;
  readonly time: number;
  readonly actor: string;
  /** The event kind, e.g. `variable_set`, `session_closed`. */
  readonly kind: string;
}

export interface SessionJson {
  readonly id: string;
  readonly status: 'active' | 'closed' | 'expired';
  readonly variableCount: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly ttlSeconds: number;
  readonly createdAt: number;
  readonly createdRevision: number;
  readonly modifiedRevision: number;
  readonly modifiedAt: number;
  /** When an idle active session expires; null where not known (a single session's page: reading it does not refresh its timer). */
  readonly expiresAt: number | null;
  readonly lastChange?: LastChangeJson;
}

export interface SessionsPageJson {
  readonly sessions: readonly SessionJson[];
  /** Pass as `page_token` for the next page; empty on the last. */
  readonly nextPageToken: string;
  readonly head: number;
}

export interface SessionDetailJson {
  readonly session: SessionJson;
  readonly head: number;
  /** What the caller may do here. */
  readonly can: { readonly write: boolean };
}

export interface VariablesAtJson {
  /** The revision the variables are as of. */
  readonly revision: number;
  /** Time of that revision's event. */
  readonly revisionTime: number | null;
  readonly variables: readonly VariableJson[];
}

export interface HistoryEntryJson {
  readonly version: number;
  readonly revision: number;
  readonly time: number;
  readonly actor: string;
  readonly kind: 'variable_registered' | 'variable_set' | 'variable_rolled_back';
  readonly metadata: Readonly<Record<string, string>>;
  readonly value: ValueJson;
}

export interface HistoryJson {
  readonly variable: VariableJson;
  /** Newest first. */
  readonly entries: readonly HistoryEntryJson[];
  /** Pass as `before` for older entries; null when there are none. */
  readonly nextBefore: number | null;
}

export type ChangeKindJson = 'registered' | 'set' | 'rolled_back' | 'deleted' | 'session_closed' | 'session_expired';

export interface ChangeJson {
  readonly kind: ChangeKindJson;
  readonly revision: number;
  readonly actor: string;
  readonly time: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly variable?: VariableJson;
}

/** One server-sent `changes` event: one commit's changes in a session. */
export interface ChangesEventJson {
  readonly revision: number;
  readonly changes: readonly ChangeJson[];
}

export interface DigestJson {
  readonly revision: number;
  readonly hash: string;
}

export interface VerifyJson {
  readonly ok: boolean;
  /** The line `varledger verify` printed. */
  readonly output: string;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface WhoAmIJson {
  /** Whether this server asks for a token. */
  readonly authRequired: boolean;
  /** The signed-in principal; null when none (or auth is off). */
  readonly principal: string | null;
  readonly admin: boolean;
}

export interface ErrorJson {
  readonly error: string;
  /** The gRPC status name the same failure has on the gRPC API. */
  readonly code: string;
}
