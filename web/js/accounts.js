// The accounts the signed-in caller may read (GET /2012-04-24/Accounts.json, itself first), and
// the header's choice between them for an administrator or a parent account.
import {requestJson} from './api.js';
import {h, replace} from './dom.js';

/** [{sid, friendly_name, parent_sid, traces}], the caller first. */
export async function readableAccounts() {
  const answer = await requestJson('/2012-04-24/Accounts.json');
  return answer.accounts || [];
}

/** The account a route shows by default: the caller's own when its traces are on. */
export function defaultAccount(accounts, caller) {
  const own = accounts.find((a) => a.sid === caller);
  if (!own || own.traces) return caller;
  return accounts.find((a) => a.traces)?.sid || caller;
}

/** Fills the header's <select>; shown only when there is more than one account. */
export function showAccountChoice(label, select, accounts, current) {
  label.hidden = accounts.length < 2;
  replace(select, accounts.map((a) => h('option', {value: a.sid, selected: a.sid === current,
    disabled: !a.traces}, `${a.friendly_name || a.sid}${a.friendly_name ? ` (${a.sid})` : ''}` +
      `${a.traces ? '' : ' (traces off)'}`)));
  select.value = current;
}
