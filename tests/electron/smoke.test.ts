/**
 * The tray app in real Electron, driven by Playwright's `_electron` as a user would, with no test hook in
 * the app: launch, its agent serving the CLI, a second launch opening the window, a context switch from it
 * to another context, checked in the kubeconfig file on disk (a refusal in the window fails with its words).
 * The tray menu's content is decided by pure functions tested in Node (desktop/tray-menu.test.ts).
 * Runs wherever an Electron binary is installed; elsewhere it is reported as skipped (never as passed).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { _electron, type Browser, type ElectronApplication } from 'playwright-core';
import { parse } from 'yaml';
import { electronBinary } from '../../electron/desktop/launch.js';
import { launchChromium, REPO, Stack } from '../support/stack.js';

const binary = electronBinary();
if (!binary) process.stdout.write('skipped: no Electron binary (node_modules/electron has no dist/; `npx install-electron` needs GitHub)\n');

let stack: Stack;
let browser: Browser;
let app: ElectronApplication;
/** What the app printed, for a failure's message. */
const appOutput: string[] = [];

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
  app.process().stdout?.on('data', (d: Buffer) => appOutput.push(d.toString()));
  app.process().stderr?.on('data', (d: Buffer) => appOutput.push(d.toString()));
  // The app's own agent serves the socket: sign in through it as a user would.
  const { cli } = await stack.login(browser);
  assert.equal(cli.code, 0, cli.stderr);
});

after(async () => {
  await app?.close();
  await browser?.close();
  await stack?.close();
});

/** The current-context line of the kubeconfig file itself, as the app left it on disk. */
async function currentContextOnDisk(): Promise<unknown> {
  return (parse(await readFile(stack.kubeconfig, 'utf8')) as Record<string, unknown>)['current-context'];
}

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

test('a context switch from the window writes the new current-context to the kubeconfig file', { skip: binary ? false : 'skipped: no Electron binary' }, async () => {
  const page = app.windows()[0]!;
  const set = await stack.kubectl(['config', 'set-context', 'other', '--cluster=talos-e2e', '--user=pocket-id']);
  assert.equal(set.code, 0, set.stderr);
  const before = await currentContextOnDisk();
  assert.notEqual(before, 'other', 'the switch must change something');
  await page.getByRole('tab', { name: 'Clusters' }).click();
  // kubectl's new context shows up without a reload (the agent watches the file).
  const row = page.getByRole('listitem', { name: 'other', exact: true });
  await row.getByRole('button', { name: 'Use other' }).click({ timeout: 10_000 });
  // Either the window shows the switch or it shows why not: a refusal fails here with the app's own words.
  const refused = row.getByRole('alert');
  await page.getByText(/Current context:\s*other/).or(refused).first().waitFor({ timeout: 15_000 });
  if (await refused.count()) assert.fail(`the window could not switch: ${await refused.innerText()}\n${appOutput.join('')}`);
  assert.equal(await currentContextOnDisk(), 'other', `the file still says ${before}\n${appOutput.join('')}`);
  const current = await stack.kubectl(['config', 'current-context']);
  assert.equal(current.stdout.trim(), 'other', current.stderr);
});
