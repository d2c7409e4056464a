/**
 * Screenshots of each view in light and dark, for the README: `node dist/tests/renderer/screenshots.js`
 * (after `npx tsc -p .`). Same built renderer, same bridge and fixtures as the tests; writes
 * tests/screenshots/<view>-<light|dark>.png at the window's default width (420 px), whole page. Names given
 * as arguments (`… screenshots.js join`) render only those scenes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { FixtureBridge } from './bridge.js';
import { appState, KUBECONFIG } from './fixtures.js';
import { joinHash } from '../../electron/shared/join-link.js';
import type { JoinPlan } from '../../electron/shared/team.js';
import { openWindow, ROOT, startSuite } from './harness.js';

const OUT = path.join(ROOT, 'tests', 'screenshots');
const TESTDATA = path.join(ROOT, 'tests', 'talos', 'testdata');

interface Scene {
  name: string;
  /** The page's fragment as main opens it (a join link's `join?profile=…`). */
  hash?: string;
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
  {
    name: 'join',
    hash: joinHash({ profile: 'https://git.example.com/platform/onboarding/raw/main/acme-platform.yaml' }),
    prepare: async (page) => {
      await page.getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    },
  },
];

/** A second revision of a team profile: a new provider, one cluster moved, one as before. */
const JOIN_PLAN: JoinPlan = {
  source: 'https://git.example.com/platform/onboarding/raw/main/acme-platform.yaml',
  team: 'acme-platform',
  revision: 2,
  provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: '4c1e0f6a-58a4-4c3c-9d1b-6d0f3f8e2a11', action: 'add', changes: [] },
  contexts: [
    { name: 'acme@prod', cluster: 'prod', server: 'https://prod.acme.example:6443', file: KUBECONFIG, namespace: 'apps', group: 'platform', action: 'add', changes: [] },
    {
      name: 'acme@staging',
      cluster: 'staging',
      server: 'https://10.0.2.10:6443',
      file: KUBECONFIG,
      group: 'platform',
      action: 'update',
      changes: [{ field: 'server', from: 'https://10.0.1.10:6443', to: 'https://10.0.2.10:6443' }],
    },
    { name: 'acme@dev', cluster: 'dev', server: 'https://dev.acme.example:6443', file: KUBECONFIG, action: 'unchanged', changes: [] },
  ],
  needsConfirmation: false,
  warnings: ['Context acme@dev keeps your namespace web (the profile suggests apps).'],
};

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const suite = await startSuite();
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const scene of SCENES.filter((s) => process.argv.length <= 2 || process.argv.slice(2).includes(s.name))) {
        const bridge = new FixtureBridge(appState());
        // The join scene's preview answers before the page asks: set its handler up front.
        if (scene.name === 'join') bridge.on('previewJoin', () => JOIN_PLAN);
        const win = await openWindow(suite.browser, scene.hash ? `${suite.url}#${scene.hash}` : suite.url, { colorScheme: scheme, bridge });
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
