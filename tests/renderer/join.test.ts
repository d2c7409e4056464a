/**
 * Joining a team in the window, in Chromium: a pocketkube://join link opens the preview (`#join?profile=…`,
 * as main opens it), Setup's "Join a team…" previews a chosen file or a typed address, and Setup exports a
 * profile. Profiles are read by the real parser and planned by the real planJoin through the test bridge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { teamProfileText } from '../../electron/core/team/profile.js';
import { joinHash, joinRequestFor, joinLinkFor } from '../../electron/shared/join-link.js';
import type { JoinPlan, TeamProfile } from '../../electron/shared/team.js';
import { loopbackCertificate } from '../support/loopback-tls.js';
import { axeViolations } from './axe.js';
import { FixtureBridge } from './bridge.js';
import { appState, CLIENT_ID, ISSUER, KUBECONFIG } from './fixtures.js';
import { assertNoTokenText, open, showTab, startSuite, type Suite } from './harness.js';

const BOUNDED = { timeout: 60_000 };
const ADDRESS = 'https://platform.example.com/teams/acme.yaml';
let suite: Suite;
let caData: string;
before(async () => {
  suite = await startSuite();
  caData = Buffer.from((await loopbackCertificate('acme cluster CA')).cert).toString('base64');
});
after(() => suite?.close());

function profile(over: { provider?: Partial<TeamProfile['provider']>; server?: string } = {}): string {
  const p: TeamProfile = {
    apiVersion: 'pocketkube/v1',
    kind: 'TeamProfile',
    team: 'acme-platform',
    revision: 3,
    provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: '4c1e0f6a-58a4-4c3c-9d1b-6d0f3f8e2a11', scopes: ['openid', 'profile', 'email', 'groups'], ...over.provider },
    clusters: [
      { name: 'prod', server: over.server ?? 'https://prod.acme.example:6443', certificateAuthorityData: caData, namespace: 'apps', group: 'platform' },
      { name: 'staging', server: 'https://staging.acme.example:6443', certificateAuthorityData: caData, group: 'platform' },
    ],
  };
  return teamProfileText(p, 'yaml');
}

/** The window as a clicked link opens it: main puts `#join?profile=…` on the page. */
async function openLink(t: { after: (fn: () => Promise<void>) => void }, bridge: FixtureBridge, link: string) {
  const hash = joinHash(joinRequestFor(link));
  return open(t, { ...suite, url: `${suite.url}#${hash}` }, { bridge });
}

function bridgeServing(text: string): FixtureBridge {
  const bridge = new FixtureBridge(appState());
  bridge.profiles[ADDRESS] = text;
  return bridge;
}

const joinView = (page: Page) => page.getByRole('region', { name: /^Join/ });
const line = (page: Page, list: 'Provider' | 'Contexts', name: string) => joinView(page).getByRole('list', { name: list }).getByRole('listitem').filter({ hasText: name });

describe('a join link opens the preview', () => {
  test('a new provider and its contexts are adds, each with the file it goes to; nothing is joined yet', BOUNDED, async (t) => {
    const bridge = bridgeServing(profile());
    const { page, problems } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    assert.match(await line(page, 'Provider', 'acme').innerText(), /Add\s+acme[\s\S]*https:\/\/id\.acme\.example · client 4c1e0f6a/);
    for (const name of ['acme@prod', 'acme@staging']) {
      assert.match(await line(page, 'Contexts', name).innerText(), new RegExp(`Add\\s+${name}[\\s\\S]*written to ${KUBECONFIG}`));
    }
    assert.match(await joinView(page).getByRole('status').first().innerText(), /3 changes; nothing is written until you join/);
    assert.deepEqual(bridge.callsTo('previewJoin'), [[{ url: ADDRESS }]]);
    assert.deepEqual(bridge.callsTo('join'), []);
    assert.equal(await page.getByRole('tabpanel').count(), 0, 'the tab panels are hidden behind the preview');
    assert.deepEqual(await axeViolations(page), []);
    await assertNoTokenText(page);
    assert.deepEqual(problems, []);
  });

  test('adds, updates (from → to) and unchanged lines side by side', BOUNDED, async (t) => {
    const plan: JoinPlan = {
      source: ADDRESS,
      team: 'acme-platform',
      revision: 4,
      provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'update', changes: [{ field: 'scopes', from: 'openid profile', to: 'openid profile groups' }] },
      contexts: [
        { name: 'acme@prod', cluster: 'prod', server: 'https://prod2.acme.example:6443', file: KUBECONFIG, action: 'update', changes: [{ field: 'server', from: 'https://prod.acme.example:6443', to: 'https://prod2.acme.example:6443' }] },
        { name: 'acme@staging', cluster: 'staging', server: 'https://staging.acme.example:6443', file: KUBECONFIG, action: 'unchanged', changes: [] },
        { name: 'acme@dev', cluster: 'dev', server: 'https://dev.acme.example:6443', file: '/home/alice/.kube/acme.yaml', action: 'add', changes: [] },
      ],
      needsConfirmation: false,
      warnings: ['Context acme@staging keeps your namespace web (the profile suggests apps).'],
    };
    const bridge = new FixtureBridge(appState()).on('previewJoin', () => plan);
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    assert.match(await line(page, 'Provider', 'acme').innerText(), /Update\s+acme[\s\S]*Scopes: openid profile\s*→\s*to\s*openid profile groups/);
    assert.match(await line(page, 'Contexts', 'acme@prod').innerText(), /Update\s+acme@prod[\s\S]*Server: https:\/\/prod\.acme\.example:6443\s*→\s*to\s*https:\/\/prod2\.acme\.example:6443/);
    assert.match(await line(page, 'Contexts', 'acme@staging').innerText(), /Unchanged\s+acme@staging/);
    assert.match(await line(page, 'Contexts', 'acme@dev').innerText(), /Add\s+acme@dev[\s\S]*written to \/home\/alice\/\.kube\/acme\.yaml/);
    await joinView(page).getByText('Context acme@staging keeps your namespace web').waitFor();
    assert.match(await joinView(page).getByRole('status').first().innerText(), /^3 changes/);
  });

  test('a link the shell refused shows its one sentence and reads nothing', BOUNDED, async (t) => {
    const bridge = new FixtureBridge(appState());
    const { page } = await openLink(t, bridge, `pocketkube://join?profile=${encodeURIComponent('file:///etc/passwd')}`);
    const alert = joinView(page).getByRole('alert');
    assert.match(await alert.innerText(), /This link cannot be used\s+This join link points to a file on this computer, which a link may not do: open the file yourself with Setup → Join a team… instead\./);
    assert.deepEqual(bridge.callsTo('previewJoin'), []);
    assert.equal(await page.getByRole('button', { name: 'Join and sign in' }).count(), 0);
    assert.deepEqual(await axeViolations(page), []);
  });

  test("a bad profile shows the parser's one sentence, and nothing can be joined", BOUNDED, async (t) => {
    const bridge = bridgeServing(profile({ server: 'http://prod.acme.example:6443' }));
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    const alert = joinView(page).getByRole('alert');
    assert.match(await alert.innerText(), /Nothing was joined\s+.*http:\/\/prod\.acme\.example:6443 is not https: kubectl sends your token only to an https API server/);
    assert.equal((await alert.innerText()).split('\n').filter((l) => l.trim()).length <= 3, true, 'a title, the sentence, at most a next step');
    assert.equal(await page.getByRole('button', { name: 'Join and sign in' }).count(), 0);
    assert.deepEqual(bridge.callsTo('join'), []);
  });

  test('an unreachable profile address is one sentence too', BOUNDED, async (t) => {
    const bridge = new FixtureBridge(appState());
    const { page } = await openLink(t, bridge, joinLinkFor('https://platform.example.com/missing.yaml'));
    assert.match(await joinView(page).getByRole('alert').innerText(), /answered HTTP 404 \(Not Found\), not a team profile/);
  });
});

describe('joining', () => {
  test('"Join and sign in" calls join once, unconfirmed, and says where to finish signing in', BOUNDED, async (t) => {
    const bridge = bridgeServing(profile());
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await page.getByRole('button', { name: 'Join and sign in' }).dblclick();
    await joinView(page).getByText('Joined acme-platform').waitFor();
    assert.deepEqual(bridge.callsTo('join'), [[{ url: ADDRESS }, { confirmed: false }]]);
    assert.match(await joinView(page).getByRole('status').innerText(), /Finish signing in to acme in your browser/);
    assert.deepEqual(await axeViolations(page), []);
  });

  test("an issuer change on the existing provider is highlighted from → to and asked about before join", BOUNDED, async (t) => {
    const bridge = bridgeServing(profile({ provider: { name: 'pocket-id', issuer: 'https://id2.example.com', clientId: CLIENT_ID } }));
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    const provider = line(page, 'Provider', 'pocket-id');
    assert.match(await provider.innerText(), new RegExp(`Update\\s+pocket-id[\\s\\S]*Issuer: ${ISSUER.replace(/\./g, '\\.')}\\s*→\\s*to\\s*https://id2\\.example\\.com`));
    assert.equal(await provider.evaluate((el) => el.classList.contains('join-line-identity')), true, 'the line is highlighted');
    await joinView(page).getByText(/Provider pocket-id will point at https:\/\/id2\.example\.com/).waitFor();

    await page.getByRole('button', { name: 'Join and sign in' }).click();
    const question = page.getByRole('alertdialog');
    assert.match(await question.innerText(), /This changes the existing provider pocket-id: issuer from https:\/\/id\.example\.com to https:\/\/id2\.example\.com\. .* Join anyway\?/);
    assert.equal(await question.evaluate((el) => el === document.activeElement), true, 'the question has the focus');
    assert.deepEqual(bridge.callsTo('join'), [], 'the first press only asks');
    assert.deepEqual(await axeViolations(page), []);
    await question.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(bridge.callsTo('join'), []);

    await page.getByRole('button', { name: 'Join and sign in' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Change it and join' }).click();
    await joinView(page).getByText('Joined acme-platform').waitFor();
    assert.deepEqual(bridge.callsTo('join'), [[{ url: ADDRESS }, { confirmed: true }]]);
  });

  test('a join whose sign-in did not start says where to sign in', BOUNDED, async (t) => {
    const plan: JoinPlan = {
      source: ADDRESS,
      team: 'acme-platform',
      revision: 1,
      provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'add', changes: [] },
      contexts: [{ name: 'acme@prod', cluster: 'prod', server: 'https://prod.acme.example:6443', file: KUBECONFIG, action: 'add', changes: [] }],
      needsConfirmation: false,
      warnings: [],
    };
    const bridge = new FixtureBridge(appState()).on('previewJoin', () => plan).on('join', () => ({ plan, signedIn: false }));
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await page.getByRole('button', { name: 'Join and sign in' }).click();
    await joinView(page).getByText('Joined acme-platform').waitFor();
    assert.match(await joinView(page).getByRole('status').innerText(), /^The sign-in to acme did not start: sign in from the Account view or the tray\.$/);
  });

  test('a failed join keeps the preview and shows one sentence', BOUNDED, async (t) => {
    const bridge = bridgeServing(profile()).fail('join', {
      code: 'plan-changed',
      message: 'What joining acme-platform would change is no longer what was shown (the providers or the kubeconfig changed meanwhile): look at the plan again and confirm; nothing was written.',
    });
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await page.getByRole('button', { name: 'Join and sign in' }).click();
    assert.match(await joinView(page).getByRole('alert').innerText(), /Nothing was joined\s+What joining acme-platform would change is no longer what was shown/);
    await line(page, 'Contexts', 'acme@prod').waitFor();
  });

  test('Close goes back to the tabs; the same link opened again shows the preview again', BOUNDED, async (t) => {
    const bridge = bridgeServing(profile());
    const { page } = await openLink(t, bridge, joinLinkFor(ADDRESS));
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    await joinView(page).getByRole('button', { name: 'Close' }).click();
    await page.getByRole('tabpanel', { name: 'Account' }).waitFor();
    await page.evaluate((hash) => (location.hash = hash), joinHash({ profile: ADDRESS }));
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    assert.equal(bridge.callsTo('previewJoin').length, 2);
  });
});

describe('Setup: join a team, export a profile', () => {
  test('"Join a team…" previews a chosen file', BOUNDED, async (t) => {
    const bridge = new FixtureBridge(appState());
    bridge.files['team-profile'] = { path: '/home/alice/Downloads/acme.yaml', text: profile() };
    const { page } = await open(t, suite, { bridge });
    await showTab(page, 'Setup');
    await page.getByRole('button', { name: 'Join a team…' }).click();
    await page.getByRole('button', { name: 'Choose profile file…' }).click();
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    assert.deepEqual(bridge.callsTo('openFile'), [['team-profile']]);
    assert.deepEqual(bridge.callsTo('previewJoin'), [[{ text: profile(), name: '/home/alice/Downloads/acme.yaml' }]]);
    await joinView(page).getByText('/home/alice/Downloads/acme.yaml').waitFor();
  });

  test('"Join a team…" with a typed address: http to another host is refused before anything is read', BOUNDED, async (t) => {
    const bridge = bridgeServing(profile());
    const { page } = await open(t, suite, { bridge });
    await showTab(page, 'Setup');
    await page.getByRole('button', { name: 'Join a team…' }).click();
    const address = page.getByLabel("Or the profile's address");
    await address.fill('platform.example.com/teams/acme.yaml');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByText('Paste the https:// address your admin shared (or choose the file instead).').waitFor();
    assert.deepEqual(bridge.callsTo('previewJoin'), []);
    await address.fill(ADDRESS);
    await page.getByRole('button', { name: 'Preview' }).click();
    await joinView(page).getByRole('heading', { name: 'Join acme-platform' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
  });

  test('"Export team profile" shows the file, saves it, and gives the join link for where it will be published', BOUNDED, async (t) => {
    const bridge = new FixtureBridge(appState());
    const { page } = await open(t, suite, { bridge });
    const setup = await showTab(page, 'Setup');
    await setup.getByRole('checkbox', { name: /^pocket-id@prod/ }).uncheck();
    await setup.getByLabel('Team name').fill('homelab');
    await setup.getByRole('button', { name: 'Export team profile' }).click();
    const region = setup.getByRole('region', { name: 'Team profile' });
    assert.match(await region.locator('pre').innerText(), /^# PocketKube team profile for homelab[\s\S]*apiVersion: pocketkube\/v1\nkind: TeamProfile\nteam: homelab/m);
    assert.deepEqual(bridge.callsTo('exportTeam'), [[{ provider: 'pocket-id', contexts: ['pocket-id@homelab'], team: 'homelab', group: 'kubernetes', format: 'yaml' }]]);
    await region.getByRole('button', { name: 'Save… Team profile to a file' }).click();
    const [[name, text]] = bridge.callsTo('saveText') as [[string, string]];
    assert.equal(name, 'homelab.pocketkube.yaml');
    assert.match(text, /team: homelab/);
    await region.getByLabel('Where you will publish it (optional)').fill('http://files.example.com/homelab.yaml');
    await region.getByText(/must be fetched over https/).waitFor();
    await region.getByLabel('Where you will publish it (optional)').fill('https://files.example.com/homelab.yaml');
    assert.equal(await region.getByRole('figure').filter({ hasText: 'Join link' }).locator('pre').innerText(), 'pocketkube://join?profile=https%3A%2F%2Ffiles.example.com%2Fhomelab.yaml');
    assert.deepEqual(await axeViolations(page), []);
  });
});
