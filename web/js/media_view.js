// Base64 bodies that the browser can play or show safely: audio through <audio>, raster images
// through <img>, each from a blob: URL whose type the page sets itself (an allow-list), so a
// recorded body is never opened as a document (no HTML, no SVG). Everything else is bytes.
import {h} from './dom.js';

const rasterImages = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp',
  'image/avif', 'image/x-icon', 'image/vnd.microsoft.icon']);
const urls = new Set();

/** The media type of a Content-Type value, lower-case, without parameters. */
export const mediaType = (contentType) => (contentType || '').split(';')[0].trim().toLowerCase();

export const isAudio = (type) => /^audio\/[a-z0-9.+-]+$/.test(type);
export const isRasterImage = (type) => rasterImages.has(type);

export function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; ++i) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function blobUrl(bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], {type}));
  urls.add(url);
  return url;
}

/** Revokes the blob: URLs of the view being left. */
export function releaseMedia() {
  for (const url of urls) URL.revokeObjectURL(url);
  urls.clear();
}

/** An <audio> or <img> for the bytes, or null when the type is neither. */
export function mediaView(bytes, type, label) {
  if (isAudio(type)) {
    return h('audio', {controls: true, preload: 'metadata', src: blobUrl(bytes, type), 'aria-label': label});
  }
  if (isRasterImage(type)) {
    return h('img', {class: 'body-image', src: blobUrl(bytes, type), alt: label});
  }
  return null;
}

/** A link that downloads the bytes as a file (never displayed by the browser). */
export function downloadLink(bytes, name) {
  return h('a', {href: blobUrl(bytes, 'application/octet-stream'), download: name,
    class: 'button-link'}, 'Download body');
}
