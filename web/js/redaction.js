// Marking values the sidecar redacted ("[REDACTED]", docs/records.md) so that nobody mistakes
// them for what was sent.
import {h} from './dom.js';

const marker = '[REDACTED]';

export const isRedacted = (value) => typeof value === 'string' && value.includes(marker);

/** A value as text, with a visible "redacted" mark when it holds the marker. */
export function valueText(value) {
  const text = String(value);
  if (!isRedacted(text)) return text;
  return h('span', {class: 'redacted'}, text, h('span', {class: 'tag'}, 'redacted'));
}
