// A header map as a table (names as recorded, lower-case), redacted values marked.
import {h} from './dom.js';
import {valueText} from './redaction.js';

export function headersTable(headers, caption) {
  const entries = Object.entries(headers || {});
  if (entries.length === 0) return h('p', {class: 'empty'}, 'No headers.');
  return h('table', {class: 'kv headers'},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Name'), h('th', {scope: 'col'}, 'Value'))),
    h('tbody', {}, entries.map(([name, value]) =>
      h('tr', {}, h('th', {scope: 'row'}, name), h('td', {}, valueText(value))))));
}
