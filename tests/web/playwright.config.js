// Playwright drives Debian's Chromium (no browser download), headless, against a real
// trace-sidecar started by the tests themselves (harness.js). Run: npx playwright test
import {defineConfig} from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.js',
  timeout: 60_000,
  expect: {timeout: 5_000},
  // One sidecar per file, files one after another: the machine has two cores.
  workers: 1,
  fullyParallel: false,
  reporter: [['list']],
  outputDir: '../../build/web-test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    chromiumSandbox: false,
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      // Without the background-networking flags Chromium reaches out to Google's services,
      // which on a closed network stalls its own connections.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
        '--disable-dev-shm-usage'],
    },
    viewport: {width: 1400, height: 900},
  },
});
