/**
 * Tool specs in Snakepit's shapes, and the record of tools workers declare
 * with Snakepit's RegisterTools.
 *
 * Snakepit's RegisterTools assumes the server can call back into the worker
 * (its Elixir server dials the worker's own gRPC port). varledger has no such
 * channel: a worker hosts callable tools over varledger's ServeTools stream.
 * So RegisterTools only records the declarations, per session, in memory;
 * they are listed to nobody as callable, and ExecuteTool on one answers
 * success=false saying how to host it (see bridge-tools.ts).
 */
import { DomainError, type SessionId } from '../domain/index.js';
import type { ParameterSpec, ToolRegistration, ToolSpec as BridgeToolSpec } from '../gen/snakepit/bridge/snakepit_bridge.js';
import type { ToolParameter, ToolParameterType, ToolSpec } from '../tools/tool-types.js';
import { defaultAny, defaultOf } from './bridge-tools-values.js';

/** varledger's ToolSpec as Snakepit's: host and session in its metadata. */
export function toolSpecToBridge(spec: ToolSpec): BridgeToolSpec {
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters.map(parameterToBridge),
    metadata: { host: spec.host, ...(spec.sessionId !== undefined && { session_id: spec.sessionId }) },
    supportsStreaming: spec.supportsStreaming,
    requiredVariables: [],
  };
}

function parameterToBridge(p: ToolParameter): ParameterSpec {
  return {
    name: p.name,
    type: p.type,
    description: p.description ?? '',
    required: p.required ?? false,
    defaultValue: defaultAny(p.default),
    validationJson: '',
  };
}

/** Python annotation names (what Snakepit's BaseAdapter sends) and Elixir names, to varledger's types. */
const PARAMETER_TYPES: Readonly<Record<string, ToolParameterType>> = {
  str: 'string',
  string: 'string',
  int: 'integer',
  integer: 'integer',
  float: 'float',
  number: 'float',
  bool: 'boolean',
  boolean: 'boolean',
  embedding: 'embedding',
};

export function parameterFromBridge(p: ParameterSpec): ToolParameter {
  const fallback = defaultOf(p.defaultValue, p.validationJson);
  return {
    name: p.name,
    type: PARAMETER_TYPES[p.type.toLowerCase()] ?? 'json',
    ...(p.description !== '' && { description: p.description }),
    required: p.required,
    ...(fallback !== undefined && { default: fallback }),
  };
}

export interface RegisteredTool {
  readonly spec: ToolSpec;
  readonly workerId: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly toolId: string;
}

export const MAX_TOOLS_PER_SESSION = 1000;
const MAX_TOOL_NAME_LENGTH = 256;

/** Snakepit's tool ids: `<session>:<name>`. */
export const toolIdOf = (sessionId: string, name: string) => `${sessionId}:${name}`;

/** Declarations made with RegisterTools, per session; a later declaration of a name replaces the earlier one. */
export class BridgeToolRegistry {
  private readonly sessions = new Map<SessionId, Map<string, RegisteredTool>>();

  /** Validates every declaration first: all or nothing. Returns the tool ids by name. */
  register(sessionId: SessionId, workerId: string, tools: readonly ToolRegistration[]): Record<string, string> {
    const seen = new Set<string>();
    for (const t of tools) {
      if (t.name === '') throw new DomainError('invalid_request', 'tools[].name is required');
      if (t.name.length > MAX_TOOL_NAME_LENGTH) {
        throw new DomainError('invalid_request', `Tool name is longer than ${MAX_TOOL_NAME_LENGTH} characters`);
      }
      if (seen.has(t.name)) throw new DomainError('invalid_request', `Tool ${JSON.stringify(t.name)} is declared twice`);
      seen.add(t.name);
    }
    const current = this.sessions.get(sessionId) ?? new Map<string, RegisteredTool>();
    const total = new Set([...current.keys(), ...seen]).size;
    if (total > MAX_TOOLS_PER_SESSION) {
      throw new DomainError('too_large', `A session may declare at most ${MAX_TOOLS_PER_SESSION} tools; this would make ${total}`);
    }
    const host = `snakepit-worker:${workerId === '' ? 'unnamed' : workerId}`;
    const ids: Record<string, string> = {};
    for (const t of tools) {
      const toolId = toolIdOf(sessionId, t.name);
      current.set(t.name, {
        spec: {
          name: t.name,
          description: t.description,
          parameters: t.parameters.map(parameterFromBridge),
          supportsStreaming: t.supportsStreaming,
          host,
          sessionId,
        },
        workerId,
        metadata: { ...t.metadata },
        toolId,
      });
      ids[t.name] = toolId;
    }
    this.sessions.set(sessionId, current);
    return ids;
  }

  get(sessionId: SessionId, name: string): RegisteredTool | undefined {
    return this.sessions.get(sessionId)?.get(name);
  }

  list(sessionId: SessionId): RegisteredTool[] {
    return [...(this.sessions.get(sessionId)?.values() ?? [])];
  }

  /** Forgets the sessions `keep` rejects (ended ones), so the record does not outgrow live sessions. */
  prune(keep: (sessionId: SessionId) => boolean): void {
    for (const sessionId of this.sessions.keys()) if (!keep(sessionId)) this.sessions.delete(sessionId);
  }
}
