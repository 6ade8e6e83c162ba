// The list's live mode: new traces that match the filters appear at the top as they happen,
// with pause and resume and a visible connection state. Only the first page follows (older
// pages hold still, as paging by cursor promises).
import {h} from './dom.js';
import {follow} from './live.js';
import {traceRow} from './trace_table.js';

const maxRows = 500;
const stateText = {
  connecting: 'Live: connecting…',
  connected: 'Live: connected',
  disconnected: 'Live: disconnected, reconnecting…',
  paused: 'Live: paused',
};

/** {controls: nodes for the toolbar, start(page, tbody)} for a route's list. */
export function liveMode(account, params, filters, signal) {
  const state = h('span', {class: 'live-state', role: 'status', 'aria-live': 'polite'}, 'Live: off');
  const button = h('button', {type: 'button', disabled: true, 'aria-pressed': 'false'}, 'Pause live');
  const first = !params.get('Page') && !params.get('AfterSid');
  let feed = null;
  button.addEventListener('click', () => {
    if (!feed) return;
    if (feed.paused) feed.resume(); else feed.pause();
    button.textContent = feed.paused ? 'Resume live' : 'Pause live';
    button.setAttribute('aria-pressed', String(feed.paused));
  });
  return {
    controls: first ? [state, button] : [],
    start(page, tbody) {
      if (!first || signal.aborted) return;
      const shown = new Set(page.traces.map((t) => t.sid));
      feed = follow({account, filters, after: page.traces[0]?.sid, signal,
        onTrace(record) {
          if (shown.has(record.sid)) return;
          shown.add(record.sid);
          const row = traceRow(record, params);
          row.classList.add('new');
          tbody.prepend(row);
          while (tbody.rows.length > maxRows) tbody.lastElementChild.remove();
        },
        onState(s, detail) {
          state.textContent = detail ? `${stateText[s]} ${detail}` : stateText[s];
          state.className = `live-state ${s}`;
        }});
      button.disabled = false;
    },
  };
}
