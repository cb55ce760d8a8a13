/**
 * The tools contract, shared by the native API, the Snakepit-compatible
 * service and tool modules. A tool is a named function with typed
 * parameters; it runs on the server (loaded with `serve --tools`) or in a
 * worker connected over ServeTools. Every call is recorded in the log.
 */

/** Parameter types a tool may declare. `json` takes any JSON value. */
export type ToolParameterType = 'string' | 'integer' | 'float' | 'boolean' | 'embedding' | 'json';

export interface ToolParameter {
  readonly name: string;
  readonly type: ToolParameterType;
  readonly description?: string;
  /** Required parameters without a default must be given. */
  readonly required?: boolean;
  readonly default?: unknown;
}

/** The `host` of tools loaded from modules, run in the server process. */
export const SERVER_HOST = 'server';

/** What callers see of a tool. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly ToolParameter[];
  readonly supportsStreaming: boolean;
  /** `server` (a loaded module) or `worker:<id>` (hosted over ServeTools). */
  readonly host: string;
  /** Set when the tool is visible only to one session (worker-hosted tools may be). */
  readonly sessionId?: string;
}

/** Reads and writes of the calling session; writes carry the tool as actor. */
export interface ToolSessionContext {
  readonly sessionId: string;
  get(name: string): Promise<unknown>;
  set(name: string, value: unknown, metadata?: Record<string, string>): Promise<void>;
}

export interface ToolCallContext {
  readonly session: ToolSessionContext;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** Who called the tool. */
  readonly actor: string;
}

/**
 * A server-side tool module exports `tools: ToolModuleDefinition[]` (or a
 * default export of that array). A non-streaming handler returns (a promise
 * of) its result; a streaming one returns an async iterable of chunks.
 */
export interface ToolModuleDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: readonly ToolParameter[];
  readonly supportsStreaming?: boolean;
  readonly handler: (params: Record<string, unknown>, context: ToolCallContext) => unknown;
}

export interface ToolCall {
  readonly sessionId: string;
  readonly toolName: string;
  /** Parameters as plain JSON-like values (already decoded from the wire). */
  readonly parameters: Record<string, unknown>;
  readonly actor: string;
  /** The authenticated principal behind the call (auth on); a server-side tool's writes are recorded under it. */
  readonly principal?: string;
  readonly metadata: Record<string, string>;
  /** Absolute deadline in ms since the epoch; undefined = the hub's default. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

export interface ToolResult {
  readonly result: unknown;
  readonly durationMs: number;
}

export interface ToolChunk {
  readonly data: unknown;
  readonly isFinal: boolean;
}

/**
 * The tool hub: registry plus execution. Errors are DomainErrors so the one
 * status table maps them: unknown tool → not_found; bad parameters →
 * invalid_request naming the parameter; a handler's failure → a ToolFailedError
 * (its message and a structured error type); deadline → deadline_exceeded;
 * worker gone mid-call → unavailable.
 */
export interface ToolHub {
  list(sessionId?: string): ToolSpec[];
  execute(call: ToolCall): Promise<ToolResult>;
  executeStreaming(call: ToolCall): AsyncIterable<ToolChunk>;
}
