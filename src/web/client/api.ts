/** Calls to the web view's JSON API; a missing or stale sign-in goes to the login page. */
import type { ErrorJson } from '../api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function toLogin(): never {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
  throw new ApiError(401, 'UNAUTHENTICATED', 'Signing in…');
}

async function parse<T>(response: Response): Promise<T> {
  if (response.ok) return (await response.json()) as T;
  if (response.status === 401) toLogin();
  const body = (await response.json().catch(() => undefined)) as ErrorJson | undefined;
  throw new ApiError(response.status, body?.code ?? 'UNKNOWN', body?.error ?? `${response.status} ${response.statusText}`);
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return parse<T>(await fetch(qs ? `${path}?${qs}` : path, { headers: { accept: 'application/json' } }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }));
}

export const sessionPath = (sessionId: string) => `/api/sessions/${encodeURIComponent(sessionId)}`;
export const variablePath = (sessionId: string, variable: string) => `${sessionPath(sessionId)}/variables/${encodeURIComponent(variable)}`;
