/** The pure core: no I/O, no clock, no randomness. */
export * from './commands.js';
export * from './constraints.js';
export * from './convert.js';
export * from './decide.js';
export * from './describe.js';
export * from './errors.js';
export * from './events.js';
export * from './evolve.js';
export * from './glob.js';
export * from './overlay.js';
export * from './ids.js';
export * from './limits.js';
export * from './pattern.js';
export * from './state.js';
export * from './tensor-shape.js';
export * from './types.js';
