// What a person can do with the list's current page: download it as HAR (the same filters,
// page and cursor, GET …/Traces.har).
import {request} from './api.js';
import {h, say} from './dom.js';
import {saveFile} from './download.js';
import {listPath} from './list_view.js';

export function pageHarButton(account, params, message) {
  const button = h('button', {type: 'button'}, 'Download HAR of this page');
  button.addEventListener('click', async () => {
    try {
      const blob = await (await request(listPath(account, params, '.har'))).blob();
      saveFile(blob, `traces-${account}-page-${params.get('Page') || 0}.har`);
    } catch (error) {
      say(message, `Could not download the HAR: ${error.message}`);
    }
  });
  return button;
}
