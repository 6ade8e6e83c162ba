// Live: traces that match the filters appear at the top as they happen (the API's stream, read
// with fetch() so that it carries the page's Authorization), pause and resume, and a visible
// state when the connection drops and comes back (the sidecar restarted on the same address).
import {expect, test} from '@playwright/test';

import {answers} from './fixtures.js';
import {acme, send, startApp, startSidecar, statusCallback, total, until} from './harness.js';

test.describe.configure({mode: 'serial'});

let app;
let sidecar;

test.beforeAll(async () => {
  app = await startApp(answers);
  sidecar = await startSidecar(app.port);
  for (let i = 0; i < 3; ++i) await send(sidecar.proxy, statusCallback(`CAbefore${i}`, 'completed', 1));
  await until(async () => (await total(sidecar.api)) === 3, {what: 'the first traces'});
});

test.afterAll(async () => {
  await sidecar?.stop();
  app?.server.close();
});

const rows = (page) => page.locator('table.traces tbody tr');
const liveState = (page) => page.locator('.live-state');

async function signIn(page, hash = '') {
  await page.goto(`${sidecar.api}/${hash}`);
  await page.getByLabel('Account SID').fill(acme.sid);
  await page.getByLabel('Auth token').fill(acme.token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await expect(liveState(page)).toHaveText('Live: connected');
}

/** Sends a webhook and resolves to the ms until its row is at the top of the list. */
async function appearsWithin(page, callSid) {
  const sent = await send(sidecar.proxy, statusCallback(callSid, 'completed', 1));
  expect(sent).toBe(200);
  const from = Date.now();
  await expect(rows(page).first()).toContainText(callSid, {timeout: 5000});
  return Date.now() - from;
}

test('a webhook appears at the top within a second; a filter keeps others out', async ({page}) => {
  await signIn(page, '#/traces?RequestPath=%2Fstatus');
  await expect(rows(page)).toHaveCount(3);
  const ms = await appearsWithin(page, 'CAlive0');
  console.log(`live: the row appeared ${ms} ms after the proxy answered`);
  expect(ms).toBeLessThan(1000);
  await expect(rows(page)).toHaveCount(4);
  // Another path does not match the filter: it is stored but never shown.
  await send(sidecar.proxy, {method: 'GET', path: `/voice.xml?AccountSid=${acme.sid}`});
  await appearsWithin(page, 'CAlive1');
  await expect(rows(page)).toHaveCount(5);
  await expect(page.locator('table.traces')).not.toContainText('/voice.xml');
});

test('pause holds the list still; resume brings what arrived meanwhile', async ({page}) => {
  await signIn(page);
  await page.getByRole('button', {name: 'Pause live'}).click();
  await expect(liveState(page)).toHaveText('Live: paused');
  await expect(page.getByRole('button', {name: 'Resume live'})).toHaveAttribute('aria-pressed', 'true');
  const before = await rows(page).count();
  const stored = await total(sidecar.api);
  await send(sidecar.proxy, statusCallback('CApaused', 'completed', 1));
  await until(async () => (await total(sidecar.api)) === stored + 1, {what: 'the paused trace stored'});
  await expect(rows(page)).toHaveCount(before);
  await page.getByRole('button', {name: 'Resume live'}).click();
  await expect(rows(page).first()).toContainText('CApaused');
  await expect(liveState(page)).toHaveText('Live: connected');
});

test('a dropped connection shows, and the list catches up when it comes back', async ({page}) => {
  await signIn(page);
  await sidecar.halt();
  await expect(liveState(page)).toContainText('Live: disconnected');
  sidecar = await sidecar.restart();
  await expect(liveState(page)).toHaveText('Live: connected', {timeout: 10_000});
  expect(await appearsWithin(page, 'CAafter')).toBeLessThan(1000);
});
