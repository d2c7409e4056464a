/**
 * The window opens on the view the shell asked for: the page's #fragment when it loads (window.ts loads
 * index.html with `hash: view`), and a later change of it (adapters.ts sets `location.hash` on an open window).
 * The built renderer in real Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openWindow, startSuite, type Suite } from '../renderer/harness.js';

let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

const selected = (page: import('playwright-core').Page) => page.getByRole('tab', { selected: true }).textContent();

test('loaded with #setup the window shows Setup; the shell moving it to #clusters shows Clusters', { timeout: 60_000 }, async () => {
  const win = await openWindow(suite.browser, `${suite.url}#setup`);
  try {
    assert.equal(await selected(win.page), 'Setup');
    await win.page.evaluate(() => {
      location.hash = 'clusters';
    });
    await win.page.getByRole('tab', { name: 'Clusters', selected: true }).waitFor();
  } finally {
    await win.close();
  }
});

test('no fragment, or one that names no view, shows Account', { timeout: 60_000 }, async () => {
  for (const hash of ['', '#nonsense']) {
    const win = await openWindow(suite.browser, `${suite.url}${hash}`);
    try {
      assert.equal(await selected(win.page), 'Account');
    } finally {
      await win.close();
    }
  }
});
