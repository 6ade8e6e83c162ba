// Saving what the API answered as a file: a blob: URL of a type no browser displays, clicked
// once with a download name, so the bytes are never opened as a document of the page.
import {h} from './dom.js';

export function saveFile(blob, name) {
  const url = URL.createObjectURL(new Blob([blob], {type: 'application/octet-stream'}));
  const link = h('a', {href: url, download: name, hidden: true});
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has its own copy once started; the URL is kept a little for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
