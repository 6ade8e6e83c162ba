// A JSON body, pretty and foldable: objects and arrays are <details> (Enter or Space folds
// them), leaves are text.
import {h} from './dom.js';
import {valueText} from './redaction.js';

const maxOpenDepth = 3;

function leaf(value) {
  if (value === null) return h('span', {class: 'j-null'}, 'null');
  if (typeof value === 'string') return h('span', {class: 'j-string'}, '"', valueText(value), '"');
  if (typeof value === 'number') return h('span', {class: 'j-number'}, String(value));
  return h('span', {class: 'j-bool'}, String(value));
}

function node(key, value, depth) {
  const label = key === null ? null : h('span', {class: 'j-key'}, `${key}: `);
  if (value === null || typeof value !== 'object') return h('li', {}, label, leaf(value));
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return h('li', {}, label, `${open}${close}`);
  const count = isArray ? `${entries.length} items` : `${entries.length} keys`;
  return h('li', {},
    h('details', {open: depth < maxOpenDepth},
      h('summary', {}, label, open, h('span', {class: 'j-count'}, ` ${count} `), close),
      h('ul', {class: 'j-children'}, entries.map(([k, v]) => node(k, v, depth + 1)))));
}

/** The tree of parsed JSON. */
export function jsonTree(value) {
  return h('ul', {class: 'json-tree'}, node(null, value, 0));
}
