// What the app behind the sidecar answers: one path per kind of body the inspector lays out,
// and recorded bytes written by an attacker.

// A 1x1 PNG and a short WAV of silence (8 kHz, 8-bit mono), made here rather than shipped.
export const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64');

export function wav(samples = 800) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, Buffer.alloc(samples, 128)]);
}

// Every way recorded bytes could try to become markup or script in the page.
export const evil = {
  script: '<script>window.__pwned = "script"</script>',
  img: '<img src=x onerror="window.__pwned = \'img\'">',
  link: 'javascript:window.__pwned="link"',
  entity: '&lt;b&gt;bold&lt;/b&gt; &amp;amp;',
  svg: '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=\'svg\'"><script>window.__pwned="svg-script"</script></svg>',
};

export const rcml = '<Response><Say voice="alice">Hello &amp; welcome</Say>' +
  '<Gather action="/gather" numDigits="1"><Say>Press 1</Say></Gather>' +
  '<Play>http://app.example.com/media/hold.wav</Play></Response>';

export const answers = {
  '/voice.xml': {type: 'application/xml', body: rcml},
  '/status': {type: 'text/plain', body: 'ok'},
  '/call.json': {type: 'application/json',
    body: JSON.stringify({sid: 'CA0123', status: 'queued', price: null, nested: {tags: ['a', 'b'], n: 3}})},
  '/media/hold.wav': {type: 'audio/wav', body: wav()},
  '/logo.png': {type: 'image/png', body: png},
  '/vector.svg': {type: 'image/svg+xml', body: evil.svg},
  '/blob': {type: 'application/octet-stream', body: Buffer.from([0, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef, 65, 66, 67])},
  '/big': {type: 'text/plain', body: 'x'.repeat(20000)},
  '/fail': {status: 500, type: 'text/plain', body: 'boom'},
  '/evil': {type: 'text/html',
    headers: {'x-evil': evil.script, 'x-evil-img': evil.img, 'x-link': evil.link},
    body: `<html><body>${evil.script}${evil.img}<a href="${evil.link}">go</a>${evil.entity}</body></html>`},
  '/evil.json': {type: 'application/json',
    body: JSON.stringify({link: evil.link, html: evil.img, script: evil.script, entity: evil.entity})},
  '/evil.xml': {type: 'application/xml',
    body: `<Response><Say>${evil.entity}</Say><Redirect>${evil.link}</Redirect><x:script xmlns:x="http://www.w3.org/1999/xhtml">window.__pwned="xml"</x:script></Response>`},
};
