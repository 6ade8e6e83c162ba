// What a person can do with one trace besides reading it: copy it as a curl command, download
// it as HAR, replay it.
import {request, tracesPath} from './api.js';
import {h, say} from './dom.js';
import {saveFile} from './download.js';
import {openReplayDialog} from './replay_dialog.js';

/** The toolbar's controls for one trace; `message` is where their outcome is said. */
export function traceActions(record, account, message) {
  const base = `${tracesPath(account)}/${encodeURIComponent(record.sid)}`;
  const copy = h('button', {type: 'button'}, 'Copy as curl');
  copy.addEventListener('click', async () => {
    try {
      const text = await (await request(`${base}.curl`)).text();
      await navigator.clipboard.writeText(text);
      say(message, 'The curl command is on the clipboard.', 'ok');
    } catch (error) {
      say(message, `Could not copy the curl command: ${error.message}`);
    }
  });
  const har = h('button', {type: 'button'}, 'Download HAR');
  har.addEventListener('click', async () => {
    try {
      saveFile(await (await request(`${base}.har`)).blob(), `${record.sid}.har`);
      say(message, `Saved ${record.sid}.har.`, 'ok');
    } catch (error) {
      say(message, `Could not download the HAR: ${error.message}`);
    }
  });
  const replay = h('button', {type: 'button', 'aria-haspopup': 'dialog'}, 'Replay…');
  replay.addEventListener('click', () => openReplayDialog(record, base, account, replay));
  return [copy, har, replay];
}
