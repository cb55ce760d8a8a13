/**
 * Which tools exist and who runs them. A tool is global or belongs to one
 * session; a session's own tool shadows a global one of the same name.
 */
import { DomainError } from '../domain/index.js';
import { SERVER_HOST, type ToolChunk, type ToolSpec } from './tool-types.js';

/** One call as a runner receives it: parameters validated, defaults applied. */
export interface ToolInvocation {
  readonly callId: string;
  readonly sessionId: string;
  readonly toolName: string;
  readonly parameters: Record<string, unknown>;
  readonly actor: string;
  /** The authenticated principal behind the call, when auth is on. */
  readonly principal?: string;
  readonly metadata: Record<string, string>;
  /** Absolute, ms since the epoch. */
  readonly deadline: number;
  /** Aborted on cancellation, deadline or shutdown; its reason is the DomainError to report. */
  readonly signal: AbortSignal;
}

/** Runs a tool: in this process (a module) or in a worker. */
export interface ToolRunner {
  unary(invocation: ToolInvocation): Promise<unknown>;
  /** Chunks in order; exactly the last has isFinal set. */
  stream(invocation: ToolInvocation): AsyncIterable<ToolChunk>;
}

export interface RegisteredTool {
  readonly spec: ToolSpec;
  readonly runner: ToolRunner;
}

const keyOf = (sessionId: string | undefined, name: string) => `${sessionId ?? ''}\u0000${name}`;

export class ToolRegistry {
  private readonly tools = new Map<string, RegisteredTool>();

  /**
   * Adds a tool; returns its removal. ALREADY_EXISTS if the name is taken in
   * that scope, or if a worker offers the name of a server-side tool: a
   * session tool shadows a global one, and letting a worker shadow the
   * server's would send that session's calls — parameters, actor and all —
   * to whoever declared it.
   */
  add(tool: RegisteredTool): () => void {
    if (tool.spec.host !== SERVER_HOST) {
      const server = this.tools.get(keyOf(undefined, tool.spec.name));
      if (server?.spec.host === SERVER_HOST) {
        throw new DomainError('already_exists', `Tool ${tool.spec.name} is a server-side tool; a worker cannot offer a tool of that name`);
      }
    }
    const key = keyOf(tool.spec.sessionId, tool.spec.name);
    const existing = this.tools.get(key);
    if (existing) {
      const scope = tool.spec.sessionId ? `session ${tool.spec.sessionId}` : 'every session';
      throw new DomainError('already_exists', `Tool ${tool.spec.name} is already registered for ${scope} (by ${existing.spec.host})`);
    }
    this.tools.set(key, tool);
    return () => {
      if (this.tools.get(key) === tool) this.tools.delete(key);
    };
  }

  /** The tool a session calls by this name, or undefined. */
  find(sessionId: string, name: string): RegisteredTool | undefined {
    return this.tools.get(keyOf(sessionId, name)) ?? this.tools.get(keyOf(undefined, name));
  }

  /** Global tools plus the session's own (shadowing), in name order. */
  list(sessionId?: string): ToolSpec[] {
    const byName = new Map<string, ToolSpec>();
    for (const { spec } of this.tools.values()) {
      if (spec.sessionId === undefined && !byName.has(spec.name)) byName.set(spec.name, spec);
    }
    if (sessionId !== undefined) {
      for (const { spec } of this.tools.values()) if (spec.sessionId === sessionId) byName.set(spec.name, spec);
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
