/**
 * The one rule for what a tensor shape may be, checked wherever a shape
 * enters (a value on registration or write, a `shape` constraint, the
 * bridge's decoders) and by the encoders before they build anything.
 *
 * A shape has 1 to LIMITS.tensorRank dimensions, each a whole number from 0
 * to LIMITS.tensorSize, and its nested size — the numbers plus the lists
 * that hold them when written out as nested lists — is at most
 * LIMITS.tensorSize. The nested size, not the element count, is what an
 * encoder pays: [4294967295, 0] holds no number but is 4294967295 empty lists.
 */
import { formatShape } from './describe.js';
import { DomainError } from './errors.js';
import { LIMITS } from './limits.js';

/**
 * Lists plus numbers of `shape` written as nested lists, or Infinity as soon
 * as it passes `cap`. Stops early, so no product can overflow; never throws.
 */
export function nestedTensorSize(shape: readonly number[], cap: number = LIMITS.tensorSize): number {
  let size = 1; // the outermost list
  let level = 1;
  for (const d of shape) {
    level *= d;
    size += level;
    if (size > cap) return Infinity;
    if (level === 0) break;
  }
  return size;
}

/**
 * Throws `invalid_value` naming the broken rule unless `shape` is a tensor
 * shape varledger stores. Costs O(rank): it never looks at data.
 */
export function checkTensorShape(shape: readonly number[], what = 'Tensor shape'): void {
  if (shape.length === 0) throw new DomainError('invalid_value', `${what} is empty`);
  if (shape.length > LIMITS.tensorRank) {
    throw new DomainError('invalid_value', `${what} has ${shape.length} dimensions; the limit is ${LIMITS.tensorRank}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > LIMITS.tensorSize) {
      throw new DomainError(
        'invalid_value',
        `${what} ${formatShape(shape)} must hold whole sizes from 0 to ${LIMITS.tensorSize}`,
      );
    }
  }
  if (nestedTensorSize(shape) > LIMITS.tensorSize) {
    throw new DomainError(
      'invalid_value',
      `${what} ${formatShape(shape)} is too large: written as nested lists it exceeds ${LIMITS.tensorSize} numbers and lists`,
    );
  }
}

/** Numbers a tensor of a checked shape holds. */
export const tensorElementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
