import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests against the real server that `cargo leptos end-to-end` starts.
 *
 * Chromium is Debian's (`apt-get install chromium fonts-noto-cjk`); Playwright's own browser
 * download is never used (install with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1, and never run
 * `npx playwright install`). The tests share one server and one database, and single login
 * makes accounts a shared resource, so they run one at a time.
 */
export default defineConfig({
  testDir: './tests',
  globalSetup: require.resolve('./global-setup'),
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: process.env.KEFU_E2E_BASE_URL ?? 'http://127.0.0.1:3000',
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
