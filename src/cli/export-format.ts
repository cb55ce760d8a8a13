/** The export format lives with the store (retention archives use it too); re-exported for the CLI. */
export * from '../store/export-format.js';
