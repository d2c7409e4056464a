/**
 * The window over the real services, not fixtures: the same AppController main uses, talking to a real
 * agent (in this process) that signs in at a real OpenID provider; the page is the built renderer in
 * Chromium with `window.pocketkube` wired to the controller's handlers exactly as the preload and main do.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { AppController } from '../../electron/desktop/controller.js';
import { INVOKE_CHANNELS, type AppState, type InvokeChannel } from '../../electron/shared/ipc.js';
import { launchChromium, signInInBrowser, Stack } from '../support/stack.js';
import { FixtureBridge } from './bridge.js';
import { buildRenderer, serve } from './harness.js';

let stack: Stack;
let agent: Agent;
let controller: AppController;
let browser: Browser;
let server: { url: string; close: () => Promise<void> };
let page: Page;
const opened: string[] = [];

before(async () => {
  stack = await new Stack().start();
  await stack.configure();
  agent = new Agent({ home: stack.home, kubeconfigFiles: [stack.kubeconfig] });
  await agent.start();
  browser = await launchChromium();
  controller = new AppController({
    home: stack.home,
    owner: () => 'app',
    version: 'test',
    files: () => [stack.kubeconfig],
    desktop: {
      copyText: async () => {},
      saveText: async () => null,
      openFile: async () => null,
      // The system browser: here real Chromium, where the user presses "Sign in as Alice".
      openExternal: async (url) => {
        opened.push(url);
        void signInInBrowser(browser, url);
      },
    },
  });
  controller.start();
  const first = await controller.waitForState();
  // The bridge carries calls and pushes; every handler is the controller's own.
  const bridge = new FixtureBridge(first);
  for (const name of INVOKE_CHANNELS) bridge.on(name, controller.handlers[name as InvokeChannel] as never);
  controller.on('state', (s: AppState) => void bridge.push(s).catch(() => {}));
  server = await serve(await buildRenderer());
  const context = await browser.newContext({ viewport: { width: 420, height: 640 } });
  page = await context.newPage();
  await bridge.install(page);
  await page.goto(server.url);
});

after(async () => {
  controller?.stop();
  await agent?.stop();
  await browser?.close();
  await server?.close();
  await stack?.close();
});

test('Sign in from the window opens the system browser once and the account view fills in from the real session', async () => {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText('alice@example.com').first().waitFor({ timeout: 30_000 });
  assert.equal(opened.length, 1, 'one browser tab');
  assert.match(opened[0]!, /^http:\/\/localhost:\d+\/start\/[\w-]+$/, 'the one-time local link that redirects to the authorization URL');
  await page.getByText('kubernetes', { exact: true }).first().waitFor();
  const html = await page.content();
  assert.doesNotMatch(html, /eyJ[\w-]+\.[\w-]+\./, 'no token reaches the renderer');
});

test('switching context in the Clusters view writes the real kubeconfig', async () => {
  await page.getByRole('tab', { name: 'Clusters' }).click();
  await page.getByText('pocket-id@talos-e2e').first().waitFor();
  const current = await stack.kubectl(['config', 'current-context']);
  assert.equal(current.stdout.trim(), 'pocket-id@talos-e2e');
  // Another context made by kubectl shows up without a reload (the agent watches the file), then we switch to it.
  const set = await stack.kubectl(['config', 'set-context', 'other', '--cluster=talos-e2e', '--user=pocket-id']);
  assert.equal(set.code, 0, set.stderr);
  const card = page.locator('article, li, section').filter({ hasText: /^other/ }).first();
  await page.getByText('other', { exact: true }).first().waitFor({ timeout: 10_000 });
  await card.getByRole('button', { name: 'Use' }).click();
  // The window shows the switch once the controller has written it and pushed the new state.
  await page.getByText(/Current context:\s*other/).waitFor();
  const now = await stack.kubectl(['config', 'current-context']);
  assert.equal(now.stdout.trim(), 'other');
});
