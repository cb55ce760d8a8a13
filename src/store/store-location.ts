/**
 * Where the log lives, from `--store` / `--data`: the embedded SQLite file
 * (the default: `--data data/ledger.db`, or `--store sqlite:PATH`), or a
 * PostgreSQL database shared by several nodes (`--store postgres://…`).
 * Driver-free: open-event-store.ts opens what this names.
 */

export type StoreLocation = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/** Parses `--store`; without one, the `--data` file. Throws a readable Error for anything else. */
export function parseStoreLocation(store: string | undefined, dataPath: string): StoreLocation {
  if (store === undefined || store === '') return { kind: 'sqlite', path: dataPath };
  if (store.startsWith('sqlite:')) {
    const path = store.slice('sqlite:'.length);
    if (path === '') throw new Error('--store sqlite: needs a file path, e.g. sqlite:data/ledger.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(store)) return { kind: 'postgres', url: store };
  throw new Error(`--store must be sqlite:PATH or postgres://user:pass@host:port/db, not ${JSON.stringify(redact(store))}`);
}

/** A location as it may be logged: no password. */
export function describeLocation(location: StoreLocation): string {
  return location.kind === 'sqlite' ? location.path : redact(location.url);
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
