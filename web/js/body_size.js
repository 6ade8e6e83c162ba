// Sizes of bodies as the record counts them (bytes of UTF-8).
const encoder = new TextEncoder();

/** The UTF-8 length of a text body. */
export const utf8Length = (text) => encoder.encode(text).length;
