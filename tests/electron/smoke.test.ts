/**
 * The tray app in real Electron, driven by Playwright's `_electron` as a user would, with no test hook in
 * the app: launch, its agent serving the CLI, a second launch opening the window, a context switch from it.
 * The tray menu's content is decided by pure functions tested in Node (desktop/tray-menu.test.ts).
 * Runs wherever an Electron binary is installed; elsewhere it is reported as skipped (never as passed).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { _electron, type Browser, type ElectronApplication } from 'playwright-core';
import { electronBinary } from '../../electron/desktop/launch.js';
import { launchChromium, REPO, Stack } from '../support/stack.js';

const binary = electronBinary();
if (!binary) process.stdout.write('skipped: no Electron binary (node_modules/electron has no dist/; `npx install-electron` needs GitHub)\n');

let stack: Stack;
let browser: Browser;
let app: ElectronApplication;

before(async () => {
  if (!binary) return;
  stack = await new Stack().start();
  await stack.configure();
  browser = await launchChromium();
  app = await _electron.launch({
    executablePath: binary,
    args: [path.join(REPO, 'dist/electron/desktop/main.js'), '--no-sandbox'],
    env: { ...process.env, ...stack.env, ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>,
  });
  // The app's own agent serves the socket: sign in through it as a user would.
  const { cli } = await stack.login(browser);
  assert.equal(cli.code, 0, cli.stderr);
});

after(async () => {
  await app?.close();
  await browser?.close();
  await stack?.close();
});

/** A second launch, as a user double-clicking the app again: it hands over to the running one and exits. */
async function launchAgain(): Promise<void> {
  const second = await _electron.launch({
    executablePath: binary!,
    args: [path.join(REPO, 'dist/electron/desktop/main.js'), '--no-sandbox'],
    env: { ...process.env, ...stack.env } as Record<string, string>,
  });
  await second.close().catch(() => undefined);
}

test('the app owns the sessions: its agent answers the CLI in tray mode', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const res = await stack.cli(['status', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const status = JSON.parse(res.stdout) as { agent: { mode: string }; providers: { state: string }[] };
  assert.equal(status.agent.mode, 'tray');
  assert.equal(status.providers[0]?.state, 'signed-in');
});

test('a second launch opens the window on the account view, with no token in it', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const opened = app.waitForEvent('window');
  await launchAgain();
  const page = await opened;
  await page.getByRole('tab', { name: /account/i }).waitFor();
  await page.getByText('alice@example.com').first().waitFor();
  assert.doesNotMatch(await page.content(), /eyJ[\w-]+\.[\w-]+\./);
  const prefs = await page.evaluate(() => ({ node: typeof (globalThis as { require?: unknown }).require, api: typeof (window as unknown as { pocketkube?: unknown }).pocketkube }));
  assert.deepEqual(prefs, { node: 'undefined', api: 'object' }, 'no Node in the renderer, only the typed API');
});

test('a context switch from the window reaches the kubeconfig', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const page = app.windows()[0]!;
  const set = await stack.kubectl(['config', 'set-context', 'other', '--cluster=talos-e2e', '--user=pocket-id']);
  assert.equal(set.code, 0, set.stderr);
  await page.getByRole('tab', { name: 'Clusters' }).click();
  // kubectl's new context shows up without a reload (the agent watches the file).
  await page.getByRole('button', { name: 'Use other' }).click({ timeout: 10_000 });
  await page.getByText(/Current context:\s*other/).waitFor();
  const current = await stack.kubectl(['config', 'current-context']);
  assert.equal(current.stdout.trim(), 'other');
});
