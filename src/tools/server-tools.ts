/**
 * Server-side tools: definitions from ESM modules (`serve --tools`) run in
 * this process. A handler gets validated parameters and a context whose
 * writes carry `tool:<name>` as actor; its signal aborts on cancel/deadline.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DomainError, ToolFailedError } from '../domain/index.js';
import type { LedgerService } from '../service/ledger-service.js';
import { checkParameterSpecs, checkToolName } from './tool-parameters.js';
import type { RegisteredTool, ToolInvocation, ToolRunner } from './tool-registry.js';
import { toolSessionContext } from './tool-session.js';
import { SERVER_HOST, type ToolCallContext, type ToolChunk, type ToolModuleDefinition } from './tool-types.js';

export { SERVER_HOST };

/** A handler's throw as the caller sees it: its message, typed by its name (or domain code). */
export function asToolFailure(error: unknown): DomainError {
  if (error instanceof ToolFailedError) return error;
  if (error instanceof DomainError) return new ToolFailedError(error.code, error.message);
  if (error instanceof Error) return new ToolFailedError(error.name || 'Error', error.message);
  return new ToolFailedError('Error', String(error));
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function moduleRunner(definition: ToolModuleDefinition, service: LedgerService): ToolRunner {
  const call = (inv: ToolInvocation): unknown => {
    const context: ToolCallContext = {
      session: toolSessionContext(service, inv.sessionId, definition.name, inv.principal),
      signal: inv.signal,
      actor: inv.actor,
    };
    return definition.handler(inv.parameters, context);
  };
  const streaming = definition.supportsStreaming === true;

  async function* stream(inv: ToolInvocation): AsyncIterable<ToolChunk> {
    try {
      const output = call(inv);
      if (!streaming || !isAsyncIterable(output)) {
        yield { data: await output, isFinal: true };
        return;
      }
      // Chunks go out as they come; a data-less final chunk marks the end,
      // since only the generator's finishing says which chunk was last.
      for await (const data of output) yield { data, isFinal: false };
      yield { data: undefined, isFinal: true };
    } catch (error) {
      throw asToolFailure(error);
    }
  }

  return {
    async unary(inv) {
      if (streaming) {
        // A streaming tool called for one result answers with all its chunks.
        const chunks: unknown[] = [];
        for await (const chunk of stream(inv)) if (!chunk.isFinal || chunk.data !== undefined) chunks.push(chunk.data);
        return chunks;
      }
      try {
        return await call(inv);
      } catch (error) {
        throw asToolFailure(error);
      }
    },
    stream,
  };
}

/** Checks a definition and wraps it for the registry. */
export function serverTool(definition: ToolModuleDefinition, service: LedgerService): RegisteredTool {
  const name = checkToolName(definition.name);
  if (typeof definition.handler !== 'function') throw new DomainError('invalid_request', `Tool ${name} has no handler function`);
  return {
    spec: {
      name,
      description: definition.description ?? '',
      parameters: checkParameterSpecs(name, definition.parameters ?? []),
      supportsStreaming: definition.supportsStreaming === true,
      host: SERVER_HOST,
    },
    runner: moduleRunner(definition, service),
  };
}

/**
 * Imports tool modules (paths relative to the working directory). Each
 * exports `tools` (an array of definitions) or a default export of one.
 */
export async function loadToolModules(paths: readonly string[]): Promise<ToolModuleDefinition[]> {
  const definitions: ToolModuleDefinition[] = [];
  for (const path of paths) {
    let module: { tools?: unknown; default?: unknown };
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as typeof module;
    } catch (error) {
      // With several --tools modules, the import error alone does not say which one broke.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Tool module ${path} could not be loaded: ${reason}`, { cause: error });
    }
    const exported = module.tools ?? module.default;
    if (!Array.isArray(exported)) {
      throw new Error(`Tool module ${path} exports no tools: export \`tools\` (or a default) as an array of tool definitions`);
    }
    definitions.push(...(exported as ToolModuleDefinition[]));
  }
  return definitions;
}
