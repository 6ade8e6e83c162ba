// Replaying one trace (docs/api.md, "Replay"): a confirmation dialog (a native modal <dialog>:
// focus moves into it and stays there, Escape closes it) with a field for each header the
// sidecar redacted, then a link to the new trace, or the API's reason when it refuses (409,
// 429 with its Retry-After). Recorded values are only ever set as text.
import {ApiError, request} from './api.js';
import {h, replace, say} from './dom.js';
import {isRedacted} from './redaction.js';
import {formatRoute} from './route.js';

/** The names of the recorded request headers whose values were redacted. */
export function redactedHeaders(record) {
  return Object.entries(record.request?.headers || {})
    .filter(([, value]) => isRedacted(value))
    .map(([name]) => name);
}

/** What to tell a person about a refused replay. */
function refusal(error) {
  if (!(error instanceof ApiError)) return `The replay could not be sent: ${error.message}`;
  if (error.status === 429) {
    const retry = error.response?.headers.get('Retry-After');
    return `${error.message}${retry ? ` (Retry-After: ${retry} s)` : ''}`;
  }
  if (error.status === 409) return `The trace cannot be replayed: ${error.message}`;
  return error.message;
}

/** Opens the dialog for `record`; `base` is the trace's API path, `account` the path account. */
export function openReplayDialog(record, base, account, opener) {
  const redacted = redactedHeaders(record);
  const fields = redacted.map((name, i) => {
    const id = `replay-header-${i}`;
    return {name, input: h('input', {id, type: 'text', autocomplete: 'off', spellcheck: 'false'}),
      label: h('label', {for: id}, name)};
  });
  const outcome = h('div', {class: 'message', role: 'alert'});
  const send = h('button', {type: 'submit', class: 'primary'}, 'Replay');
  const cancel = h('button', {type: 'button', value: 'cancel'}, 'Cancel');
  const form = h('form', {method: 'dialog', class: 'replay-form'},
    h('p', {}, 'Send this request again to ', h('code', {}, record.request?.url || ''),
      '? It is recorded as a new trace.'),
    fields.length
      ? h('fieldset', {},
        h('legend', {}, 'Values for the redacted headers (used for this replay only, recorded redacted)'),
        fields.map(({label, input}) => h('div', {class: 'field'}, label, input)))
      : null,
    outcome,
    h('div', {class: 'field buttons'}, send, cancel));
  const dialog = h('dialog', {class: 'replay-dialog', 'aria-labelledby': 'replay-title'},
    h('h3', {id: 'replay-title'}, `Replay ${record.request?.method || ''} ${record.request?.path || ''}`),
    form);
  const close = () => dialog.close();
  cancel.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const headers = {};
    for (const {name, input} of fields) if (input.value !== '') headers[name] = input.value;
    send.disabled = true;
    say(outcome, 'Sending…', 'info');
    try {
      const response = await request(`${base}/Replay`, {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify(Object.keys(headers).length ? {headers} : {}),
      });
      const created = await response.json();
      const link = h('a', {href: formatRoute({view: 'trace', id: created.sid,
        params: new URLSearchParams({account})}), class: 'replay-link'}, `Open the new trace ${created.sid}`);
      link.addEventListener('click', close);
      replace(outcome, 'Replayed: ', link);
      outcome.className = 'message ok';
      send.hidden = true;
      cancel.textContent = 'Close';
      link.focus();
    } catch (error) {
      say(outcome, refusal(error));
      send.disabled = false;
    }
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  (fields[0]?.input || send).focus();
  return dialog;
}
