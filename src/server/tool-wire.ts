/** Tool specs between the wire (JSON text defaults, strings for types) and the tools contract. */
import { DomainError } from '../domain/index.js';
import type { ToolSpec as WireToolSpec } from '../gen/varledger/v1/ledger.js';
import { fromJsonText, toJsonText } from '../tools/tool-json.js';
import { checkParameterSpecs, checkToolName } from '../tools/tool-parameters.js';
import type { ToolParameterType, ToolSpec } from '../tools/tool-types.js';

export function toolSpecToWire(spec: ToolSpec): WireToolSpec {
  return {
    name: spec.name,
    description: spec.description,
    parameters: spec.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      description: p.description ?? '',
      required: p.required === true,
      defaultJson: p.default === undefined ? '' : toJsonText(p.default),
    })),
    supportsStreaming: spec.supportsStreaming,
    host: spec.host,
    sessionId: spec.sessionId ?? '',
  };
}

/** A worker's declaration, checked as strictly as a module's. Host and session are the server's to set. */
export function toolSpecFromWire(wire: WireToolSpec): ToolSpec {
  const name = checkToolName(wire.name);
  const parameters = wire.parameters.map((p) => {
    const fallback = fromJsonText(p.defaultJson, `The default of parameter ${p.name} of tool ${name}`);
    return {
      name: p.name,
      type: p.type as ToolParameterType,
      ...(p.description !== '' && { description: p.description }),
      required: p.required,
      ...(fallback !== undefined && { default: fallback }),
    };
  });
  if (wire.description.length > 16 * 1024) throw new DomainError('too_large', `The description of tool ${name} is over 16 KiB`);
  return {
    name,
    description: wire.description,
    parameters: checkParameterSpecs(name, parameters),
    supportsStreaming: wire.supportsStreaming,
    host: '',
  };
}
