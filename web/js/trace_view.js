// One trace: what was asked and what was answered (line, headers, body), the error when the
// exchange did not run to its end, and its timing.
import {requestJson, tracesPath} from './api.js';
import {bodyView} from './body_view.js';
import {h, replace} from './dom.js';
import {formatLatency, formatTime, recordTime, responseCode} from './format.js';
import {headersTable} from './headers_table.js';
import {accountOnly, formatRoute} from './route.js';
import {statusBadge} from './trace_table.js';

const fact = (term, ...value) => [h('dt', {}, term), h('dd', {}, value)];

function requestSection(record) {
  const req = record.request || {};
  return h('section', {class: 'side', 'aria-labelledby': 'request-title'},
    h('h3', {id: 'request-title'}, 'Request'),
    h('p', {class: 'line'}, h('code', {}, `${req.method || ''} ${req.url || req.path || ''}`)),
    headersTable(req.headers, 'Request headers'),
    h('h4', {}, 'Request body'),
    bodyView(req, 'request body', record.sid));
}

function responseSection(record) {
  const res = record.response?.status || {};
  return h('section', {class: 'side', 'aria-labelledby': 'response-title'},
    h('h3', {id: 'response-title'}, 'Response'),
    h('p', {class: 'line'}, h('code', {}, res.code ? `${res.code} ${res.phrase || ''}` : 'no response')),
    headersTable(res.headers, 'Response headers'),
    h('h4', {}, 'Response body'),
    bodyView(res, 'response body', record.sid));
}

function timing(record) {
  const done = recordTime(record);
  const latency = Number(record.latency_ms);
  return h('dl', {class: 'facts'},
    fact('Started', formatTime(done - latency)),
    fact('Completed', formatTime(done)),
    fact('Latency', formatLatency(latency)));
}

/** The header of the view: summary facts and links. */
function summary(record, params) {
  const links = accountOnly(params);
  return h('dl', {class: 'facts'},
    fact('Trace', h('code', {}, record.sid)),
    fact('Status', statusBadge(record.status), ` ${responseCode(record)}`),
    fact('Direction', record.direction || ''),
    fact('Account', record.account_sid || '',
      record.account_friendly_name ? ` (${record.account_friendly_name})` : ''),
    record.session_sid
      ? fact('Session', h('a', {href: formatRoute({view: 'session', id: record.session_sid, params: links})},
        record.session_sid))
      : null,
    record.replay_of
      ? fact('Replay of', h('a', {href: formatRoute({view: 'trace', id: record.replay_of, params: links})},
        record.replay_of))
      : null,
    record.node ? fact('Node', record.node) : null);
}

/**
 * Renders the trace of `route` into `root`; `actions(record)` gives the toolbar's controls
 * (copy as curl, HAR, replay) when the API offers them.
 */
export async function renderTrace(root, route, account, {signal, actions} = {}) {
  replace(root, h('h2', {id: 'trace-title'}, 'Trace'), h('p', {role: 'status'}, 'Loading…'));
  const record = await requestJson(`${tracesPath(account)}/${encodeURIComponent(route.id)}.json`, {signal});
  const back = h('a', {href: formatRoute({view: 'list', params: accountOnly(route.params)}), class: 'back'},
    '← All traces');
  replace(root,
    back,
    h('h2', {id: 'trace-title'}, `${record.request?.method || ''} ${record.request?.path || ''}`),
    summary(record, route.params),
    actions ? h('div', {class: 'toolbar actions'}, actions(record)) : null,
    record.error ? h('p', {class: 'message error exchange-error'}, h('strong', {}, 'Error: '), record.error) : null,
    h('section', {'aria-labelledby': 'timing-title'}, h('h3', {id: 'timing-title'}, 'Timing'), timing(record)),
    h('div', {class: 'sides'}, requestSection(record), responseSection(record)));
  return record;
}
