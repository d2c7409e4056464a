/** The Clusters view: every context, switching, adding, removing, and whoami against the token's groups. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FixtureBridge } from './bridge.js';
import { appState, contexts, KUBECONFIG, SUB } from './fixtures.js';
import { open, showTab, startSuite, type Suite } from './harness.js';
import { lockedSwitch, unparsableAdd, unreachableWhoami } from './real-failures.js';

const BOUNDED = { timeout: 60_000 };
let suite: Suite;
before(async () => {
  suite = await startSuite();
});
after(() => suite?.close());

describe('Clusters view', () => {
  test('lists every context across the kubeconfig files, marking PocketKube’s and the current one', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    const items = panel.getByRole('list', { name: 'Contexts' }).getByRole('listitem');
    assert.equal(await items.count(), 4);
    const homelab = panel.getByRole('listitem', { name: 'pocket-id@homelab' });
    assert.equal(await homelab.getAttribute('aria-current'), 'true');
    await homelab.getByText('current', { exact: true }).waitFor();
    await homelab.getByText('PocketKube', { exact: true }).waitFor();
    await panel.getByRole('listitem', { name: 'admin@homelab' }).getByText('not PocketKube’s').waitFor();
    await panel.getByRole('listitem', { name: 'pocket-id@prod' }).getByText('apps').waitFor();
    assert.equal(await homelab.getByRole('button', { name: 'Use pocket-id@homelab' }).count(), 0, 'no switch to the current context');
    assert.equal(await panel.getByRole('listitem', { name: 'admin@prod' }).getByRole('button', { name: /^Remove/ }).count(), 0, 'only PocketKube’s contexts can be removed');
  });

  test('switching a context calls useContext and follows the state the agent pushes', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Use pocket-id@prod' }).click();
    const prod = panel.getByRole('listitem', { name: 'pocket-id@prod' });
    await prod.getByText('current', { exact: true }).waitFor();
    assert.deepEqual(bridge.callsTo('useContext'), [['pocket-id@prod']]);
    assert.equal(await prod.getAttribute('aria-current'), 'true');
    assert.equal(await panel.getByRole('listitem', { name: 'pocket-id@homelab' }).getAttribute('aria-current'), null);
    await panel.getByText('Current context: pocket-id@prod').waitFor();
  });

  test('a switch made outside (kubectl, kubectx) shows as soon as the agent pushes it', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    const state = appState();
    state.contexts = { ...state.contexts, currentContext: 'admin@prod', contexts: contexts().map((c) => ({ ...c, current: c.name === 'admin@prod' })) };
    await bridge.push(state);
    await panel.getByRole('listitem', { name: 'admin@prod' }).getByText('current', { exact: true }).waitFor();
  });

  test('a switch refused by a locked kubeconfig says why, in the words of the kubeconfig writer', BOUNDED, async (t) => {
    const failure = await lockedSwitch('admin@prod');
    const bridge = new FixtureBridge(appState()).fail('useContext', failure);
    const { page } = await open(t, suite, { bridge });
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Use admin@prod' }).click();
    const alert = panel.getByRole('alert').filter({ hasText: 'Could not switch to admin@prod' });
    await alert.getByText(failure.message, { exact: true }).waitFor();
    assert.match(failure.message, /is locked by another program .*; if no kubectl is running, delete it; nothing was written$/);
  });

  test('whoami shows the cluster’s username and groups next to the token’s, and flags a prefix mismatch', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    const prod = panel.getByRole('listitem', { name: 'pocket-id@prod' });
    await prod.getByRole('button', { name: 'Who am I on pocket-id@prod' }).click();
    const who = prod.getByRole('region', { name: 'As pocket-id@prod sees you' });
    await who.getByText(`oidc-${SUB}`).waitFor();
    const rows = await who.getByRole('table').locator('tbody tr').allInnerTexts();
    assert.deepEqual(
      rows.map((r) => r.split(/\s+/).filter(Boolean).join(' ')),
      ['kubernetes oidc-kubernetes oidc:kubernetes ✗', 'developers oidc-developers oidc:developers ✗'],
    );
    await who.getByText('Prefix mismatch').waitFor();
    await who.getByText('The cluster puts “oidc-” in front of your groups, but PocketKube’s RBAC bindings name them with “oidc:”').waitFor();
    await who.getByText(`expected oidc:${SUB}`).waitFor();
    await who.getByText('Also: system:authenticated').waitFor();
    assert.deepEqual(bridge.callsTo('whoami'), [['pocket-id@prod']]);
  });

  test('whoami on a cluster that agrees says so', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Who am I on pocket-id@homelab' }).click();
    await panel.getByText('The cluster sees your groups exactly as PocketKube’s RBAC bindings expect.').waitFor();
    assert.equal(await panel.getByText('Prefix mismatch').count(), 0);
  });

  test('whoami on a context that does not use PocketKube shows the cluster’s view only', BOUNDED, async (t) => {
    const { page } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Who am I on admin@homelab' }).click();
    const who = panel.getByRole('region', { name: 'As admin@homelab sees you' });
    assert.deepEqual(await who.getByRole('list', { name: 'Groups the cluster sees' }).getByRole('listitem').allInnerTexts(), ['system:masters', 'system:authenticated']);
    await who.getByText('This context does not use a PocketKube token').waitFor();
  });

  test('whoami against an unreachable cluster explains what to check', BOUNDED, async (t) => {
    const failure = await unreachableWhoami('admin@prod');
    const { page } = await open(t, suite, { bridge: new FixtureBridge(appState()).fail('whoami', failure) });
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Who am I on admin@prod' }).click();
    const alert = panel.getByRole('alert').filter({ hasText: 'admin@prod did not say who you are' });
    await alert.getByText(failure.message, { exact: true }).waitFor();
    assert.match(failure.message, /cannot be reached \(ECONNREFUSED\): check the cluster's server address in context "admin@prod" and that the control plane is up\.$/);
  });

  test('adds a cluster from talosctl’s admin context and switches to it', BOUNDED, async (t) => {
    const state = appState();
    state.contexts.contexts = state.contexts.contexts.filter((c) => c.name !== 'pocket-id@prod');
    const { page, bridge } = await open(t, suite, { state });
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Add a cluster' }).first().click();
    const form = panel.getByRole('form', { name: 'Add a cluster' });
    await form.getByLabel('Admin context', { exact: true }).selectOption('admin@prod');
    await form.getByText('The context is called pocket-id@prod.').waitFor();
    await form.getByRole('button', { name: 'Add context' }).click();
    await form.getByText('Added pocket-id@prod').waitFor();
    assert.deepEqual(bridge.callsTo('addCluster'), [[{ provider: 'pocket-id', use: true, fromContext: 'admin@prod' }]]);
    await panel.getByRole('listitem', { name: 'pocket-id@prod' }).getByText('current', { exact: true }).waitFor();
  });

  test('adds a cluster from a server URL and a CA file, asking first for what is missing', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    bridge.files.ca = { path: '/home/alice/staging-ca.crt', text: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n' };
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Add a cluster' }).first().click();
    const form = panel.getByRole('form', { name: 'Add a cluster' });
    await form.getByLabel('From a server URL and CA file').check();
    await form.getByRole('button', { name: 'Add context' }).click();
    await form.getByRole('alert').getByText('Give the cluster a name').waitFor();
    await form.getByLabel('Cluster name').fill('staging');
    await form.getByLabel('API server URL').fill('http://10.0.1.10:6443');
    await form.getByRole('button', { name: 'Add context' }).click();
    await form.getByRole('alert').getByText('must start with https://').waitFor();
    await form.getByLabel('API server URL').fill('https://10.0.1.10:6443');
    await form.getByRole('button', { name: 'Choose CA file…' }).click();
    await form.getByText('/home/alice/staging-ca.crt').waitFor();
    await form.getByLabel('Switch kubectl to it').uncheck();
    await form.getByRole('button', { name: 'Add context' }).click();
    await form.getByText('Added pocket-id@staging').waitFor();
    assert.deepEqual(bridge.callsTo('openFile'), [['ca']]);
    assert.deepEqual(bridge.callsTo('addCluster'), [[{ provider: 'pocket-id', use: false, name: 'staging', server: 'https://10.0.1.10:6443', caFile: '/home/alice/staging-ca.crt' }]]);
    await panel.getByRole('listitem', { name: 'pocket-id@staging' }).waitFor();
  });

  test('adds a cluster from a kubeconfig file talosctl wrote', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const text = 'apiVersion: v1\nkind: Config\nclusters:\n  - name: edge\n    cluster:\n      server: https://10.0.2.10:6443\n';
    bridge.files.kubeconfig = { path: '/home/alice/Downloads/edge-kubeconfig', text };
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Add a cluster' }).first().click();
    const form = panel.getByRole('form', { name: 'Add a cluster' });
    await form.getByLabel('From a kubeconfig file').check();
    await form.getByRole('button', { name: 'Choose kubeconfig file…' }).click();
    await form.getByText('/home/alice/Downloads/edge-kubeconfig').waitFor();
    await form.getByLabel('Cluster name (optional)').fill('edge');
    await form.getByRole('button', { name: 'Add context' }).click();
    await form.getByText('Added pocket-id@edge').waitFor();
    assert.deepEqual(bridge.callsTo('addCluster'), [[{ provider: 'pocket-id', use: true, name: 'edge', kubeconfigText: text }]]);
  });

  test('an add into a kubeconfig that does not parse shows the writer\'s reason, with the line', BOUNDED, async (t) => {
    const failure = await unparsableAdd();
    const message = failure.message;
    assert.match(message, / line 3: this is not valid YAML \(.*\); nothing was written$/);
    const bridge = new FixtureBridge(appState()).fail('addCluster', failure);
    const { page } = await open(t, suite, { bridge });
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Add a cluster' }).first().click();
    await panel.getByRole('button', { name: 'Add context' }).click();
    await panel.getByRole('alert').filter({ hasText: 'The cluster was not added' }).getByText(message).waitFor();
  });

  test('removes a PocketKube context only after confirming', BOUNDED, async (t) => {
    const { page, bridge } = await open(t, suite);
    const panel = await showTab(page, 'Clusters');
    await panel.getByRole('button', { name: 'Remove pocket-id@prod' }).click();
    const confirm = panel.getByRole('group', { name: 'Confirm removing pocket-id@prod' });
    await confirm.getByText('PocketKube takes out only the context, user and cluster entries it wrote').waitFor();
    await confirm.getByRole('button', { name: 'Keep it' }).click();
    assert.equal(bridge.callsTo('removeCluster').length, 0);
    await panel.getByRole('button', { name: 'Remove pocket-id@prod' }).click();
    await panel.getByRole('button', { name: 'Remove it' }).click();
    await panel.getByRole('listitem', { name: 'pocket-id@prod' }).waitFor({ state: 'detached' });
    assert.deepEqual(bridge.callsTo('removeCluster'), [['pocket-id@prod']]);
  });

  test('a kubeconfig file that does not parse is named with its line, and the rest still shows', BOUNDED, async (t) => {
    const state = appState();
    state.contexts.errors = [`${KUBECONFIG} line 14: expected a mapping; nothing was written`];
    const { page } = await open(t, suite, { state });
    const panel = await showTab(page, 'Clusters');
    await panel.getByText('A kubeconfig file could not be read').waitFor();
    await panel.getByText(`${KUBECONFIG} line 14: expected a mapping; nothing was written`).waitFor();
    await panel.getByText('PocketKube writes nothing to a file it cannot read').waitFor();
    assert.equal(await panel.getByRole('list', { name: 'Contexts' }).getByRole('listitem').count(), 4);
  });

  test('with no context at all the view says where it looked and how to add one', BOUNDED, async (t) => {
    const state = appState();
    state.contexts = { files: [KUBECONFIG], contexts: [], errors: [] };
    const { page } = await open(t, suite, { state });
    const panel = await showTab(page, 'Clusters');
    await panel.getByText('No contexts yet').waitFor();
    await panel.getByText(`None of ${KUBECONFIG} holds a context.`).waitFor();
    await panel.getByRole('button', { name: 'Add a cluster' }).last().click();
    await panel.getByRole('form', { name: 'Add a cluster' }).getByLabel('From a server URL and CA file').waitFor();
  });
});
