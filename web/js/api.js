// The Traces API client: the credentials live here, in this module's memory, for the tab's
// life (never in a URL, storage or a cookie). Every request sends its own Authorization and
// omits the browser's credentials, so that a 401 (which carries WWW-Authenticate: Basic) is
// handled by the page and never opens the browser's own login box.

let credentials = null;  // {sid, header}
const unauthorizedListeners = new Set();

export class ApiError extends Error {
  constructor(status, message, response) {
    super(message);
    this.status = status;
    this.response = response;
  }
}

export function signIn(sid, token) {
  // btoa() takes Latin-1 only: encode the pair as UTF-8 first.
  const bytes = new TextEncoder().encode(`${sid}:${token}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  credentials = {sid, header: `Basic ${btoa(binary)}`};
}

export function signOut() { credentials = null; }
export const signedInSid = () => credentials?.sid ?? null;

/** Called when the API refuses the credentials (the page then signs out). */
export function onUnauthorized(listener) { unauthorizedListeners.add(listener); }

/** Fetches an API path (same origin) with the credentials; throws ApiError when not 2xx. */
export async function request(path, {method = 'GET', body, headers = {}, signal} = {}) {
  if (!credentials) throw new ApiError(401, 'Not signed in');
  const response = await fetch(path, {
    method,
    body,
    signal,
    headers: {...headers, Authorization: credentials.header},
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
    referrerPolicy: 'no-referrer',
  });
  if (response.ok) return response;
  const message = await errorMessage(response);
  if (response.status === 401) for (const listener of unauthorizedListeners) listener(message);
  throw new ApiError(response.status, message, response);
}

export async function requestJson(path, options) {
  const response = await request(path, options);
  return response.json();
}

/** The API's {"message", "status"}, or the status line when the body is something else. */
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && typeof body.message === 'string') return body.message;
  } catch { /* not JSON */ }
  return `${response.status} ${response.statusText}`.trim();
}

/** The list (and single trace) base path of an account. */
export const tracesPath = (account) =>
  `/2012-04-24/Accounts/${encodeURIComponent(account)}/Traces`;
