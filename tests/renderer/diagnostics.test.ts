/** The Diagnostics view: the agent, its socket, where secrets are kept, and recent events; never a secret. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { appState, signedOut } from './fixtures.js';
import { assertNoTokenText, open, showTab, startSuite, type Suite } from './harness.js';

const BOUNDED = { timeout: 60_000 };
let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

describe('Diagnostics view', () => {
  test('shows the agent’s status, its socket path and where secrets are kept', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Diagnostics');
    const facts = await panel.getByRole('region', { name: 'Agent' }).locator('dl').innerText();
    assert.match(facts, /Status\s+Running · pid 1224 · tray app · version 0\.1\.0/);
    assert.match(facts, /Started\s+1 h 18 min ago/);
    assert.match(facts, /Sessions kept by\s+this app/);
    assert.match(facts, /Socket\s+\/home\/alice\/\.pocketkube\/agent\.sock/);
    assert.match(facts, /Secrets\s+OS keychain via Electron safeStorage \(gnome_libsecret\), encrypted in \/home\/alice\/\.pocketkube\/secrets\.bin/);
    await panel.getByRole('button', { name: 'Copy socket path' }).click();
    assert.deepEqual(bridge.callsTo('copyText'), [['/home/alice/.pocketkube/agent.sock']]);
  });

  test('recent refreshes and errors are listed newest first, with any token hidden', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const panel = await showTab(page, 'Diagnostics');
    const lines = await panel.getByRole('list', { name: 'Recent events' }).getByRole('listitem').allInnerTexts();
    assert.equal(lines.length, 6);
    assert.match(lines[0]!, /5:38 PM\s+error\s+kubeconfig: a tool wrote a token into \/home\/alice\/\.kube\/config: \[token hidden\]/i);
    assert.match(lines[2]!, /warn\s+pocket-id: refresh failed \(offline/i);
    assert.match(lines[5]!, /agent listening on/);
    await assertNoTokenText(page);
  });

  test('the filter keeps only warnings and errors', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const panel = await showTab(page, 'Diagnostics');
    await panel.getByLabel('Only warnings and errors').check();
    const levels = await panel.getByRole('list', { name: 'Recent events' }).locator('.level').allInnerTexts();
    assert.deepEqual(levels.map((l) => l.toLowerCase()), ['error', 'warn']);
  });

  test('with nothing logged yet the view says what will appear', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ recent: [] }) });
    const panel = await showTab(page, 'Diagnostics');
    await panel.getByText('Nothing has happened yet').waitFor();
    await panel.getByText('Refreshes, sign-ins and errors appear here as they happen.').waitFor();
  });

  test('events pushed by the agent appear without asking', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite, { state: appState({ recent: [] }) });
    const panel = await showTab(page, 'Diagnostics');
    const state = appState({ recent: [{ at: '2026-11-28T17:40:00.000Z', level: 'info', message: 'pocket-id: refreshed (manual); ID token in 60 min' }] });
    await bridge.push(state);
    await panel.getByText('pocket-id: refreshed (manual); ID token in 60 min').waitFor();
    assert.equal(bridge.callsTo('getState').length, 1);
  });

  test('sessions owned by a headless agent are said to be so, and signed-out sessions say why', BOUNDED, async (t) => {
    const state = appState({ owner: 'external', providers: [signedOut('Pocket ID ended the session')] });
    state.status.agent.mode = 'headless';
    state.status.agent.secrets = { kind: 'file', where: 'file /home/alice/.pocketkube/secrets.json (mode 0600, readable only by you; the tray app uses the OS keychain instead)' };
    const { page } = await open(t, suite, { state });
    const panel = await showTab(page, 'Diagnostics');
    await page.getByRole('note').getByText('owns the sessions; this window shows and changes them through it').waitFor();
    await panel.getByText('a headless pocketkube agent (this app is its client)').waitFor();
    await panel.getByText('headless agent', { exact: false }).first().waitFor();
    await panel.getByText('signed out (Pocket ID ended the session)').waitFor();
    await panel.getByText('file /home/alice/.pocketkube/secrets.json (mode 0600').waitFor();
  });

  test('Copy report copies a plain summary without any token', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Diagnostics');
    await panel.getByRole('button', { name: 'Copy report' }).click();
    const [[report]] = bridge.callsTo('copyText') as [[string]];
    assert.match(report, /^PocketKube 0\.1\.0 on linux; agent 0\.1\.0 \(tray, pid 1224\)/);
    assert.match(report, /socket: \/home\/alice\/\.pocketkube\/agent\.sock/);
    assert.match(report, /pocket-id: signed-in; issuer https:\/\/id\.example\.com/);
    assert.doesNotMatch(report, /eyJ/);
  });
});
