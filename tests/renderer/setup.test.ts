/**
 * The Setup guide end to end in Chromium, for both Talos config shapes: the Pocket ID client and a test
 * sign-in, the patch (real `talosPatch` output through the bridge), the ClusterRoleBinding applied through
 * the admin context, and doctor's checks with their fixes.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { FixtureBridge } from './bridge.js';
import { appState, CLIENT_ID, doctorChecks, ISSUER, signedIn, signedOut } from './fixtures.js';
import { open, ROOT, showTab, startSuite, type Suite } from './harness.js';
import { doctorWithPocketIdUnreachable, forbiddenApply, refusedMachineConfig } from './real-failures.js';
import { talosPatch } from '../../electron/core/talos/patch.js';
import { toResult } from '../../electron/shared/ipc.js';
import type { DoctorCheck } from '../../electron/shared/talos.js';

const BOUNDED = { timeout: 60_000 };
const TESTDATA = path.join(ROOT, 'tests', 'talos', 'testdata');
let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

async function step(page: Page, n: 1 | 2 | 3 | 4) {
  await page.getByRole('navigation', { name: 'Setup steps' }).getByRole('button', { name: new RegExp(`^Step ${n}:`) }).click();
}

interface Shape {
  name: string;
  shape: 'legacy' | 'multidoc';
  choose: (page: Page, bridge: FixtureBridge) => Promise<void>;
  request: Record<string, unknown>;
  yaml: RegExp;
  title: string;
}

const SHAPES: Shape[] = [
  {
    name: 'legacy shape from a Talos 1.13 machine config file',
    shape: 'legacy',
    choose: async (page, bridge) => {
      bridge.files['machine-config'] = { path: '/home/alice/homelab/controlplane.yaml', text: await readFile(path.join(TESTDATA, 'legacy-controlplane.yaml'), 'utf8') };
      await page.getByRole('button', { name: 'Choose machine config…' }).click();
      await page.getByText('/home/alice/homelab/controlplane.yaml').waitFor();
    },
    request: { machineConfigText: 'from file' },
    yaml: /cluster:\n {2}apiServer:\n {4}extraArgs:\n {6}oidc-issuer-url: https:\/\/id\.example\.com\n {6}oidc-client-id: a60960a8/,
    title: 'Shape: legacy config (cluster.apiServer)',
  },
  {
    name: 'multi-document shape from a Talos 1.14 machine config file',
    shape: 'multidoc',
    choose: async (page, bridge) => {
      bridge.files['machine-config'] = { path: '/home/alice/homelab/controlplane.yaml', text: await readFile(path.join(TESTDATA, 'multidoc-controlplane.yaml'), 'utf8') };
      await page.getByRole('button', { name: 'Choose machine config…' }).click();
      await page.getByText('/home/alice/homelab/controlplane.yaml').waitFor();
    },
    request: { machineConfigText: 'from file' },
    yaml: /kind: KubeAuthenticationConfig\nconfiguration:\n {2}apiVersion: apiserver\.config\.k8s\.io\/v1beta1/,
    title: 'Shape: multi-document config (KubeAuthenticationConfig)',
  },
  {
    name: 'legacy shape by choosing Talos 1.13',
    shape: 'legacy',
    choose: async (page) => {
      await page.getByLabel('Go by the Talos version').check();
      await page.getByLabel('Talos version of the cluster').selectOption({ label: 'Talos 1.13' });
    },
    request: { talosVersion: '1.13.0' },
    yaml: /oidc-groups-prefix: "oidc:"/,
    title: 'Shape: legacy config (cluster.apiServer)',
  },
  {
    name: 'multi-document shape by choosing Talos 1.14',
    shape: 'multidoc',
    choose: async (page) => {
      await page.getByLabel('Go by the Talos version').check();
      await page.getByLabel('Talos version of the cluster').selectOption({ label: 'Talos 1.14 or later' });
    },
    request: { talosVersion: '1.14.0' },
    yaml: /claimMappings:\n {8}username:\n {10}claim: sub\n {10}prefix: "oidc:"/,
    title: 'Shape: multi-document config (KubeAuthenticationConfig)',
  },
];

describe('Setup guide', () => {
  test('step 1 shows the callback URL to register, the client type, the scopes and the group to allow', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Setup');
    await panel.getByRole('heading', { name: '1. Pocket ID client' }).waitFor();
    const facts = await panel.locator('dl.facts').first().innerText();
    assert.match(facts, /Callback URL to register\s+http:\/\/localhost:8000/);
    assert.match(facts, new RegExp(`Client\\s+${CLIENT_ID} · public: PKCE, no secret`));
    assert.match(facts, /Scopes\s+openid profile email groups/);
    assert.match(facts, /Groups to allow\s+In Pocket ID, under the client’s Allowed user groups/);
    await panel.getByRole('button', { name: 'Copy callback URL' }).click();
    assert.deepEqual(bridge.callsTo('copyText'), [['http://localhost:8000']]);
    assert.equal(await panel.getByLabel('Pocket ID group for Kubernetes').inputValue(), 'kubernetes', 'defaults to the token’s first group');
    await panel.getByText('The ID token has what a cluster needs').waitFor();
  });

  test('a confidential client without the groups scope is flagged before any sign-in', BOUNDED, async (t) => {
    const session = { ...signedOut('not signed in yet'), confidential: true, scopes: ['openid', 'profile', 'email'] };
    const { page } = await open(t, suite, { state: appState({ providers: [session] }) });
    const panel = await showTab(page, 'Setup');
    await panel.getByText('confidential; the agent keeps its secret (OS keychain').waitFor();
    await panel.getByText('groups missing: Pocket ID leaves the groups claim out').waitFor();
  });

  test('test sign-in shows the claims and flags a missing groups claim and an unverified email', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite, { state: appState({ providers: [signedOut('not signed in yet')] }) });
    const panel = await showTab(page, 'Setup');
    await panel.getByRole('button', { name: 'Test sign-in' }).click();
    await panel.getByRole('button', { name: 'Waiting for the browser…' }).waitFor();
    assert.deepEqual(bridge.callsTo('signIn'), [['pocket-id']]);
    await bridge.push(appState({ providers: [signedIn({ groups: null, emailVerified: false })] }));
    const result = panel.getByRole('region', { name: 'Test sign-in result' });
    await result.getByText('Groups missing').waitFor();
    await result.getByText('The ID token has no groups claim, so RBAC on groups answers 403.').waitFor();
    await result.getByText('Email not verified').waitFor();
    await result.getByRole('table', { name: 'Claims from the test sign-in' }).getByRole('row', { name: /^email_verified/ }).getByText('false').waitFor();
    await panel.getByRole('navigation', { name: 'Setup steps' }).getByRole('button', { name: 'Step 1: Pocket ID client (needs attention)' }).waitFor();
  });

  test('with no provider, step 1 says how to create the client and add it', BOUNDED, async (t) => {
    const { page } = await open(t, suite, { state: appState({ providers: [] }) });
    const panel = await showTab(page, 'Setup');
    await panel.getByText('Set its callback URL to').waitFor();
    await panel.getByText('a new client allows nobody').waitFor();
    await step(page, 2);
    await panel.getByText('This step needs the Pocket ID client from step 1.').filter({ visible: true }).waitFor();
  });

  for (const shape of SHAPES) {
    test(`end to end, ${shape.name}: patch, binding applied through the admin context, checks`, BOUNDED, async (t) => {
      const { page, bridge, problems } = await open(t, suite);
      const panel = await showTab(page, 'Setup');
      await panel.getByRole('button', { name: 'Next: Talos patch' }).click();
      await panel.getByRole('heading', { name: '2. Talos patch' }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), '2. Talos patch', 'focus moves to the new step');

      // 2) the patch
      await shape.choose(page, bridge);
      await panel.getByLabel('Control-plane nodes (optional)').fill('10.0.0.2, 10.0.0.3');
      await panel.getByRole('button', { name: 'Make the patch' }).click();
      const patch = panel.getByRole('region', { name: 'Generated Talos patch' });
      await patch.getByText(shape.title).waitFor();
      const yaml = await patch.getByLabel('Talos patch', { exact: true }).innerText();
      assert.match(yaml, shape.yaml);
      assert.match(yaml, new RegExp(ISSUER.replace(/\./g, '\\.')));
      const request = bridge.callsTo('talosPatch')[0]?.[0] as Record<string, unknown>;
      assert.equal(request.provider, 'pocket-id');
      assert.deepEqual(request.nodes, ['10.0.0.2', '10.0.0.3']);
      if ('talosVersion' in shape.request) assert.equal(request.talosVersion, shape.request.talosVersion);
      else assert.match(String(request.machineConfigText), /controlplane/);
      assert.equal(await patch.getByLabel('talosctl command', { exact: true }).innerText(), 'talosctl patch mc -n 10.0.0.2,10.0.0.3 --patch @pocketkube-oidc-patch.yaml');
      await patch.getByRole('button', { name: 'Copy Talos patch' }).click();
      await patch.getByRole('button', { name: 'Save… Talos patch to a file' }).click();
      await patch.getByText('Saved to /home/alice/pocketkube-oidc-patch.yaml').waitFor();
      const [[copied]] = bridge.callsTo('copyText') as [[string]];
      assert.equal(copied.trimEnd(), yaml.trimEnd(), 'Copy copies the patch as shown');
      assert.deepEqual(bridge.callsTo('saveText'), [['pocketkube-oidc-patch.yaml', copied]]);

      // 3) the binding, applied through talosctl's admin context
      await panel.getByRole('button', { name: 'Next: Access (RBAC)' }).click();
      assert.equal(await panel.getByLabel('Pocket ID group', { exact: true }).inputValue(), 'kubernetes');
      await panel.getByLabel('ClusterRole to grant').selectOption('edit');
      await panel.getByRole('button', { name: 'Make the binding' }).click();
      const binding = panel.getByRole('region', { name: 'Generated ClusterRoleBinding' });
      const crb = await binding.getByLabel('ClusterRoleBinding', { exact: true }).innerText();
      assert.match(crb, /kind: ClusterRoleBinding[\s\S]*name: edit[\s\S]*kind: Group\n\s+name: oidc:kubernetes/);
      assert.equal(await binding.getByLabel('Through the admin context').inputValue(), 'admin@homelab');
      await binding.getByRole('button', { name: 'Apply through admin@homelab' }).click();
      await binding.getByText('ClusterRoleBinding created').waitFor();
      assert.deepEqual(bridge.callsTo('applyRbac'), [[{ group: 'kubernetes', clusterRole: 'edit', groupsPrefix: 'oidc:', context: 'admin@homelab' }]]);
      assert.equal(await binding.getByLabel('kubectl command', { exact: true }).innerText(), 'kubectl --context admin@homelab apply -f pocketkube-rbac.yaml');

      // 4) the checks: one red with its fix, then all green
      await panel.getByRole('button', { name: 'Next: Verify' }).click();
      assert.equal(await panel.getByLabel('Context to check').inputValue(), 'pocket-id@homelab');
      await panel.getByRole('button', { name: 'Run the checks' }).click();
      const checks = panel.getByRole('list', { name: 'Checks' });
      await checks.waitFor();
      assert.equal(await checks.getByRole('listitem').count(), doctorChecks().length);
      const rbac = checks.getByRole('listitem').filter({ hasText: 'RBAC allows access' });
      await rbac.getByRole('img', { name: 'failed' }).waitFor();
      await rbac.getByText('Fix: Bind a ClusterRole to group oidc:kubernetes').waitFor();
      assert.equal(await checks.getByRole('img', { name: 'passed' }).count(), 10);
      await panel.getByText('1 check failed · 10 passed · 1 skipped').waitFor();
      assert.deepEqual(bridge.callsTo('doctor'), [[{ provider: 'pocket-id', context: 'pocket-id@homelab', group: 'kubernetes', usernameClaim: 'sub' }]]);
      bridge.on('doctor', () => doctorChecks(true));
      await panel.getByRole('button', { name: 'Run the checks again' }).click();
      await panel.getByText('Everything checks out · 11 passed · 1 skipped').waitFor();
      assert.equal(await checks.getByRole('img', { name: 'failed' }).count(), 0);

      const nav = page.getByRole('navigation', { name: 'Setup steps' });
      for (const name of ['Step 1: Pocket ID client (done)', 'Step 2: Talos patch (done)', 'Step 3: Access (RBAC) (done)', 'Step 4: Verify (done)']) {
        await nav.getByRole('button', { name }).waitFor();
      }
      assert.deepEqual(problems, []);
    });
  }

  test('the email username claim and other prefixes go into the patch request', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Setup');
    await step(page, 2);
    await panel.getByLabel('Go by the Talos version').check();
    await panel.getByLabel('email (needs a verified email)').check();
    await panel.getByText('Prefixes').click();
    await panel.getByLabel('Username prefix').fill('pocket:');
    await panel.getByLabel('Groups prefix').fill('pocket:');
    await panel.getByRole('button', { name: 'Make the patch' }).click();
    const yaml = await panel.getByRole('region', { name: 'Generated Talos patch' }).getByLabel('Talos patch', { exact: true }).innerText();
    assert.match(yaml, /claim: email\n\s+prefix: "pocket:"/);
    const request = bridge.callsTo('talosPatch')[0]?.[0] as Record<string, unknown>;
    assert.equal(request.usernameClaim, 'email');
    assert.equal(request.groupsPrefix, 'pocket:');
    await step(page, 3);
    await panel.getByRole('button', { name: 'Make the binding' }).click();
    assert.match(await panel.getByLabel('ClusterRoleBinding', { exact: true }).innerText(), /name: pocket:kubernetes/);
  });

  test('asking for a patch before choosing the machine config says what to choose; a cancelled picker changes nothing', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Setup');
    await step(page, 2);
    await panel.getByRole('button', { name: 'Make the patch' }).click();
    await panel.getByRole('alert').getByText('Choose the control-plane machine config first').waitFor();
    await panel.getByRole('button', { name: 'Choose machine config…' }).click();
    await panel.getByText('none chosen').waitFor();
    assert.deepEqual(bridge.callsTo('openFile'), [['machine-config']]);
    assert.equal(bridge.callsTo('talosPatch').length, 0);
  });

  test('a machine config that is not YAML is reported with the patcher\'s reason, naming the chosen file and line', BOUNDED, async (t) => {
    // The bridge's talosPatch is the real one: it refuses this file as main would.
    const text = 'machine:\n  type: controlplane\ncluster: [\n';
    const refused = await toResult(async () => talosPatch({ issuer: ISSUER, clientId: CLIENT_ID, machineConfigText: text, machineConfigName: '/home/alice/notes.yaml' }));
    assert.equal(refused.ok, false, 'the real patcher refuses a file that is not YAML');
    const { message } = (refused as { ok: false; error: { message: string } }).error;
    assert.equal(message, '/home/alice/notes.yaml line 3 is not valid YAML (the [ here is never closed): pass the file exactly as talosctl wrote it.');
    const bridge = new FixtureBridge(appState());
    bridge.files['machine-config'] = { path: '/home/alice/notes.yaml', text };
    const { page } = await open(t, suite, { bridge });
    const panel = await showTab(page, 'Setup');
    await step(page, 2);
    await panel.getByRole('button', { name: 'Choose machine config…' }).click();
    await panel.getByText('/home/alice/notes.yaml').waitFor();
    await panel.getByRole('button', { name: 'Make the patch' }).click();
    await panel.getByRole('alert').filter({ hasText: 'No patch was made' }).getByText(message, { exact: true }).waitFor();
  });

  for (const [what, text] of [
    ['a YAML file that is no machine config', 'hello: world\n'],
    ['an empty file', ''],
    ["a worker's machine config", 'version: v1alpha1\nmachine:\n  type: worker\ncluster:\n  clusterName: homelab\n'],
  ] as const) {
    test(`${what} is refused in one sentence naming the chosen file, as main's handler says it`, BOUNDED, async (t) => {
      const file = '/home/alice/homelab/machine.yaml';
      // main's real talosPatch handler, over IPC's toResult: a coded refusal, not a bare `error`.
      const failure = await refusedMachineConfig(file, text);
      assert.equal(failure.code, 'bad_machine_config');
      assert.ok(failure.message.startsWith(`${file} is `), failure.message);
      assert.match(failure.message, /^[^\n]+: pass [^\n]+\.$/);
      const bridge = new FixtureBridge(appState());
      bridge.files['machine-config'] = { path: file, text };
      const { page } = await open(t, suite, { bridge });
      const panel = await showTab(page, 'Setup');
      await step(page, 2);
      await panel.getByRole('button', { name: 'Choose machine config…' }).click();
      await panel.getByText(file).waitFor();
      await panel.getByRole('button', { name: 'Make the patch' }).click();
      await panel.getByRole('alert').filter({ hasText: 'No patch was made' }).getByText(failure.message, { exact: true }).waitFor();
      assert.equal((bridge.callsTo('talosPatch')[0]?.[0] as Record<string, unknown>).machineConfigName, file, 'the window sends the file\'s path');
      assert.equal(await panel.getByRole('region', { name: 'Generated Talos patch' }).count(), 0);
    });
  }

  test('an apply the cluster refuses (a 403 from the kube-apiserver stand-in) shows the reason and the fix', BOUNDED, async (t) => {
    const failure = await forbiddenApply('admin@homelab');
    const { message } = failure;
    assert.match(message, /^Context "admin@homelab" may not write ClusterRoleBinding .* \(403\): apply it from an admin context/);
    const bridge = new FixtureBridge(appState()).fail('applyRbac', failure);
    const { page } = await open(t, suite, { bridge });
    const panel = await showTab(page, 'Setup');
    await step(page, 3);
    await panel.getByRole('button', { name: 'Make the binding' }).click();
    await panel.getByRole('button', { name: 'Apply through admin@homelab' }).click();
    await panel.getByRole('alert').filter({ hasText: 'The binding was not applied' }).getByText(message, { exact: true }).waitFor();
  });

  test('an unreachable Pocket ID shows as a failed check with its reason and fix, the rest skipped', BOUNDED, async (t) => {
    // Doctor answers a network failure with checks, not an error: these are the real ones for a closed port.
    const checks = await doctorWithPocketIdUnreachable();
    const issuer = checks.find((c) => c.id === 'issuer')!;
    assert.equal(issuer.ok, false);
    assert.match(issuer.detail, /failed: ECONNREFUSED\.$/);
    const count = (ok: DoctorCheck['ok']) => checks.filter((c) => c.ok === ok).length;
    const bridge = new FixtureBridge(appState()).on('doctor', () => structuredClone(checks));
    const { page } = await open(t, suite, { bridge });
    const panel = await showTab(page, 'Setup');
    await step(page, 4);
    await panel.getByRole('button', { name: 'Run the checks' }).click();
    const list = panel.getByRole('list', { name: 'Checks' });
    const item = list.getByRole('listitem').filter({ hasText: issuer.title });
    await item.getByRole('img', { name: 'failed' }).waitFor();
    await item.getByText(issuer.detail, { exact: true }).waitFor();
    await item.getByText(`Fix: ${issuer.fix!}`).waitFor();
    await panel.getByText(`1 check failed · ${count(true)} passed · ${count('skipped')} skipped`).waitFor();
    assert.equal(await panel.getByRole('alert').filter({ hasText: 'The checks could not run' }).count(), 0);
    await page.getByRole('navigation', { name: 'Setup steps' }).getByRole('button', { name: 'Step 4: Verify (needs attention)' }).waitFor();
  });
});
