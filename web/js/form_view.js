// A form body (application/x-www-form-urlencoded) as a table of its fields, decoded.
import {h} from './dom.js';
import {valueText} from './redaction.js';

export function formView(text) {
  const fields = [...new URLSearchParams(text)];
  if (fields.length === 0) return null;
  return h('table', {class: 'kv form-fields'},
    h('caption', {class: 'visually-hidden'}, 'Form fields'),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Field'), h('th', {scope: 'col'}, 'Value'))),
    h('tbody', {}, fields.map(([k, v]) =>
      h('tr', {}, h('th', {scope: 'row'}, k), h('td', {}, valueText(v))))));
}
