// The table of traces: a row per trace, newest first, with links to the trace and its session,
// and arrow-key movement between rows.
import {h} from './dom.js';
import {formatLatency, formatTime, recordTime, responseCode} from './format.js';
import {accountOnly, formatRoute} from './route.js';

const columns = ['Time', 'Direction', 'Method', 'Path', 'Code', 'Status', 'Latency', 'Session'];

export function statusBadge(status) {
  return h('span', {class: `badge ${status === 'completed' ? 'ok' : 'bad'}`}, status || '');
}

/** One row. `params` carries the account for the links. */
export function traceRow(record, params) {
  const linkParams = accountOnly(params);
  const session = record.session_sid || '';
  return h('tr', {dataset: {sid: record.sid}},
    h('td', {}, h('a', {href: formatRoute({view: 'trace', id: record.sid, params: linkParams}),
      class: 'row-link', 'aria-label': `Trace ${record.sid} at ${formatTime(recordTime(record))}`},
    formatTime(recordTime(record)))),
    h('td', {}, record.direction || ''),
    h('td', {}, record.request?.method || ''),
    h('td', {class: 'path', title: record.request?.path || ''}, record.request?.path || ''),
    h('td', {}, responseCode(record)),
    h('td', {}, statusBadge(record.status)),
    h('td', {class: 'num'}, formatLatency(record.latency_ms)),
    h('td', {class: 'session'}, session
      ? h('a', {href: formatRoute({view: 'session', id: session, params: linkParams}),
        title: session, 'aria-label': `Session ${session}`}, session)
      : ''));
}

/** The table; `tbody` is where rows go (the live view prepends to it). */
export function traceTable(caption) {
  const tbody = h('tbody');
  const table = h('table', {class: 'traces'},
    h('caption', {class: 'visually-hidden'}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c)))),
    tbody);
  table.addEventListener('keydown', moveBetweenRows);
  return {table, tbody};
}

/** ArrowDown/ArrowUp (or j/k) move focus to the next/previous row's trace link. */
function moveBetweenRows(event) {
  const step = {ArrowDown: 1, j: 1, ArrowUp: -1, k: -1}[event.key];
  if (!step || event.altKey || event.ctrlKey || event.metaKey) return;
  const links = [...event.currentTarget.querySelectorAll('a.row-link')];
  const at = links.indexOf(document.activeElement);
  if (at < 0) return;
  const next = links[at + step];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}
