// Following the list live: the API's stream (…/Traces/Stream, Server-Sent Events) with the
// list's filters, read through fetch() so that it carries the page's Authorization. A dropped
// connection is retried with Last-Event-ID, so nothing still stored is missed; pausing closes
// the stream and resuming reopens it from the last trace seen.
import {request, tracesPath} from './api.js';
import {readEvents} from './sse.js';

const wait = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, {once: true});
});

/**
 * Starts following. `after` is the newest sid already shown (the stream starts after it).
 * onTrace(record) per new trace; onState(state, detail) with 'connecting', 'connected',
 * 'disconnected', 'paused'. Returns {pause(), resume(), stop(), paused}.
 */
export function follow({account, filters, after, signal, onTrace, onState}) {
  let lastId = after || null;
  let run = null;  // the AbortController of the running loop

  async function loop(signal) {
    let delay = 250;
    while (!signal.aborted) {
      onState('connecting');
      try {
        const query = new URLSearchParams(filters);
        const headers = {Accept: 'text/event-stream'};
        if (lastId) headers['Last-Event-ID'] = lastId;
        const response = await request(`${tracesPath(account)}/Stream?${query}`, {headers, signal});
        onState('connected');
        delay = 250;
        await readEvents(response, (event) => {
          if (event.id) lastId = event.id;
          if (event.type === 'trace') onTrace(JSON.parse(event.data));
          else if (event.type === 'truncated') onState('connected', 'Some traces were skipped: too many to catch up.');
          else if (event.type === 'overflow') onState('disconnected', 'The page fell behind the stream.');
        }, signal);
        if (signal.aborted) return;
        onState('disconnected', 'The stream ended.');
      } catch (error) {
        if (signal.aborted || error.status === 401) return;
        onState('disconnected', error.message);
      }
      await wait(delay, signal);
      delay = Math.min(delay * 2, 5000);
    }
  }

  const controls = {
    paused: false,
    pause() {
      run?.abort();
      run = null;
      controls.paused = true;
      onState('paused');
    },
    resume() {
      controls.paused = false;
      run = new AbortController();
      loop(run.signal);
    },
    stop() {
      run?.abort();
      run = null;
    },
  };
  // The view's own signal ends the feed when the page leaves the list.
  signal?.addEventListener('abort', () => controls.stop(), {once: true});
  controls.resume();
  return controls;
}
