/** A read-only view of a session as it was at one revision of the log. */
import { NotFoundError } from './errors.js';
import { listVariables, readVariable, readVariables, valuesOf, type ReadTarget } from './reads.js';
import type { VariableValue } from './values.js';
import type { Variable } from './variable.js';

export class SessionAt {
  constructor(private readonly target: ReadTarget) {}

  get revision(): number {
    return Number(this.target.atRevision);
  }

  /** The value at this revision. Throws `NotFoundError` if the variable did not exist then. */
  async get<T extends VariableValue = VariableValue>(name: string): Promise<T> {
    return (await readVariable(this.target, name)).value as T;
  }

  async getVariable(name: string): Promise<Variable> {
    return readVariable(this.target, name);
  }

  /** `{ name: value }` for the names that existed at this revision. */
  async getMany(names: readonly string[]): Promise<Record<string, VariableValue>> {
    return valuesOf(await readVariables(this.target, names));
  }

  async has(name: string): Promise<boolean> {
    try {
      await readVariable(this.target, name);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /** The variables whose names match the glob (`*`, `?`; empty = all), as they were. */
  async list(pattern = ''): Promise<Variable[]> {
    return listVariables(this.target, pattern);
  }
}
