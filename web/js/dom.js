// Building DOM nodes. Every string becomes a text node (textContent), never markup: recorded
// bytes are attacker-controlled, and this is the one way the page puts anything on screen.

/**
 * h('tr', {class: 'row'}, 'text', childNode, [more, children])
 * Props: `class`, `text`, `on<event>` (a function), `dataset` (object), `hidden`, and plain
 * attributes (set with setAttribute; never a `style` or an `on…` string).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key.startsWith('on') || key === 'style' || key === 'srcdoc') {
      throw new Error(`h(): refusing attribute ${key}`);
    } else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

/** Appends children (nodes, strings as text, arrays, nulls skipped). */
export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export const $ = (id) => document.getElementById(id);

/** Shows one message (or none) in a role=alert paragraph. */
export function say(node, text, kind = 'error') {
  node.textContent = text || '';
  node.className = text ? `message ${kind}` : 'message';
}
