// The /api/v1 client: same-origin cookies, the session's CSRF token on every
// write, problem+json errors (already in the user's language, chosen by the
// server from the lang cookie) shown as a notification, and a 401 sends the
// user to the sign-in page.

export const base = '/api/v1';

/** A problem+json answer (RFC 9457) or a network failure (status 0). */
export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  constructor(status: number, code: string, detail: string, field?: string) {
    super(detail);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let csrf = '';
let notify: (err: ApiError) => void = () => {};
let unauthorized: () => void = () => {};
// Asks the person to confirm their identity (POST /auth/reauth); resolves
// true when they did. Unset: a reauth_required answer is shown as an error.
let reauth: (() => Promise<boolean>) | undefined;

/** Remembers the session's CSRF token (from sign-in or GET /session). */
export function setCsrf(token: string) {
  csrf = token;
}

/** Headers a write outside this client (WHEP, raw fetches) sends. */
export function csrfHeaders(): Record<string, string> {
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}

/** The problem of a failed fetch answer, as an ApiError. */
export async function problemOf(res: Response): Promise<ApiError> {
  let p: { code?: string; detail?: string; title?: string; field?: string } = {};
  try {
    p = JSON.parse(await res.text());
  } catch {
    // not problem+json
  }
  return new ApiError(res.status, p.code ?? `http.${res.status}`, p.detail || p.title || res.statusText || String(res.status), p.field);
}

/** Wires the client to the UI: how to show an error, what to do on 401. */
export function configureApi(o: { notify: (err: ApiError) => void; unauthorized: () => void; reauth?: () => Promise<boolean> }) {
  notify = o.notify;
  unauthorized = o.unauthorized;
  reauth = o.reauth;
}

export interface CallOptions {
  /** Do not show the error; the caller handles it. */
  quiet?: boolean;
  /** Do not redirect to sign-in on 401 (the sign-in and session probes). */
  noRedirect?: boolean;
}

type Query = Record<string, string | number | undefined | null>;

/** Builds "/path?k=v" leaving out empty values. */
export function withQuery(path: string, q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

export async function call<T>(method: string, path: string, body?: unknown, o: CallOptions = {}): Promise<T> {
  return send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), 'application/json', o);
}

/** Sends a file as the raw request body (imports, attachments). */
export function upload<T>(path: string, file: Blob, o: CallOptions = {}): Promise<T> {
  return send<T>('POST', path, file, file.type || 'application/octet-stream', o);
}

async function send<T>(method: string, path: string, body: BodyInit | undefined, contentType: string, o: CallOptions, retried = false): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = contentType;
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, credentials: 'same-origin', body });
  } catch (e) {
    const err = new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    if (!o.quiet) notify(err);
    throw err;
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const p = (data ?? {}) as { code?: string; detail?: string; title?: string; field?: string };
    const err = new ApiError(res.status, p.code ?? `http.${res.status}`, p.detail || p.title || res.statusText || String(res.status), p.field);
    if (res.status === 401 && !o.noRedirect) {
      unauthorized();
      throw err;
    }
    // Sensitive actions (role changes, export) need a recent sign-in: ask
    // for the password once, then send the request again (AUD-2).
    if (res.status === 403 && err.code === 'auth.reauth_required' && reauth && !retried && !(body instanceof Blob)) {
      if (await reauth()) return send<T>(method, path, body, contentType, o, true);
    }
    if (!o.quiet) notify(err);
    throw err;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, o?: CallOptions) => call<T>('GET', path, undefined, o),
  post: <T>(path: string, body?: unknown, o?: CallOptions) => call<T>('POST', path, body ?? {}, o),
  patch: <T>(path: string, body: unknown, o?: CallOptions) => call<T>('PATCH', path, body, o),
  del: <T>(path: string, o?: CallOptions) => call<T>('DELETE', path, undefined, o),
  call,
};
