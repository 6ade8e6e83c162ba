// An XML (RCML) body, indented. The text is parsed by DOMParser into an inert document (no
// browsing context: nothing in it runs or loads) and written back as text, one element a line.
import {h} from './dom.js';
import {valueText} from './redaction.js';

// Written back as XML, so characters that XML escapes are escaped again (as plain text).
const escapeText = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (t) => escapeText(t).replace(/"/g, '&quot;');

/** The indented text of an XML document, or null when it does not parse. */
export function indentXml(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) return null;
  const lines = [];
  const walk = (node, depth) => {
    const pad = '  '.repeat(depth);
    if (node.nodeType === Node.TEXT_NODE || node.nodeType === Node.CDATA_SECTION_NODE) {
      const t = node.nodeValue.trim();
      if (t) lines.push(pad + escapeText(t));
      return;
    }
    if (node.nodeType === Node.COMMENT_NODE) {
      lines.push(`${pad}<!--${node.nodeValue}-->`);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const attrs = [...node.attributes].map((a) => ` ${a.name}="${escapeAttr(a.value)}"`).join('');
    const children = [...node.childNodes].filter((c) =>
      c.nodeType !== Node.TEXT_NODE || c.nodeValue.trim());
    if (children.length === 0) {
      lines.push(`${pad}<${node.nodeName}${attrs}/>`);
    } else if (children.length === 1 && children[0].nodeType === Node.TEXT_NODE) {
      lines.push(`${pad}<${node.nodeName}${attrs}>${escapeText(children[0].nodeValue.trim())}</${node.nodeName}>`);
    } else {
      lines.push(`${pad}<${node.nodeName}${attrs}>`);
      for (const c of children) walk(c, depth + 1);
      lines.push(`${pad}</${node.nodeName}>`);
    }
  };
  for (const c of doc.childNodes) walk(c, 0);
  return lines.join('\n');
}

export function xmlView(text) {
  const indented = indentXml(text);
  if (indented === null) return null;
  return h('pre', {class: 'body xml'}, valueText(indented));
}
