// A real trace-sidecar (build/dev/trace-sidecar unless SIDECAR_BIN says otherwise) on
// 127.0.0.1:0 with a real app behind it (a node http server), and webhooks sent through its
// proxy as the platform sends them: form POSTs like tests/fixtures/restcomm/.
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.SIDECAR_BIN || path.join(root, 'build/dev/trace-sidecar');

export const acme = {sid: 'ACae6e420f425248d6a26948c17a9e2acf', token: 'acme-token-3f9c2b7d1e'};
export const support = {sid: 'AC0123456789abcdef0123456789abcdef', token: 'support-token-8a7b6c'};
export const admin = {sid: 'ACaaaa0000bbbb1111cccc2222dddd3333', token: 'admin-token-5e4d3c'};

/** A polling wait: `probe()` until it returns a truthy value, or throw at the deadline. */
export async function until(probe, {timeout = 10_000, what = 'condition'} = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The app: answers by path with each kind of body the inspector lays out. */
export function startApp(answers) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://app');
      const answer = answers[url.pathname] || {status: 404, type: 'text/plain', body: 'no such page'};
      const body = typeof answer.body === 'function' ? answer.body(Buffer.concat(chunks)) : answer.body;
      res.writeHead(answer.status || 200, {'content-type': answer.type, ...(answer.headers || {})});
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => ({server, port: server.address().port}));
}

function config(dir, appPort, api) {
  return `
[log]
level = "info"
[proxy]
listen = "127.0.0.1:0"
[api]
listen = "${api}"
[store]
path = "${dir}/data"
body_limit = "8KiB"
[cache]
enabled = false

[[account]]
sid = "${acme.sid}"
auth_token = "${acme.token}"
friendly_name = "Acme"
traces = true

[[account]]
sid = "${support.sid}"
auth_token = "${support.token}"
friendly_name = "Acme support line"
parent = "${acme.sid}"
traces = true

[[account]]
sid = "${admin.sid}"
auth_token = "${admin.token}"
friendly_name = "Operations"
role = "administrator"
traces = true

[[route]]
prefix = "/down/"
upstream = "http://127.0.0.1:1/"
account = "${acme.sid}"

[[route]]
prefix = "/"
upstream = "http://127.0.0.1:${appPort}/"
account = "${acme.sid}"
`;
}

/**
 * Starts the sidecar; resolves to {proxy, api, stop(), restart()} once its `listening` line is
 * out. restart() stops it and starts it again on the same API address and data.
 */
export async function startSidecar(appPort, {dir: given, api = '127.0.0.1:0'} = {}) {
  const dir = given || fs.mkdtempSync(path.join(os.tmpdir(), 'sidecar-web-'));
  fs.writeFileSync(path.join(dir, 'sidecar.toml'), config(dir, appPort, api));
  const child = spawn(binary, ['--config', path.join(dir, 'sidecar.toml')],
    {stdio: ['ignore', 'ignore', 'pipe']});
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { err += d; });
  const listening = await until(() => {
    if (child.exitCode !== null) throw new Error(`trace-sidecar exited: ${err}`);
    return /msg=listening proxy=(\S+) api=(\S+)/.exec(err);
  }, {what: 'the listening line'});
  return {
    proxy: `http://${listening[1]}`,
    api: `http://${listening[2]}`,
    log: () => err,
    async halt() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
    async stop() {
      await this.halt();
      fs.rmSync(dir, {recursive: true, force: true});
    },
    async restart() {
      await this.halt();
      return startSidecar(appPort, {dir, api: listening[2]});
    },
  };
}

/** Sends one request through the proxy; resolves to the status code. */
export function send(proxy, {method = 'POST', path: target, form, body, headers = {}}) {
  const payload = form ? new URLSearchParams(form).toString() : (body ?? '');
  const url = new URL(target, proxy);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method, headers: {
      'user-agent': 'Apache-HttpClient/4.5.13 (Java/11.0.16)',
      ...(form ? {'content-type': 'application/x-www-form-urlencoded; charset=UTF-8'} : {}),
      ...headers,
    }}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A status callback of a call, as Restcomm sends it. */
export function statusCallback(callSid, status, sequence, account = acme.sid) {
  return {
    path: '/status',
    form: {
      AccountSid: account, CallSid: callSid, From: '+15551234567', To: '+15557654321',
      Direction: 'inbound', CallStatus: status, SequenceNumber: String(sequence),
      CallbackSource: 'call-progress-events',
    },
  };
}

/** The traces the API holds for an account (the list's total). */
export async function total(api, who = acme, query = '') {
  const res = await fetch(`${api}/2012-04-24/Accounts/${who.sid}/Traces.json?PageSize=1${query}`, {
    headers: {authorization: `Basic ${Buffer.from(`${who.sid}:${who.token}`).toString('base64')}`},
  });
  return (await res.json()).total;
}

export const screenshotDir = path.join(root, 'build/web-screenshots');
