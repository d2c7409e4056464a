/**
 * Runs the built window in Debian's Chromium: builds the renderer once per test process (into a temp dir, so
 * test files running side by side never share an output), serves it from loopback under a sub-path (so only
 * relative asset URLs work, as under file:// in Electron) and opens pages with the test bridge installed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FixtureBridge } from './bridge.js';
import { NOW } from './fixtures.js';
import type { AppState } from '../../electron/shared/ipc.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const PREFIX = '/pocketkube/';

let built: Promise<string> | undefined;

/** `vite build` with the project's vite.config.ts, into a fresh directory; once per process. */
export function buildRenderer(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'pocketkube-renderer-'));
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false } });
    return outDir;
  })();
  return built;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

export async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) {
      res.writeHead(404).end();
      return;
    }
    const rel = decodeURIComponent(url.pathname.slice(PREFIX.length)) || 'index.html';
    const file = path.resolve(dir, rel);
    if (!file.startsWith(dir + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${PREFIX}index.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 30_000,
  });
}

/** A tiny avatar for Pocket ID's profile-picture URL: the page must never reach the network. */
const AVATAR_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#7c5cff"/><circle cx="32" cy="25" r="12" fill="#f4e9ff"/><path d="M10 62c2-14 12-21 22-21s20 7 22 21z" fill="#f4e9ff"/></svg>`;

export interface WindowOptions {
  state?: AppState;
  bridge?: FixtureBridge;
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
  /** Skip installing the bridge: the page as it would be outside Electron. */
  noBridge?: boolean;
  /** Do not wait for the state to arrive. */
  noWait?: boolean;
}

export interface Window {
  page: Page;
  context: BrowserContext;
  bridge: FixtureBridge;
  /** Console errors, page errors and Content-Security-Policy violations seen so far. */
  problems: string[];
  close: () => Promise<void>;
}

/**
 * One window: a fresh context with the page clock frozen at NOW (timers run only when the test moves the
 * clock), a fixed locale and time zone, the bridge installed and the network closed.
 */
export async function openWindow(browser: Browser, url: string, options: WindowOptions = {}): Promise<Window> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 420, height: 640 },
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(10_000);
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) =>
    route.request().url().startsWith('https://id.example.com/api/users/')
      ? route.fulfill({ status: 200, contentType: 'image/svg+xml', body: AVATAR_SVG })
      : route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const bridge = options.bridge ?? new FixtureBridge(options.state ?? (await import('./fixtures.js')).appState());
  if (!options.noBridge) await bridge.install(page);
  await page.clock.install({ time: NOW - 60_000 });
  await page.goto(url);
  await page.clock.pauseAt(NOW);
  await page.getByRole('tablist', { name: 'PocketKube views' }).waitFor();
  if (!options.noWait && !options.noBridge) await page.locator('[role="tabpanel"]:not([hidden]) [role="status"].loading').waitFor({ state: 'detached' });
  return { page, context, bridge, problems, close: () => context.close() };
}

/** Everything a person or a screen reader could get at: markup, attribute values, form values and text. */
export async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const values = Array.from(document.querySelectorAll('input, textarea, select')).map((e) => (e as HTMLInputElement).value);
    return [document.documentElement.outerHTML, document.body.innerText, ...values].join('\n');
  });
}

export interface Suite {
  browser: Browser;
  url: string;
  close: () => Promise<void>;
}

export async function startSuite(): Promise<Suite> {
  const dir = await buildRenderer();
  const server = await serve(dir);
  const browser = await launchChromium();
  return {
    browser,
    url: server.url,
    close: async () => {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Opens a window for one test and closes it when the test ends. */
export async function open(t: { after: (fn: () => Promise<void>) => void }, suite: Suite, options: WindowOptions = {}): Promise<Window> {
  const win = await openWindow(suite.browser, suite.url, options);
  t.after(() => win.close());
  return win;
}

export async function showTab(page: Page, name: 'Account' | 'Clusters' | 'Setup' | 'Diagnostics') {
  await page.getByRole('tab', { name }).click();
  return page.getByRole('tabpanel', { name });
}

const TOKEN_SHAPED = /eyJ[A-Za-z0-9_-]{6,}/;

/** Fails if anything shaped like a JWT is in the page: markup, attributes, text or form values. */
export async function assertNoTokenText(page: Page): Promise<void> {
  const text = await pageText(page);
  const found = TOKEN_SHAPED.exec(text);
  if (found) throw new Error(`token-looking text in the window: …${text.slice(Math.max(0, found.index - 80), found.index + 40)}…`);
}
