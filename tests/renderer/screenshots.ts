/**
 * Screenshots of each view in light and dark, for the README: `node dist/tests/renderer/screenshots.js`
 * (after `npx tsc -p .`). Same built renderer, same bridge and fixtures as the tests; writes
 * tests/screenshots/<view>-<light|dark>.png at the window's default width (420 px), whole page.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { FixtureBridge } from './bridge.js';
import { appState } from './fixtures.js';
import { openWindow, ROOT, startSuite } from './harness.js';

const OUT = path.join(ROOT, 'tests', 'screenshots');
const TESTDATA = path.join(ROOT, 'tests', 'talos', 'testdata');

interface Scene {
  name: string;
  prepare: (page: Page, bridge: FixtureBridge) => Promise<void>;
}

const tab = (page: Page, name: string) => page.getByRole('tab', { name }).click();

const SCENES: Scene[] = [
  { name: 'account', prepare: async () => {} },
  {
    name: 'clusters',
    prepare: async (page) => {
      await tab(page, 'Clusters');
      await page.getByRole('button', { name: 'Who am I on pocket-id@prod' }).click();
      await page.getByText('Prefix mismatch').waitFor();
    },
  },
  {
    name: 'setup',
    prepare: async (page, bridge) => {
      bridge.files['machine-config'] = { path: '/home/alice/homelab/controlplane.yaml', text: await readFile(path.join(TESTDATA, 'multidoc-controlplane.yaml'), 'utf8') };
      await tab(page, 'Setup');
      await page.getByRole('button', { name: /Next: Talos patch/ }).click();
      await page.getByRole('button', { name: 'Choose machine config…' }).click();
      await page.getByText('/home/alice/homelab/controlplane.yaml').waitFor();
      await page.getByLabel('Control-plane nodes (optional)').fill('10.0.0.10');
      await page.getByRole('button', { name: 'Make the patch' }).click();
      await page.getByRole('region', { name: 'Generated Talos patch' }).waitFor();
    },
  },
  {
    name: 'setup-verify',
    prepare: async (page) => {
      await tab(page, 'Setup');
      await page.getByRole('button', { name: /Step 4/ }).click();
      await page.getByRole('button', { name: 'Run the checks' }).click();
      await page.getByRole('list', { name: 'Checks' }).waitFor();
    },
  },
  { name: 'diagnostics', prepare: (page) => tab(page, 'Diagnostics') },
];

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const suite = await startSuite();
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const scene of SCENES) {
        const win = await openWindow(suite.browser, suite.url, { colorScheme: scheme, bridge: new FixtureBridge(appState()) });
        try {
          await scene.prepare(win.page, win.bridge);
          await win.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
          await win.page.screenshot({ path: path.join(OUT, `${scene.name}-${scheme}.png`), fullPage: true, animations: 'disabled' });
          if (win.problems.length) throw new Error(`${scene.name} (${scheme}): ${win.problems.join('; ')}`);
          process.stdout.write(`wrote tests/screenshots/${scene.name}-${scheme}.png\n`);
        } finally {
          await win.close();
        }
      }
    }
  } finally {
    await suite.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
