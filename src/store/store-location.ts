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

/**
 * A message (a driver's error, say) with the location's password blanked
 * out wherever it appears, in case a driver ever echoes its connection string.
 */
export function redactMessage(message: string, location: StoreLocation): string {
  if (location.kind !== 'postgres') return message;
  let password: string;
  try {
    password = new URL(location.url).password;
  } catch {
    return redact(message);
  }
  let text = redact(message);
  for (const secret of new Set([password, safeDecode(password)])) {
    if (secret !== '') text = text.split(secret).join('***');
  }
  return text;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The `--store` value (or VARLEDGER_STORE) that names a location: the inverse of parseStoreLocation. */
export function storeArgument(location: StoreLocation): string {
  return location.kind === 'sqlite' ? `sqlite:${location.path}` : location.url;
}
