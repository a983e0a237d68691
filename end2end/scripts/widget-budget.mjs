#!/usr/bin/env node
/**
 * The buyer widget's budget (issue 13, aim 4), measured and printed; nothing is asserted.
 *
 *   node end2end/scripts/widget-budget.mjs [--base http://127.0.0.1:3200] [--runs 5] [--verbose]
 *   (or, in end2end/: npm run widget-budget -- --base http://127.0.0.1:3200)
 *
 * Against a running server with the demo data (KEFU_DEMO_DATA=true), ideally the release build
 * (README, "Buyer widget: bytes and time to live"). For each run, a fresh Chromium context (an
 * empty cache, as a buyer's first open) opens /chat?token=… of a demo buyer and the Chrome
 * DevTools Protocol reports:
 *   - bytes: the sum of `encodedDataLength` (what crossed the wire: headers and the body as
 *     served, compressed or not) of every response (Network.loadingFinished), by type;
 *   - live: from the document request to the buyer WebSocket's handshake response
 *     (Network.webSocketHandshakeResponseReceived, same monotonic clock): from then on a
 *     message typed is sent.
 * Unthrottled, then throttled with Network.emulateNetworkConditions (150 ms latency,
 * 1.6 Mbit/s down, 750 kbit/s up); the median of the runs is printed. Each run then opens the
 * chat again in the same context, to show what the cache headers save. Finally the size of
 * /widget.js (the embed loader on the mall's page) as served to a browser that accepts br.
 *
 * Chromium is Debian's, with the flags of playwright.config.ts (never `npx playwright install`).
 */
import http from 'node:http';
import https from 'node:https';
import { chromium } from '@playwright/test';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const BUYER_SOCKET_PATH = '/ws/buyer';
/** Chrome DevTools' "Fast 3G"-like profile the aim names: 150 ms, 1.6 Mbit/s down, 750 kbit/s up. */
const THROTTLED = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const AIM = { bytes: 150_000, liveThrottledSecs: 1.0, loaderBytes: 5_000 };

function parseArgs(argv) {
  const args = { base: process.env.KEFU_E2E_BASE_URL ?? 'http://127.0.0.1:3200', runs: 5, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--base') args.base = argv[++i];
    else if (arg === '--runs') args.runs = Number(argv[++i]);
    else if (arg === '--verbose') args.verbose = true;
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: widget-budget.mjs [--base URL] [--runs N] [--verbose]');
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (!Number.isInteger(args.runs) || args.runs < 1 || args.runs > 50) {
    throw new Error('--runs must be 1..50');
  }
  args.base = args.base.replace(/\/+$/, '');
  return args;
}

/** A buyer's /chat URL: KEFU_BUYER_TOKEN if set, else the first demo buyer's link on /demo
 * (the demo mall page, which signs fresh tokens when the demo data is on). */
async function chatUrl(base) {
  if (process.env.KEFU_BUYER_TOKEN) {
    return `${base}/chat?token=${encodeURIComponent(process.env.KEFU_BUYER_TOKEN)}`;
  }
  const res = await fetch(`${base}/demo`);
  const html = await res.text();
  const href = html.match(/href="(\/chat\?token=[^"]+)"/);
  if (!res.ok || !href) {
    throw new Error(`no buyer link on ${base}/demo (HTTP ${res.status}); is KEFU_DEMO_DATA=true?`);
  }
  return base + href[1].replaceAll('&amp;', '&');
}

function kindOf(type, mimeType, url) {
  const path = new URL(url).pathname;
  if (type === 'Document') return 'html';
  if (path.endsWith('.wasm') || mimeType === 'application/wasm') return 'wasm';
  if (type === 'Script' || /javascript/.test(mimeType)) return 'js';
  if (type === 'Stylesheet' || mimeType === 'text/css') return 'css';
  if (type === 'Font' || /^font\//.test(mimeType)) return 'fonts';
  return 'other';
}

/** Opens the chat in a new page of `context` and reports the bytes of every response, by
 * kind, with what each was served with, and the seconds to the buyer WebSocket's handshake. */
async function openIn(context, url, throttled) {
  const page = await context.newPage();
  try {
    const cdp = await context.newCDPSession(page);
    const requests = new Map();
    const responses = [];
    let navigationStart;
    let socketId;
    let live;
    cdp.on('Network.requestWillBeSent', (e) => {
      if (e.type === 'Document' && navigationStart === undefined) navigationStart = e.timestamp;
    });
    cdp.on('Network.responseReceived', (e) => {
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      requests.set(e.requestId, {
        url: e.response.url,
        kind: kindOf(e.type, e.response.mimeType, e.response.url),
        status: e.response.status,
        encoding: h['content-encoding'] ?? '',
        cacheControl: h['cache-control'] ?? '',
        fromCache: Boolean(e.response.fromDiskCache || e.response.fromPrefetchCache),
      });
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = requests.get(e.requestId);
      if (r) responses.push({ ...r, bytes: e.encodedDataLength });
    });
    cdp.on('Network.webSocketCreated', (e) => {
      if (new URL(e.url).pathname === BUYER_SOCKET_PATH) socketId = e.requestId;
    });
    const handshake = new Promise((resolve) => {
      cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
        if (e.requestId === socketId && e.response.status === 101) {
          live = e.timestamp - navigationStart;
          resolve();
        }
      });
    });
    await cdp.send('Network.enable');
    if (throttled) await cdp.send('Network.emulateNetworkConditions', THROTTLED);
    await page.goto(url, { waitUntil: 'commit' });
    await Promise.race([handshake, page.waitForTimeout(60_000)]);
    // Everything the open downloads, not only what came before the socket.
    await page.waitForLoadState('networkidle', { timeout: 30_000 }).catch(() => undefined);
    if (live === undefined) throw new Error(`the buyer socket did not open within 60 s (${url})`);
    return { live, responses };
  } finally {
    await page.close();
  }
}

/** A buyer's first open of the chat (a fresh context: nothing cached), then a second open in
 * the same browser (what the cache headers let it keep). */
async function openTwice(browser, url, throttled) {
  const context = await browser.newContext({
    viewport: { width: 400, height: 700 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  try {
    const first = await openIn(context, url, throttled);
    const again = await openIn(context, url, throttled);
    return { first, again };
  } finally {
    await context.close();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const KINDS = ['html', 'wasm', 'js', 'css', 'fonts', 'other'];
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

function byKind(responses) {
  const sums = Object.fromEntries(KINDS.map((k) => [k, 0]));
  for (const r of responses) sums[r.kind] += r.bytes;
  return sums;
}

function printResponses(responses) {
  for (const r of responses) {
    const path = new URL(r.url).pathname;
    const status = r.fromCache ? 'cache' : String(r.status);
    console.log(
      `      ${r.kind.padEnd(5)} ${status.padEnd(5)} ${kb(r.bytes).padStart(9)}  ` +
        `${(r.encoding || 'identity').padEnd(8)} ${(r.cacheControl || '(no cache-control)').padEnd(38)} ${path}`,
    );
  }
}

function report(label, opens, showResponses) {
  const totals = opens.map((r) => r.responses.reduce((sum, x) => sum + x.bytes, 0));
  const lives = opens.map((r) => r.live);
  const kinds = byKind(opens[0].responses);
  console.log(`  ${label}`);
  console.log(`    live (navigation → buyer WebSocket open): median ${median(lives).toFixed(2)} s  ` +
    `(runs: ${lives.map((s) => s.toFixed(2)).join(', ')})`);
  console.log(`    bytes on the wire: median ${kb(median(totals))}  (${opens[0].responses.length} responses; ` +
    KINDS.map((k) => `${k} ${kb(kinds[k])}`).join(', ') + ')');
  if (showResponses) {
    console.log('    responses of the first run (kind, status, bytes, content-encoding, cache-control, path):');
    printResponses(opens[0].responses);
  }
  return { live: median(lives), bytes: median(totals) };
}

async function measure(browser, url, throttled, runs, verbose) {
  const label = throttled ? 'throttled (150 ms, 1.6 Mbit/s down, 750 kbit/s up)' : 'unthrottled (loopback)';
  const results = [];
  for (let i = 0; i < runs; i++) {
    results.push(await openTwice(browser, url, throttled));
  }
  console.log(`\n${label}, ${runs} run(s), a fresh browser context each:`);
  const first = report('first open (empty cache):', results.map((r) => r.first), verbose || !throttled);
  const again = report('second open (same browser):', results.map((r) => r.again), verbose || !throttled);
  return { ...first, again };
}

/** /widget.js as a browser that accepts br gets it: the bytes of the body as sent. */
function loaderAsServed(base) {
  const url = new URL('/widget.js', base);
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          bytes,
          encoding: res.headers['content-encoding'] ?? 'identity',
          cacheControl: res.headers['cache-control'] ?? '(no cache-control)',
        }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = await chatUrl(args.base);
  console.log(`buyer widget budget against ${args.base} (KB = 1,000 bytes)`);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  let fast;
  let slow;
  try {
    fast = await measure(browser, url, false, args.runs, args.verbose);
    slow = await measure(browser, url, true, args.runs, args.verbose);
  } finally {
    await browser.close();
  }
  const loader = await loaderAsServed(args.base);
  console.log(`\nembed loader /widget.js: ${kb(loader.bytes)} body as served (HTTP ${loader.status}, ` +
    `${loader.encoding}, ${loader.cacheControl})`);
  console.log('\nsummary                              measured     aim');
  console.log(`  first open, bytes on the wire       ${kb(slow.bytes).padEnd(12)} ≤ ${kb(AIM.bytes)}`);
  console.log(`  live, unthrottled                   ${(fast.live.toFixed(2) + ' s').padEnd(12)} —`);
  console.log(`  live, throttled                     ${(slow.live.toFixed(2) + ' s').padEnd(12)} ≤ ${AIM.liveThrottledSecs.toFixed(1)} s`);
  console.log(`  second open: bytes, live throttled  ${kb(slow.again.bytes)}, ${slow.again.live.toFixed(2)} s`);
  console.log(`  embed loader (widget.js)            ${kb(loader.bytes).padEnd(12)} ≤ ${kb(AIM.loaderBytes)}`);
}

main().catch((err) => {
  console.error(`widget-budget: ${err.message ?? err}`);
  process.exit(1);
});
