// What makes a HAR 1.2 log valid (http://www.softwareishard.com/blog/har-12-spec/): the fields
// each object must have, with their types. Returns the list of problems, empty when valid.
const isoMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

function need(problems, where, object, fields) {
  for (const [name, type] of Object.entries(fields)) {
    const value = object?.[name];
    const ok = type === 'array' ? Array.isArray(value) : typeof value === type;
    if (!ok) problems.push(`${where}.${name} should be ${type}, is ${JSON.stringify(value)}`);
  }
}

const pairs = (problems, where, list) => (list || []).forEach((p, i) =>
  need(problems, `${where}[${i}]`, p, {name: 'string', value: 'string'}));

export function harProblems(har) {
  const problems = [];
  need(problems, 'har', har, {log: 'object'});
  need(problems, 'log', har.log, {version: 'string', creator: 'object', entries: 'array'});
  if (har.log?.version !== '1.2') problems.push(`log.version is ${har.log?.version}`);
  need(problems, 'log.creator', har.log?.creator, {name: 'string', version: 'string'});
  (har.log?.entries || []).forEach((e, i) => {
    const at = `entries[${i}]`;
    need(problems, at, e, {startedDateTime: 'string', time: 'number', request: 'object',
      response: 'object', cache: 'object', timings: 'object'});
    if (!isoMs.test(e.startedDateTime)) problems.push(`${at}.startedDateTime ${e.startedDateTime}`);
    need(problems, `${at}.request`, e.request, {method: 'string', url: 'string', httpVersion: 'string',
      cookies: 'array', headers: 'array', queryString: 'array', headersSize: 'number', bodySize: 'number'});
    pairs(problems, `${at}.request.headers`, e.request?.headers);
    pairs(problems, `${at}.request.queryString`, e.request?.queryString);
    if (e.request?.postData) need(problems, `${at}.request.postData`, e.request.postData, {mimeType: 'string'});
    need(problems, `${at}.response`, e.response, {status: 'number', statusText: 'string', httpVersion: 'string',
      cookies: 'array', headers: 'array', content: 'object', redirectURL: 'string', headersSize: 'number',
      bodySize: 'number'});
    pairs(problems, `${at}.response.headers`, e.response?.headers);
    need(problems, `${at}.response.content`, e.response?.content, {size: 'number', mimeType: 'string'});
    need(problems, `${at}.timings`, e.timings, {send: 'number', wait: 'number', receive: 'number'});
  });
  return problems;
}
