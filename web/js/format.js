// How record fields read on screen: times, latencies, codes.

/** The record's completion time in ms since the epoch (date_created_ms, else the sid's). */
export function recordTime(record) {
  const m = /(\d{1,2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ([+-]\d{4})/
    .exec(record.date_created_ms || record.date_created || '');
  if (m) {
    const months = 'JanFebMarAprMayJunJulAugSepOctNovDec';
    const month = months.indexOf(m[2]) / 3;
    const offset = (m[8][0] === '-' ? -1 : 1) *
      (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(3, 5))) * 60000;
    const ms = Number((m[7] || '0').padEnd(3, '0'));
    return Date.UTC(+m[3], month, +m[1], +m[4], +m[5], +m[6], ms) - offset;
  }
  return sidTime(record.sid);
}

/** The creation time carried by a trace sid's first 12 hex digits. */
export const sidTime = (sid) => /^TR[0-9a-f]{12}/.test(sid || '') ? parseInt(sid.slice(2, 14), 16) : NaN;

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** 2026-12-02 08:31:12.345 (UTC). */
export function formatTime(ms) {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.` +
    `${pad(d.getUTCMilliseconds(), 3)}`;
}

export const formatLatency = (ms) => (Number.isFinite(ms) ? `${ms} ms` : '');

/** Seconds with millisecond precision, signed: +1.234 s. */
export const formatOffset = (ms) => `+${(ms / 1000).toFixed(3)} s`;

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export const responseCode = (record) => record.response?.status?.code || '';
