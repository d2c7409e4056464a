/**
 * The window frame in Chromium: loading and failure states, the tablist and the keyboard, accessibility of
 * each view in both themes, small and large windows, push-only state, the CSP and a Node-free bundle.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { axeViolations } from './axe.js';
import { FixtureBridge } from './bridge.js';
import { appState, signedIn, signedOut, TOKEN_LOOKALIKE } from './fixtures.js';
import { assertNoTokenText, buildRenderer, open, ROOT, showTab, startSuite, type Suite } from './harness.js';

const VIEWS = ['Account', 'Clusters', 'Setup', 'Diagnostics'] as const;
const BOUNDED = { timeout: 60_000 };
let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

describe('window frame', () => {
  test('every view shows a loading state until the agent answers getState', BOUNDED, async (t) => {
    const bridge = new FixtureBridge(appState());
    const release = bridge.holdState();
    const { page } = await open(t, suite, { bridge, noWait: true });
    await page.getByRole('tabpanel', { name: 'Account' }).getByRole('status').filter({ hasText: 'Loading your account…' }).waitFor();
    await showTab(page, 'Clusters');
    await page.getByRole('tabpanel', { name: 'Clusters' }).getByText('Loading your kubeconfig contexts…').waitFor();
    release();
    await page.getByRole('tabpanel', { name: 'Clusters' }).getByRole('heading', { name: 'Contexts' }).waitFor();
  });

  test('a getState call that main does not answer is shown as an error with the next step and a retry', BOUNDED, async (t) => {
    // What the renderer meets when main registered no handler: Electron's invoke rejects; no Result comes back.
    const bridge = new FixtureBridge(appState()).breakChannel('getState');
    const { page } = await open(t, suite, { bridge });
    const alert = page.getByRole('tabpanel', { name: 'Account' }).getByRole('alert');
    await alert.getByText('PocketKube did not send its state').waitFor();
    await alert.getByText('Close this window and open it again from the tray').waitFor();
    bridge.on('getState', () => appState());
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Alice Anderson' }).waitFor();
  });

  test('outside PocketKube (no window.pocketkube) the page says so instead of failing silently', BOUNDED, async (t) => {
    const { page, problems } = await open(t, suite, { noBridge: true });
    await page.getByRole('alert').getByText('This page is not running inside PocketKube').waitFor();
    assert.deepEqual(problems, []);
  });

  test('the tabs are a tablist: one tab stop, arrows move and select, Home and End jump', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const tabs = page.getByRole('tablist', { name: 'PocketKube views' }).getByRole('tab');
    assert.deepEqual(await tabs.allInnerTexts(), [...VIEWS]);
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    const selected = () => page.getByRole('tab', { selected: true }).innerText();
    assert.equal(await focused(), 'Account');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'Clusters');
    assert.equal(await selected(), 'Clusters');
    assert.equal(await page.getByRole('tabpanel').count(), 1, 'only the selected panel is shown');
    await page.getByRole('tabpanel', { name: 'Clusters' }).waitFor();
    await page.keyboard.press('End');
    assert.equal(await selected(), 'Diagnostics');
    await page.keyboard.press('Home');
    assert.equal(await selected(), 'Account');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await selected(), 'Diagnostics', 'ArrowLeft wraps around');
    // Tab leaves the tablist for the panel, not for the next tab.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'tabpanel');
    const unselected = await page.locator('[role="tab"][tabindex="-1"]').count();
    assert.equal(unselected, 3);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`each view has no axe violations (roles, labels, contrast) in the ${colorScheme} theme`, BOUNDED, async (t) => {
      const { page } = await open(t, suite, { colorScheme });
      const found: string[] = [];
      for (const view of VIEWS) {
        await showTab(page, view);
        found.push(...(await axeViolations(page)).map((v) => `${view}: ${v}`));
      }
      assert.deepEqual(found, []);
    });
  }

  test('the theme follows the system: light and dark colours differ', BOUNDED, async (t) => {
    const bg = async (colorScheme: 'light' | 'dark') => {
      const { page } = await open(t, suite, { colorScheme });
      return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    };
    assert.notEqual(await bg('light'), await bg('dark'));
  });

  for (const viewport of [
    { width: 360, height: 480 },
    { width: 420, height: 640 },
    { width: 1280, height: 900 },
  ]) {
    test(`every view fits a ${viewport.width}x${viewport.height} window without sideways scrolling`, BOUNDED, async (t) => {
      const { page } = await open(t, suite, { viewport });
      for (const view of VIEWS) {
        await showTab(page, view);
        const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        assert.ok(scroll <= client, `${view} is ${scroll}px wide in a ${client}px window`);
      }
    });
  }

  test('state arrives by push only: getState is asked once however long the window is open', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    await page.clock.runFor(10 * 60_000);
    for (const view of VIEWS) await showTab(page, view);
    await bridge.push();
    await page.clock.runFor(10 * 60_000);
    assert.equal(bridge.callsTo('getState').length, 1);
    assert.deepEqual(
      bridge.calls.map((c) => c.channel),
      ['getState'],
    );
  });

  test('nothing shaped like a token reaches the DOM, wherever the agent lets one slip', BOUNDED, async (t) => {
    const state = appState({
      providers: [signedIn({ extraClaims: { session_hint: TOKEN_LOOKALIKE } }), { ...signedOut(`refresh token ${TOKEN_LOOKALIKE} was revoked`), provider: 'work' }],
    });
    // Made up on purpose: a real 'offline' failure carrying a token, the slip the window must still hide.
    const bridge = new FixtureBridge(state).fail('refresh', { code: 'offline', message: `POST /token with ${TOKEN_LOOKALIKE} failed` });
    const { page } = await open(t, suite, { bridge });
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await page.getByRole('alert').filter({ hasText: 'Refresh failed' }).waitFor();
    await page.getByRole('group', { name: 'ID token claims: view as' }).getByRole('button', { name: 'JSON' }).click();
    await page.getByLabel('ID token claims as JSON').waitFor();
    for (const view of VIEWS) await showTab(page, view);
    await assertNoTokenText(page);
    assert.match(await page.getByLabel('ID token claims as JSON').innerText(), /"session_hint": "\[token hidden\]"/);
  });

  test('the built page carries a strict CSP, no inline script, and loads without a violation', BOUNDED, async (t) => {
    const dir = await buildRenderer();
    const html = await readFile(path.join(dir, 'index.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(html, /(src|href)="\//, 'asset URLs are relative, for file://');
    const { page, problems } = await open(t, suite);
    for (const view of VIEWS) await showTab(page, view);
    assert.deepEqual(problems, []);
  });

  test('renderer sources take only types from electron/, besides the pure expiry words every surface shares', BOUNDED, async () => {
    const dir = path.join(ROOT, 'renderer');
    const files = (await readdir(dir, { recursive: true })).filter((f) => /\.tsx?$/.test(f));
    const found: string[] = [];
    for (const f of files) {
      const source = await readFile(path.join(dir, f), 'utf8');
      for (const m of source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || spec === 'electron' || (spec.includes('/electron/') && !spec.includes('/electron/shared/'))) found.push(`${f}: ${spec}`);
      }
    }
    assert.deepEqual(found, []);
  });

  test('the bundle imports nothing from Node or Electron at run time', BOUNDED, async () => {
    const dir = await buildRenderer();
    const assets = path.join(dir, 'assets');
    const scripts = (await readdir(assets)).filter((f) => f.endsWith('.js'));
    assert.ok(scripts.length > 0);
    for (const f of scripts) {
      const js = await readFile(path.join(assets, f), 'utf8');
      assert.doesNotMatch(js, /\bfrom\s*["'](node:|electron["'])|\brequire\(\s*["']|\bimport\(\s*["'](node:|electron)/, `${f} must not load Node or Electron`);
    }
  });
});
