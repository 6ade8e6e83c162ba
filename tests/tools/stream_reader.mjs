// Reads a trace-sidecar live stream with Node's EventSource (npm `eventsource`), the way a
// browser would: `first` events, then it closes and reconnects with Last-Event-ID, and reads
// on until `total` events. Prints one JSON line per event ({"id", "sid"}), then "done".
//   node stream_reader.mjs URL ACCOUNT_SID TOKEN FIRST TOTAL
import { EventSource } from 'eventsource';

const [url, user, token, first, total] = process.argv.slice(2);
const auth = 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64');
let seen = 0;

function open(lastEventId) {
  return new Promise((resolve, reject) => {
    const es = new EventSource(url, {
      fetch: (input, init) => {
        const headers = { ...init.headers, Authorization: auth };
        if (lastEventId) headers['Last-Event-ID'] = lastEventId;
        return fetch(input, { ...init, headers });
      },
    });
    let last = lastEventId;
    let closed = false;
    es.addEventListener('trace', (e) => {
      if (closed) return; // events of a chunk already read may still be dispatched
      const sid = JSON.parse(e.data).sid;
      console.log(JSON.stringify({ id: e.lastEventId, sid }));
      last = e.lastEventId;
      seen += 1;
      if (seen === Number(first) || seen === Number(total)) {
        closed = true;
        es.close();
        resolve(last);
      }
    });
    es.addEventListener('error', (e) => {
      if (es.readyState === EventSource.CLOSED) reject(new Error(`stream failed: ${e.message}`));
    });
  });
}

try {
  const last = await open(undefined);
  await open(last);
  console.log('done');
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
