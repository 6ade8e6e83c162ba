// Replay from the page (docs/inspector.md): a webhook recorded through a real sidecar and a
// real app is replayed from its trace's toolbar after a confirmation in an accessible dialog;
// the new trace opens and says what it replays, and the app received the request again. A
// redacted header must be supplied (the API's 409 is shown until it is), and the per-account
// limit's 429 shows its Retry-After. Keyboard only where a person would use it.
import AxeBuilder from '@axe-core/playwright';
import {expect, test} from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

import {acme, screenshotDir, send, startApp, startSidecar, total, until} from './harness.js';

test.describe.configure({mode: 'serial'});

const received = [];  // what the app was sent: {path, authorization, body}
let app;
let sidecar;
const basic = `Basic ${Buffer.from(`${acme.sid}:${acme.token}`).toString('base64')}`;

function keep(pathname) {
  return {type: 'application/xml', body: (buf) => {
    received.push({path: pathname, body: buf.toString('latin1')});
    return '<Response><Say>again</Say></Response>';
  }};
}

test.beforeAll(async () => {
  fs.mkdirSync(screenshotDir, {recursive: true});
  app = await startApp({'/voice': keep('/voice'), '/status': keep('/status')});
  app.server.on('request', (req) => {
    if (req.url.startsWith('/status')) received.authorization = req.headers.authorization;
  });
  sidecar = await startSidecar(app.port);
  await send(sidecar.proxy, {path: '/voice', form: {AccountSid: acme.sid, CallSid: 'CAreplay1',
    From: '+15551234567', Digits: '5#'}});
  await send(sidecar.proxy, {path: '/status', headers: {authorization: 'Bearer first-token'},
    form: {AccountSid: acme.sid, CallSid: 'CAreplay2', CallStatus: 'completed'}});
  await until(async () => (await total(sidecar.api)) === 2, {what: '2 traces recorded'});
});

test.afterAll(async () => {
  await sidecar?.stop();
  app?.server.close();
});

async function sidOf(prefix) {
  const res = await fetch(`${sidecar.api}/2012-04-24/Accounts/${acme.sid}/Traces.json?PageSize=1&RequestPath=${encodeURIComponent(prefix)}`,
    {headers: {authorization: basic}});
  return (await res.json()).traces[0].sid;
}

async function openTrace(page, sid) {
  await page.goto(`${sidecar.api}/#/traces/${sid}`);
  await page.getByLabel('Account SID').fill(acme.sid);
  await page.getByLabel('Auth token').fill(acme.token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await expect(page.getByRole('heading', {level: 2})).toContainText('POST');
}

async function expectAccessible(page, view) {
  const result = await new AxeBuilder({page}).include('.replay-dialog').analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${view}: ${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
}

test('replay a webhook: confirm, then the new trace opens and shows what it replays', async ({page}) => {
  const original = await sidOf('/voice');
  await openTrace(page, original);
  const before = received.length;
  await page.getByRole('button', {name: 'Replay…'}).click();
  const dialog = page.getByRole('dialog', {name: 'Replay POST /voice'});
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('http://127.0.0.1:');
  await expectAccessible(page, 'replay dialog');
  await page.screenshot({path: path.join(screenshotDir, 'replay-dialog.png')});
  // Keyboard: the focus is in the dialog on its Replay button; Enter sends.
  await expect(dialog.getByRole('button', {name: 'Replay'})).toBeFocused();
  await page.keyboard.press('Enter');
  const link = dialog.getByRole('link', {name: /Open the new trace TR[0-9a-f]{32}/});
  await expect(link).toBeFocused();
  await until(() => received.length === before + 1, {what: 'the app to receive the replay'});
  expect(received.at(-1).body).toBe(received.find((r) => r.path === '/voice').body);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const facts = page.locator('dl.facts').first();
  await expect(facts).toContainText('Replay of');
  await expect(facts.getByRole('link', {name: original})).toBeVisible();
  await expect(page.getByRole('heading', {level: 2})).toContainText('POST /voice');
  expect(page.url()).not.toContain(original);
  await page.screenshot({path: path.join(screenshotDir, 'replay-new-trace.png')});
});

test('a redacted header: the API\'s 409 is shown until a value is supplied, recorded redacted', async ({page}) => {
  const original = await sidOf('/status');
  await openTrace(page, original);
  const opener = page.getByRole('button', {name: 'Replay…'});
  await opener.click();
  const dialog = page.getByRole('dialog', {name: 'Replay POST /status'});
  const field = dialog.getByLabel('authorization');
  await expect(field).toBeFocused();
  await expectAccessible(page, 'replay dialog with a redacted header');
  await dialog.getByRole('button', {name: 'Replay'}).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('cannot be replayed');
  await expect(alert).toContainText('authorization was redacted');
  await page.screenshot({path: path.join(screenshotDir, 'replay-409.png')});
  // Escape closes it and gives the focus back.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(opener).toBeFocused();

  await opener.click();
  await page.getByRole('dialog').getByLabel('authorization').fill('Bearer fresh-token');
  await page.keyboard.press('Enter');
  const link = page.getByRole('dialog').getByRole('link', {name: /Open the new trace/});
  await expect(link).toBeVisible();
  expect(received.authorization).toBe('Bearer fresh-token');
  await link.click();
  const request = page.getByRole('table', {name: 'Request headers'});
  await expect(request).toContainText('Bearer [REDACTED]');
  await expect(page.locator('body')).not.toContainText('fresh-token');
});

test('past the per-account limit the 429 message shows its Retry-After', async ({page}) => {
  const original = await sidOf('/voice');
  // Replays already made in this file count; fill the minute up to 60 through the API.
  for (;;) {
    const res = await fetch(`${sidecar.api}/2012-04-24/Accounts/${acme.sid}/Traces/${original}/Replay`,
      {method: 'POST', headers: {authorization: basic}});
    if (res.status === 429) break;
    expect(res.status).toBe(201);
  }
  await openTrace(page, original);
  await page.getByRole('button', {name: 'Replay…'}).click();
  await page.getByRole('dialog').getByRole('button', {name: 'Replay'}).click();
  const alert = page.getByRole('dialog').getByRole('alert');
  await expect(alert).toContainText('Too many replays');
  await expect(alert).toContainText(/Retry-After: \d+ s/);
});
