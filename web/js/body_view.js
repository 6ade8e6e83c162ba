// A recorded body laid out by its type: JSON as a foldable tree, XML indented, a form as a
// table of fields, audio playable, raster images shown, other bytes as hex, text as text.
// Whether it was cut, and how much was kept.
import {h} from './dom.js';
import {utf8Length} from './body_size.js';
import {formView} from './form_view.js';
import {hexView} from './hex_view.js';
import {jsonTree} from './json_tree.js';
import {base64Bytes, downloadLink, mediaType, mediaView} from './media_view.js';
import {valueText} from './redaction.js';
import {xmlView} from './xml_view.js';

function textBody(text, type) {
  const trimmed = text.trimStart();
  if (type.includes('json') || (!type && /^[[{]/.test(trimmed))) {
    try {
      return {kind: 'JSON', node: jsonTree(JSON.parse(text))};
    } catch { /* shown as text */ }
  }
  if (type.includes('xml') || (!type && trimmed.startsWith('<'))) {
    const node = xmlView(text);
    if (node) return {kind: 'XML', node};
  }
  if (type === 'application/x-www-form-urlencoded') {
    const node = formView(text);
    if (node) return {kind: 'form', node};
  }
  return {kind: 'text', node: h('pre', {class: 'body text'}, valueText(text))};
}

function binaryBody(base64, type, label, sid) {
  let bytes;
  try {
    bytes = base64Bytes(base64);
  } catch {
    return {kind: 'text', node: h('pre', {class: 'body text'}, base64), kept: base64.length};
  }
  const media = mediaView(bytes, type, label);
  const kind = media ? (media.tagName === 'AUDIO' ? 'audio' : 'image') : 'bytes';
  const view = media || hexView(bytes);
  return {kind, node: h('div', {class: 'binary'}, view, downloadLink(bytes, `${sid}-${label.replace(/\W+/g, '-')}.bin`)), kept: bytes.length};
}

/**
 * The view of one side's body. `part` is record.request or record.response.status (body,
 * body_encoding, body_truncated, body_size, headers).
 */
export function bodyView(part, label, sid) {
  const body = part?.body ?? '';
  if (body === '') return h('p', {class: 'empty'}, 'No body.');
  const type = mediaType(part.headers?.['content-type']);
  const base64 = part.body_encoding === 'base64';
  const shown = base64 ? binaryBody(body, type, label, sid) : textBody(body, type);
  const kept = shown.kept ?? utf8Length(body);
  const notes = [h('span', {class: 'tag'}, shown.kind),
    base64 ? h('span', {class: 'tag'}, 'base64 in the record') : null];
  if (part.body_truncated) {
    notes.push(h('span', {class: 'tag cut'},
      `cut: ${kept} of ${part.body_size ?? '?'} bytes kept`));
  }
  return h('div', {class: 'body-view'}, h('p', {class: 'body-notes'}, notes), shown.node);
}
