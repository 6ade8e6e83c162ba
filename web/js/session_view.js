// A session: every trace of one SessionSid (a call or a message) in time order on one
// timeline, so that a call's RCML fetch, its status callbacks and its media fetches read as
// one story. Each trace is a bar placed at its start, as long as its latency.
import {requestJson, tracesPath} from './api.js';
import {h, replace} from './dom.js';
import {formatLatency, formatOffset, formatTime, recordTime, responseCode} from './format.js';
import {accountOnly, formatRoute} from './route.js';
import {statusBadge} from './trace_table.js';

// A session has a handful of traces; a runaway one stops after this many.
const maxTraces = 5000;

async function sessionTraces(account, sessionSid, signal) {
  const out = [];
  let path = `${tracesPath(account)}.json?SessionSid=${encodeURIComponent(sessionSid)}&PageSize=1000`;
  while (path && out.length < maxTraces) {
    const page = await requestJson(path, {signal});
    out.push(...page.traces);
    path = page.next_page_uri && page.next_page_uri !== 'null' ? page.next_page_uri : null;
  }
  return out;
}

export async function renderSession(root, route, account, {signal} = {}) {
  replace(root, h('h2', {id: 'session-title'}, 'Session'), h('p', {role: 'status'}, 'Loading…'));
  const traces = await sessionTraces(account, route.id, signal);
  const spans = traces.map((t) => {
    const end = recordTime(t);
    return {t, start: end - Number(t.latency_ms || 0), end};
  }).sort((a, b) => a.start - b.start || (a.t.sid < b.t.sid ? -1 : 1));
  const first = spans.length ? spans[0].start : 0;
  const last = spans.reduce((m, s) => Math.max(m, s.end), first);
  const width = Math.max(1, last - first);
  const links = accountOnly(route.params);
  const items = spans.map(({t, start, end}) => {
    const bar = h('span', {class: `bar ${t.status === 'completed' ? 'ok' : 'bad'}`});
    bar.style.marginLeft = `${((start - first) / width) * 100}%`;
    bar.style.width = `${Math.max(0.5, ((end - start) / width) * 100)}%`;
    return h('li', {class: 'event'},
      h('span', {class: 'offset'}, formatOffset(start - first)),
      h('a', {href: formatRoute({view: 'trace', id: t.sid, params: links})},
        `${t.request?.method || ''} ${t.request?.path || ''}`),
      ' ', statusBadge(t.status), ` ${responseCode(t)} · ${formatLatency(t.latency_ms)} · ${t.direction || ''}`,
      h('span', {class: 'track', 'aria-hidden': 'true'}, bar));
  });
  replace(root,
    h('a', {href: formatRoute({view: 'list', params: links}), class: 'back'}, '← All traces'),
    h('h2', {id: 'session-title'}, 'Session ', h('code', {}, route.id)),
    h('p', {class: 'summary'}, spans.length
      ? `${spans.length} traces from ${formatTime(first)} over ${formatOffset(last - first).slice(1)}`
      : 'No stored trace has this session.'),
    h('ol', {class: 'timeline', 'aria-label': 'Session timeline'}, items));
  return traces;
}
