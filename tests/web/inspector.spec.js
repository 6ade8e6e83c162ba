// The web inspector in Chromium against a real sidecar, a real app and real webhooks: sign in,
// the list and its filters and paging, one trace with every kind of body, a session's
// timeline, deep links, the keyboard, hostile recorded bytes, where the token goes, and
// accessibility. Screenshots of each view go to build/web-screenshots/.
import AxeBuilder from '@axe-core/playwright';
import {expect, test} from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

import {answers, evil} from './fixtures.js';
import {acme, screenshotDir, send, startApp, startSidecar, statusCallback, support, total,
  until} from './harness.js';

test.describe.configure({mode: 'serial'});

const callSid = 'CAd9e08ede8b604e739ba7d0bd477fdf49';
const fillers = 56;
let app;
let sidecar;
let sent = 0;

async function through(request) {
  await send(sidecar.proxy, request);
  sent += 1;
}

test.beforeAll(async () => {
  fs.mkdirSync(screenshotDir, {recursive: true});
  app = await startApp(answers);
  sidecar = await startSidecar(app.port);
  // A call: its RCML fetch, a media fetch, and two status callbacks, in that order.
  const q = `AccountSid=${acme.sid}&CallSid=${callSid}`;
  await through({method: 'GET', path: `/voice.xml?${q}`, headers: {accept: 'application/xml'}});
  await through({method: 'GET', path: `/media/hold.wav?${q}`});
  await through(statusCallback(callSid, 'ringing', 1));
  await through(statusCallback(callSid, 'completed', 2));
  // Traffic of other calls, to fill more than a page.
  for (let i = 0; i < fillers; ++i) {
    await through(statusCallback(`CA${String(i).padStart(32, '0')}`, 'completed', 1));
  }
  // One of each body kind, a failure, an error, secrets, and hostile bytes.
  const acmeQuery = `?AccountSid=${acme.sid}`;
  for (const p of ['/call.json', '/logo.png', '/vector.svg', '/blob', '/big', '/fail', '/evil.json', '/evil.xml']) {
    await through({method: 'GET', path: p + acmeQuery});
  }
  await through({method: 'GET', path: `/down/nowhere${acmeQuery}`});
  await through({path: '/status', headers: {authorization: 'Basic dXNlcjpwYXNz'},
    form: {AccountSid: acme.sid, CallSid: 'CAsecret', AuthToken: 'do-not-show', Digits: '1'}});
  await through({path: '/evil', headers: {'x-evil': evil.script, 'x-evil-img': evil.img},
    form: {AccountSid: acme.sid, Body: `${evil.script}${evil.img}`, Link: evil.link, Entity: evil.entity}});
  await through({path: '/status', form: {AccountSid: support.sid, CallSid: 'CAsub', CallStatus: 'completed'}});
  await until(async () => (await total(sidecar.api)) === sent, {what: `${sent} traces recorded`});
});

test.afterAll(async () => {
  await sidecar?.stop();
  app?.server.close();
});

/** The sid of the newest trace whose path starts with `prefix`. */
async function sidOf(prefix) {
  const res = await fetch(`${sidecar.api}/2012-04-24/Accounts/${acme.sid}/Traces.json?PageSize=1&RequestPath=${encodeURIComponent(prefix)}`, {
    headers: {authorization: `Basic ${Buffer.from(`${acme.sid}:${acme.token}`).toString('base64')}`}});
  return (await res.json()).traces[0].sid;
}

async function signIn(page, who = acme, hash = '') {
  await page.goto(`${sidecar.api}/${hash}`);
  await page.getByLabel('Account SID').fill(who.sid);
  await page.getByLabel('Auth token').fill(who.token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await expect(page.getByRole('button', {name: 'Sign out'})).toBeVisible();
}

async function shot(page, name) {
  await page.screenshot({path: path.join(screenshotDir, `${name}.png`), fullPage: false});
}

async function expectAccessible(page, view) {
  const result = await new AxeBuilder({page}).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${view}: ${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
}

const rows = (page) => page.locator('table.traces tbody tr');
const filter = (page, label) => page.getByRole('form', {name: 'Filters'}).getByLabel(label, {exact: true});

test('the page comes from the API listener with its policy and no challenge', async ({page}) => {
  const response = await page.goto(`${sidecar.api}/`);
  expect(response.status()).toBe(200);
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("default-src 'none'");
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['www-authenticate']).toBeUndefined();
  await expect(page.getByRole('heading', {name: 'Sign in'})).toBeVisible();
  await expectAccessible(page, 'sign in');
  await shot(page, 'sign-in');
});

test('a wrong token is refused with a clear message, without the browser login box', async ({browser}) => {
  // Were the browser to answer the API's challenge itself, it would use these (valid)
  // credentials and the page would sign in: it must not.
  const context = await browser.newContext({httpCredentials: {username: acme.sid, password: acme.token}});
  const page = await context.newPage();
  await page.goto(`${sidecar.api}/`);
  await page.getByLabel('Account SID').fill(acme.sid);
  await page.getByLabel('Auth token').fill('not-the-token');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong account SID or auth token.');
  await expect(page.getByRole('heading', {name: 'Traces'})).toBeHidden();
  await expect(page.getByLabel('Account SID')).toHaveValue(acme.sid);
  await context.close();
});

test('sign in: the first page of 50, newest first, drawn within 200 ms of the answer', async ({page}) => {
  await signIn(page);
  await expect(page.getByRole('heading', {name: 'Traces'})).toBeVisible();
  await expect(rows(page)).toHaveCount(50);
  await expect(page.getByRole('status').filter({hasText: 'Traces 1–50 of'})).toHaveText(`Traces 1–50 of ${sent}`);
  // Newest first: the last webhook sent (the sub-account's callback) heads the list.
  await expect(rows(page).first()).toContainText('/status');
  const times = await rows(page).locator('td:first-child').allTextContents();
  expect([...times].sort().reverse()).toEqual(times);
  const draw = await page.evaluate(() => performance.getEntriesByName('list:draw')[0].duration);
  console.log(`first page of 50 drawn ${draw.toFixed(1)} ms after the API's answer`);
  expect(draw).toBeLessThan(200);
  for (const column of ['Time', 'Direction', 'Method', 'Path', 'Code', 'Status', 'Latency', 'Session']) {
    await expect(page.getByRole('columnheader', {name: column})).toBeVisible();
  }
  await expectAccessible(page, 'list');
  await shot(page, 'list');
  await page.emulateMedia({colorScheme: 'dark'});
  await expectAccessible(page, 'list, dark');
  await shot(page, 'list-dark');
});

test('paging follows the cursor and comes back', async ({page}) => {
  await signIn(page);
  const firstSid = await rows(page).first().getAttribute('data-sid');
  await page.getByRole('button', {name: 'Older →'}).click();
  await expect(rows(page)).toHaveCount(sent - 50);
  expect(page.url()).toContain('AfterSid=TR');
  expect(page.url()).toContain('Page=1');
  await expect(page.getByRole('button', {name: 'Older →'})).toBeDisabled();
  await page.getByRole('button', {name: '← Newer'}).click();
  await expect(rows(page)).toHaveCount(50);
  await expect(rows(page).first()).toHaveAttribute('data-sid', firstSid);
});

test('filters narrow the list and live in the address, so a link shows the same', async ({page, browser}) => {
  await signIn(page);
  await filter(page, 'Status').selectOption('failed');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(2);  // the 500 and the upstream that refused
  for (const status of await rows(page).locator('td:nth-child(6)').allTextContents()) expect(status).toBe('failed');
  expect(page.url()).toContain('Status=failed');

  await filter(page, 'Status').selectOption('');
  await filter(page, 'Path prefix').fill('/media/');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(1);
  await filter(page, 'Path prefix').fill('');
  await filter(page, 'Response code').fill('5');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(2);  // the app's 500, the sidecar's 502
  await filter(page, 'Response code').fill('');
  await filter(page, 'Session').fill(callSid);
  await filter(page, 'Direction').selectOption('webhook');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(4);
  await filter(page, 'Session').fill('');
  await filter(page, 'Direction').selectOption('');
  await filter(page, 'Response body contains').fill('queued');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page)).toContainText('/call.json');

  // A time range that ends before anything was recorded holds nothing.
  await filter(page, 'Response body contains').fill('');
  await filter(page, 'Before').fill('2020-01-01T00:00:00');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(page.getByText('No traces match these filters.')).toBeVisible();
  await filter(page, 'Before').fill('');
  await filter(page, 'From').fill('2020-01-01T00:00:00');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(50);

  // A deep link: another tab signs in and sees the filtered list.
  const link = `#/traces?Status=failed&RequestPath=%2Fnowhere`;
  const other = await browser.newPage();
  await signIn(other, acme, link);
  await expect(rows(other)).toHaveCount(1);
  await expect(filter(other, 'Status')).toHaveValue('failed');
  await expect(filter(other, 'Path prefix')).toHaveValue('/nowhere');
  await other.close();
});

test('a bad filter value is explained', async ({page}) => {
  await signIn(page, acme, '#/traces?ResponseCode=abcd');
  await expect(page.getByRole('alert')).toContainText('ResponseCode');
});

test('one trace: request and response, headers, form fields, redaction, timing', async ({page}) => {
  await signIn(page);
  await filter(page, 'Path prefix').fill('/voice.xml');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(1);
  await rows(page).getByRole('link', {name: /^Trace TR/}).click();
  await expect(page.getByRole('heading', {name: /GET \/voice\.xml/})).toBeVisible();
  expect(page.url()).toMatch(/#\/traces\/TR[0-9a-f]{32}/);
  await expect(page.getByRole('heading', {name: 'Request', exact: true})).toBeVisible();
  await expect(page.getByRole('heading', {name: 'Response', exact: true})).toBeVisible();
  await expect(page.getByRole('table', {name: 'Response headers'}).getByRole('row', {name: /content-type/}))
    .toContainText('application/xml');
  await expect(page.getByText('Latency', {exact: true})).toBeVisible();
  await expect(page.getByText('Started', {exact: true})).toBeVisible();
  // RCML, indented.
  const xml = page.locator('pre.body.xml');
  await expect(xml).toContainText('<Response>\n  <Say voice="alice">Hello &amp; welcome</Say>');
  await expect(xml).toContainText('  <Gather action="/gather" numDigits="1">\n    <Say>Press 1</Say>\n  </Gather>');
  await expectAccessible(page, 'trace');
  await shot(page, 'trace');

  // A form body as a table of fields; a redacted header and a redacted field are marked.
  const secret = await (async () => {
    const res = await fetch(`${sidecar.api}/2012-04-24/Accounts/${acme.sid}/Traces.json?SessionSid=CAsecret`, {
      headers: {authorization: `Basic ${Buffer.from(`${acme.sid}:${acme.token}`).toString('base64')}`}});
    return (await res.json()).traces[0].sid;
  })();
  await page.goto(`${sidecar.api}/#/traces/${secret}`);
  await expect(page.getByRole('heading', {name: /POST \/status/})).toBeVisible();
  const fields = page.getByRole('table', {name: 'Form fields'}).first();
  await expect(fields.getByRole('row', {name: /CallSid/})).toContainText('CAsecret');
  await expect(fields.getByRole('row', {name: /AuthToken/})).toContainText('[REDACTED]redacted');
  await expect(page.getByRole('table', {name: 'Request headers'}).getByRole('row', {name: /authorization/}))
    .toContainText('Basic [REDACTED]redacted');
  await expect(page.getByText('do-not-show')).toHaveCount(0);
  await shot(page, 'trace-form');
});

test('every body kind is laid out by its type', async ({page}) => {
  await signIn(page);
  const open = async (prefix) => {
    await page.goto(`${sidecar.api}/#/traces/${await sidOf(prefix)}`);
    await expect(page.getByRole('heading', {name: new RegExp(prefix.replace('.', '\\.'))})).toBeVisible();
  };
  // JSON: pretty and foldable.
  await open('/call.json');
  const tree = page.locator('ul.json-tree');
  await expect(tree).toContainText('status: "queued"');
  await expect(tree).toContainText('price: null');
  const nested = tree.locator('summary', {hasText: 'nested:'});
  await expect(tree.getByText('tags:')).toBeVisible();
  await nested.click();
  await expect(tree.getByText('tags:')).toBeHidden();
  await nested.focus();
  await page.keyboard.press('Enter');
  await expect(tree.getByText('tags:')).toBeVisible();
  await shot(page, 'body-json');

  // Audio: playable through <audio>, from a blob: URL of an audio type.
  await open('/media/hold.wav');
  const audio = page.locator('audio');
  await expect(audio).toHaveAttribute('src', /^blob:/);
  await expect(page.locator('.body-notes').last()).toContainText('audio');
  await until(() => audio.evaluate((a) => a.readyState >= 1 && a.duration > 0), {what: 'audio metadata'});
  expect(await audio.evaluate((a) => a.duration)).toBeCloseTo(0.1, 2);

  // A raster image, shown.
  await open('/logo.png');
  const img = page.getByRole('img', {name: 'response body'});
  await expect(img).toHaveAttribute('src', /^blob:/);
  await until(() => img.evaluate((i) => i.complete && i.naturalWidth === 1), {what: 'the image decoded'});

  // SVG is not a raster image: hex, never an image or a document.
  await open('/vector.svg');
  await expect(page.getByRole('img', {name: 'response body'})).toHaveCount(0);
  await expect(page.getByLabel('Hex view')).toContainText('3c 73 76 67');
  await expect(page.getByLabel('Hex view')).toContainText('<svg xmlns=');

  // Other bytes: a hex view, and a download.
  await open('/blob');
  await expect(page.getByLabel('Hex view')).toContainText('00000000  00 01 02 03 de ad be ef 41 42 43');
  await expect(page.getByLabel('Hex view')).toContainText('....ABC');
  await expect(page.getByRole('link', {name: 'Download body'}).last()).toHaveAttribute('download', /\.bin$/);
  await shot(page, 'body-hex');

  // A cut body says how much was kept.
  await open('/big');
  await expect(page.getByText('cut: 8192 of 20000 bytes kept')).toBeVisible();
  await expect(page.locator('pre.body.text').last()).toContainText('xxxx');

  // The error of an exchange that did not reach its upstream.
  await open('/nowhere');
  await expect(page.locator('.exchange-error')).toContainText('Error: upstream connect refused');
  await expect(page.getByText('502 Bad Gateway')).toBeVisible();
});

test('a session reads as one timeline in time order', async ({page}) => {
  await signIn(page);
  await filter(page, 'Session').fill(callSid);
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(4);
  await rows(page).first().getByRole('link', {name: `Session ${callSid}`}).click();
  await expect(page.getByRole('heading', {name: `Session ${callSid}`})).toBeVisible();
  const events = page.getByRole('list', {name: 'Session timeline'}).getByRole('listitem');
  await expect(events).toHaveCount(4);
  await expect(events.nth(0)).toContainText('GET /voice.xml');
  await expect(events.nth(0)).toContainText('+0.000 s');
  await expect(events.nth(1)).toContainText('GET /media/hold.wav');
  await expect(events.nth(2)).toContainText('POST /status');
  await expect(events.nth(3)).toContainText('POST /status');
  expect(page.url()).toContain(`#/sessions/${callSid}`);
  await expectAccessible(page, 'session');
  await shot(page, 'session');
  // From the timeline to a trace and back.
  await events.nth(1).getByRole('link').click();
  await expect(page.getByRole('heading', {name: /GET \/media\/hold\.wav/})).toBeVisible();
  await page.goBack();
  await expect(events).toHaveCount(4);
});

test('the keyboard alone signs in, moves through the list and opens a trace', async ({page}) => {
  await page.goto(`${sidecar.api}/`);
  await expect(page.getByLabel('Account SID')).toBeFocused();
  await page.keyboard.type(acme.sid);
  await page.keyboard.press('Tab');
  await page.keyboard.type(acme.token);
  await page.keyboard.press('Enter');
  await expect(rows(page)).toHaveCount(50);
  for (let i = 0; i < 40; ++i) {
    if (await page.evaluate(() => document.activeElement?.classList.contains('row-link'))) break;
    await page.keyboard.press('Tab');
  }
  const first = await rows(page).nth(0).getAttribute('data-sid');
  const second = await rows(page).nth(1).getAttribute('data-sid');
  await expect(rows(page).nth(0).getByRole('link', {name: /^Trace/})).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows(page).nth(1).getByRole('link', {name: /^Trace/})).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', {name: 'Trace', exact: false}).first()).toBeVisible();
  expect(page.url()).toContain(second);
  expect(page.url()).not.toContain(first);
  // Sign out by keyboard too.
  await page.getByRole('button', {name: 'Sign out'}).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toHaveText('Signed out.');
  await expect(page.getByLabel('Account SID')).toBeFocused();
});

test('hostile recorded bytes run nothing and read as text; the token goes nowhere', async ({page, context}) => {
  const urls = [];
  const dialogs = [];
  context.on('request', (r) => urls.push(r.url()));
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const trap = async () => {
    const state = await page.evaluate(() => ({
      pwned: window.__pwned,
      violations: window.__violations,
      scripts: document.scripts.length,
      handlers: [...document.querySelectorAll('*')].filter((n) =>
        [...n.attributes].some((a) => a.name.startsWith('on'))).length,
      javascriptLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
      frames: document.querySelectorAll('iframe, object, embed').length,
    }));
    expect(state).toEqual({pwned: undefined, violations: [], scripts: 1, handlers: 0, javascriptLinks: 0, frames: 0});
  };
  await signIn(page);
  // The list shows the hostile trace's row.
  await filter(page, 'Path prefix').fill('/evil');
  await page.getByRole('button', {name: 'Apply filters'}).click();
  await expect(rows(page)).toHaveCount(3);
  await trap();

  // The newest /evil… trace is the hostile POST (sent after the GETs).
  await page.goto(`${sidecar.api}/#/traces/${await sidOf('/evil')}`);
  await expect(page.getByRole('heading', {name: 'POST /evil'})).toBeVisible();
  const requestHeaders = page.getByRole('table', {name: 'Request headers'});
  await expect(requestHeaders.getByRole('row', {name: /x-evil /})).toContainText(evil.script);
  await expect(requestHeaders.getByRole('row', {name: /x-evil-img/})).toContainText(evil.img);
  const responseHeaders = page.getByRole('table', {name: 'Response headers'});
  await expect(responseHeaders.getByRole('row', {name: /x-link/})).toContainText(evil.link);
  const form = page.getByRole('table', {name: 'Form fields'});
  await expect(form.getByRole('row', {name: /Body/})).toContainText(`${evil.script}${evil.img}`);
  await expect(form.getByRole('row', {name: /Entity/})).toContainText(evil.entity);
  await expect(page.locator('pre.body.text')).toContainText(evil.entity);
  await expect(page.locator('pre.body.text')).toContainText(`<a href="${evil.link}">go</a>`);
  await shot(page, 'hostile');
  await trap();

  for (const p of ['/evil.json', '/evil.xml', '/vector.svg']) {
    await page.goto(`${sidecar.api}/#/traces/${await sidOf(p)}`);
    await expect(page.getByRole('heading', {name: `GET ${p}?AccountSid=${acme.sid}`})).toBeVisible();
    await trap();
  }
  await expect(page.locator('ul.json-tree')).toHaveCount(0);  // the svg page
  expect(dialogs).toEqual([]);

  // The token is in no URL the page asked for, nor in any storage.
  expect(urls.length).toBeGreaterThan(10);
  for (const u of urls) {
    expect(u).not.toContain(acme.token);
    expect(u).not.toContain(encodeURIComponent(acme.token));
  }
  expect(page.url()).not.toContain(acme.token);
  const storage = await page.evaluate(() => ({local: localStorage.length, session: sessionStorage.length,
    cookie: document.cookie}));
  expect(storage).toEqual({local: 0, session: 0, cookie: ''});
  expect(await context.cookies()).toEqual([]);
});

test('a reload forgets the credentials', async ({page}) => {
  await signIn(page, acme, '#/traces?Status=failed');
  await page.reload();
  await expect(page.getByRole('heading', {name: 'Sign in'})).toBeVisible();
  expect(page.url()).toContain('Status=failed');
});
