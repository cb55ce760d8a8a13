/** The value model: eight variable types over six value shapes. */

export const VARIABLE_TYPES = ['float', 'integer', 'string', 'boolean', 'choice', 'module', 'embedding', 'tensor'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export const TENSOR_DTYPES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/**
 * A typed value. Integers are bigint so that 64-bit values (seeds, ids)
 * survive the trip; `choice` and `module` hold strings.
 */
export type Value =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'integer'; readonly value: bigint }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'vector'; readonly values: readonly number[] }
  | { readonly kind: 'tensor'; readonly shape: readonly number[]; readonly data: readonly number[]; readonly dtype: string };

export type ValueKind = Value['kind'];

/** Every bound is optional; `checkConstraints` decides which fit a type. */
export interface Constraints {
  readonly min?: number;
  readonly max?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly choices?: readonly string[];
  readonly dimensions?: number;
  readonly shape?: readonly number[];
}

export type Metadata = Readonly<Record<string, string>>;

/** The value shape each variable type stores. */
export const STORED_KIND: Readonly<Record<VariableType, ValueKind>> = {
  float: 'float',
  integer: 'integer',
  string: 'string',
  boolean: 'boolean',
  choice: 'string',
  module: 'string',
  embedding: 'vector',
  tensor: 'tensor',
};
