// The page's wiring: sign in and out, and which view the address shows.
import {ApiError, onUnauthorized, request, signIn, signOut, signedInSid, tracesPath} from './api.js';
import {$, say} from './dom.js';
import {renderList} from './list_view.js';
import {releaseMedia} from './media_view.js';
import {parseRoute, routeAccount} from './route.js';
import {renderSession} from './session_view.js';
import {renderTrace} from './trace_view.js';

const views = {list: $('list-view'), trace: $('trace-view'), session: $('session-view')};
let current = null;  // the AbortController of the view being drawn

/** A sentence for an API refusal that a person can act on. */
export function explain(error) {
  if (!(error instanceof ApiError)) return `The sidecar could not be reached: ${error.message}`;
  switch (error.status) {
    case 401: return 'Wrong account SID or auth token.';
    case 403: return `Not allowed: ${error.message}`;
    case 404: return `Not found: ${error.message}`;
    case 400: return `The filters were refused: ${error.message}`;
    case 503: return `The sidecar is busy: ${error.message}`;
    default: return `${error.status}: ${error.message}`;
  }
}

async function show() {
  current?.abort();
  releaseMedia();
  if (!signedInSid()) return;
  const controller = new AbortController();
  current = controller;
  const route = parseRoute();
  const account = routeAccount(route, signedInSid());
  say($('app-message'), '');
  for (const [name, node] of Object.entries(views)) {
    node.hidden = name !== route.view;
    if (node.hidden) node.replaceChildren();
  }
  const root = views[route.view];
  const render = {list: renderList, trace: renderTrace, session: renderSession}[route.view];
  try {
    await render(root, route, account, {signal: controller.signal});
  } catch (error) {
    if (error.name === 'AbortError' || controller.signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) return;  // signed out already
    say($('app-message'), explain(error));
  }
}

function enter(sid) {
  $('sign-in-view').hidden = true;
  $('app-view').hidden = false;
  $('session-bar').hidden = false;
  $('signed-in-as').textContent = `Signed in as ${sid}`;
  show();
  $('content').focus();
}

function leave(message = '', kind = 'info') {
  current?.abort();
  signOut();
  releaseMedia();
  for (const node of Object.values(views)) node.replaceChildren();
  $('app-view').hidden = true;
  $('session-bar').hidden = true;
  $('sign-in-view').hidden = false;
  $('sign-in-form').reset();
  say($('sign-in-message'), message, kind);
  $('sign-in-sid').focus();
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const sid = $('sign-in-sid').value.trim();
  const token = $('sign-in-token').value;
  say($('sign-in-message'), 'Signing in…', 'info');
  signIn(sid, token);
  try {
    // The cheapest authenticated question: one trace of the caller's own list.
    await request(`${tracesPath(sid)}.json?PageSize=1`);
  } catch (error) {
    signOut();
    $('sign-in-token').value = '';
    say($('sign-in-message'), explain(error));
    $('sign-in-token').focus();
    return;
  }
  $('sign-in-token').value = '';
  say($('sign-in-message'), '');
  enter(sid);
});

$('sign-out').addEventListener('click', () => leave('Signed out.'));
onUnauthorized(() => {
  if (!$('app-view').hidden) leave('The sidecar no longer accepts these credentials: sign in again.', 'error');
});
window.addEventListener('hashchange', show);
// The address's fragment is the page's route: the skip link moves focus without changing it.
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  $('content').focus();
});
$('sign-in-sid').focus();
