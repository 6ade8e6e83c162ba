// Opens a HAR file in a real HAR consumer: Chromium, through Playwright's routeFromHAR, which
// answers a page's requests from the HAR's entries. For each entry given by index, the page
// navigates to the entry's URL (GET entries) and this prints what the browser received ("status base64(body)"),
// one line per entry. Playwright comes from tests/web (npm ci there; Debian's chromium).
// Usage: node open_har.mjs FILE.har INDEX...
import {createRequire} from 'module';
import fs from 'fs';
import path from 'path';
import {fileURLToPath} from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'web', 'package.json'));
const {chromium} = require('playwright-core');

const [file, ...indexes] = process.argv.slice(2);
const har = JSON.parse(fs.readFileSync(file, 'utf8'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext();
  await context.routeFromHAR(file, {notFound: 'abort'});
  const page = await context.newPage();
  for (const i of indexes) {
    // The page navigates to the entry's URL (a GET); routeFromHAR answers from the HAR.
    const entry = har.log.entries[Number(i)];
    // 'commit': the answer is in; a media document would otherwise wait for its player.
    const response = await page.goto(entry.request.url, {waitUntil: 'commit'}).catch(() => null);
    if (!response) {
      console.log('none');
      continue;
    }
    console.log(`${response.status()} ${(await response.body()).toString('base64')}`);
  }
} finally {
  await browser.close();
}
