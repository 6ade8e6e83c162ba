// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the
// page reads the stream itself with a ReadableStream reader and parses the event format
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

/**
 * Reads `response.body` as an event stream; calls onEvent({type, id, data}) per event.
 * Resolves when the stream ends; rejects when it fails or `signal` aborts.
 */
export async function readEvents(response, onEvent, signal) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  signal?.addEventListener('abort', () => reader.cancel().catch(() => {}), {once: true});
  let buffer = '';
  let event = {type: '', id: null, data: []};
  const dispatch = () => {
    if (event.data.length > 0) {
      onEvent({type: event.type || 'message', id: event.id, data: event.data.join('\n')});
    }
    event = {type: '', id: event.id, data: []};
  };
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    // A lone '\r' at the end may be the first half of '\r\n': wait for the next chunk.
    while ((end = buffer.search(/\r\n|\r(?!$)|\n/)) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') { dispatch(); continue; }
      if (line.startsWith(':')) continue;  // a comment: the server's keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let v = colon < 0 ? '' : line.slice(colon + 1);
      if (v.startsWith(' ')) v = v.slice(1);
      if (field === 'event') event.type = v;
      else if (field === 'data') event.data.push(v);
      else if (field === 'id' && !v.includes('\0')) event.id = v;
    }
  }
}
