// Binary bytes as a hex dump: offset, 16 bytes in hex, and their printable ASCII.
import {h} from './dom.js';

const maxBytes = 64 * 1024;

export function hexView(bytes) {
  const shown = bytes.subarray(0, maxBytes);
  const lines = [];
  for (let at = 0; at < shown.length; at += 16) {
    const row = shown.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  const rest = bytes.length > maxBytes ? `\n… ${bytes.length - maxBytes} more bytes` : '';
  return h('pre', {class: 'body hex', 'aria-label': 'Hex view'}, lines.join('\n') + rest);
}
