/**
 * The tray app in real Electron, driven by Playwright's `_electron`: launch, the tray menu built from a
 * signed-in state, switch context from it, and the window opening on the account view. Runs wherever an
 * Electron binary is installed; elsewhere it is reported as skipped (never as passed).
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
    env: { ...process.env, ...stack.env, POCKETKUBE_E2E: '1', ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>,
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

type Model = { label?: string; checked?: boolean; type?: string }[];

test('tray menu is built from the signed-in state, and a context switch from it reaches the kubeconfig', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const menu = (await app.evaluate(async () => (globalThis as unknown as { pocketkubeTest: { trayModel(): unknown } }).pocketkubeTest.trayModel())) as Model;
  assert.equal(menu[0]!.label, 'Alice Anderson (alice@example.com)');
  assert.match(menu[1]!.label!, /^Token expires in \d+ min$/);
  const ctx = menu.find((m) => m.label === 'pocket-id@talos-e2e');
  assert.equal(ctx?.type, 'radio');
  await app.evaluate(async () =>
    (globalThis as unknown as { pocketkubeTest: { dispatch(a: unknown): Promise<void> } }).pocketkubeTest.dispatch({ kind: 'use-context', name: 'pocket-id@talos-e2e' }),
  );
  const current = await stack.kubectl(['config', 'current-context']);
  assert.equal(current.stdout.trim(), 'pocket-id@talos-e2e');
});

test('the window opens with the account view and no token in it', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const opened = app.waitForEvent('window');
  await app.evaluate(async () =>
    (globalThis as unknown as { pocketkubeTest: { dispatch(a: unknown): Promise<void> } }).pocketkubeTest.dispatch({ kind: 'open-window' }),
  );
  const page = await opened;
  await page.getByRole('tab', { name: /account/i }).waitFor();
  await page.getByText('alice@example.com').first().waitFor();
  assert.doesNotMatch(await page.content(), /eyJ[\w-]+\.[\w-]+\./);
  const prefs = await page.evaluate(() => ({ node: typeof (globalThis as { require?: unknown }).require, api: typeof (window as unknown as { pocketkube?: unknown }).pocketkube }));
  assert.deepEqual(prefs, { node: 'undefined', api: 'object' }, 'no Node in the renderer, only the typed API');
});
