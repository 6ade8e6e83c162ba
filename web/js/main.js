// The page's wiring: sign in and out, and which view the address shows.
import {defaultAccount, readableAccounts, showAccountChoice} from './accounts.js';
import {ApiError, onUnauthorized, signIn, signOut, signedInSid} from './api.js';
import {$, say} from './dom.js';
import {filtersOf} from './filters.js';
import {pageHarButton} from './list_actions.js';
import {renderList} from './list_view.js';
import {liveMode} from './live_view.js';
import {releaseMedia} from './media_view.js';
import {go, parseRoute} from './route.js';
import {renderSession} from './session_view.js';
import {traceActions} from './trace_actions.js';
import {renderTrace} from './trace_view.js';

const views = {list: $('list-view'), trace: $('trace-view'), session: $('session-view')};
let current = null;  // the AbortController of the view being drawn
let accounts = [];   // what the signed-in caller may read (Accounts.json)

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
  const account = route.params.get('account') || defaultAccount(accounts, signedInSid());
  showAccountChoice($('account-choice'), $('account-select'), accounts, account);
  say($('app-message'), '');
  for (const [name, node] of Object.entries(views)) {
    node.hidden = name !== route.view;
    if (node.hidden) node.replaceChildren();
  }
  const root = views[route.view];
  const render = {list: renderList, trace: renderTrace, session: renderSession}[route.view];
  const live = route.view === 'list'
    ? liveMode(account, route.params, filtersOf(route.params), controller.signal) : null;
  const options = {
    signal: controller.signal,
    toolbar: live ? [...live.controls, pageHarButton(account, route.params, $('app-message'))] : [],
    onPage: (page, tbody) => live?.start(page, tbody),
    actions: (record, message) => traceActions(record, account, message),
  };
  try {
    await render(root, route, account, options);
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
  accounts = [];
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
    // The accounts the caller may read: it checks the credentials, and offers the choice.
    accounts = await readableAccounts();
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
$('account-select').addEventListener('change', (event) => {
  const params = new URLSearchParams();
  params.set('account', event.target.value);
  go({view: 'list', params});
});
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
