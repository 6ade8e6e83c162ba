// The page's address: the view, the filters, the page and the selected trace live in the URL's
// fragment, so that a link can be shared (it never holds credentials). Forms:
//   #/traces?Status=failed&Direction=webhook&account=AC…      the list, filtered
//   #/traces/TR…?account=AC…                                  one trace
//   #/sessions/<SessionSid>?account=AC…                       a session's timeline

/** {view: 'list'|'trace'|'session', id, params: URLSearchParams} of a fragment. */
export function parseRoute(hash = location.hash) {
  const text = hash.replace(/^#/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'traces' && parts[1]) return {view: 'trace', id: parts[1], params};
  if (parts[0] === 'sessions' && parts[1]) return {view: 'session', id: parts[1], params};
  return {view: 'list', id: null, params};
}

/** The fragment of a route (params with empty values left out). */
export function formatRoute({view, id, params}) {
  const path = view === 'trace' ? `/traces/${encodeURIComponent(id)}`
    : view === 'session' ? `/sessions/${encodeURIComponent(id)}` : '/traces';
  const kept = new URLSearchParams();
  for (const [k, v] of params) if (v !== '') kept.append(k, v);
  const query = kept.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

/** Navigates (a new history entry; the hashchange listener renders). */
export function go(route) {
  const hash = formatRoute(route);
  if (hash === location.hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** The account param of a route, or the signed-in account. */
export const routeAccount = (route, fallback) => route.params.get('account') || fallback;

/** A copy of params keeping only `account` (what a link to another view carries). */
export function accountOnly(params) {
  const p = new URLSearchParams();
  if (params.get('account')) p.set('account', params.get('account'));
  return p;
}
