import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { parseAllDocuments } from 'yaml';
import { startKubeApiServer } from '../stand-ins/kube-apiserver/index.js';
import { launchChromium, REPO, Stack } from '../support/stack.js';

/** Alice's `sub` at the Pocket ID stand-in. */
const SUB = '6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('the Talos setup as checked commands, against a signed-in session and the kube-apiserver stand-in', () => {
  // No ClusterRoleBinding yet: the guide's RBAC step is part of what is tested.
  const stack = new Stack({ seedBinding: false });
  before(async () => {
    await stack.start();
    // First what `talosctl kubeconfig` writes: cluster talos-e2e, context admin@talos-e2e (system:masters).
    await stack.api.writeAdminKubeconfig(stack.kubeconfig, 'talos-e2e');
    const add = await stack.cli(['provider', 'add', stack.provider, '--issuer', stack.pocketId.issuer, '--client-id', stack.clientId, '--callback-port', String(stack.callbackPort), '--ca-file', stack.pocketId.caFile]);
    assert.equal(add.code, 0, add.stderr);
    // Then PocketKube's context on the same cluster entry (server and CA reused).
    const ctx = await stack.cli(['cluster', 'add', '--from-context', 'admin@talos-e2e', '--provider', stack.provider]);
    assert.equal(ctx.code, 0, ctx.stderr);
    await stack.startAgentProcess();
    const { cli } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
  });
  after(() => stack.close());

  test('talos patch for Talos 1.13 prints the legacy extraArgs with the issuer from discovery and an oidc: prefix', async () => {
    const res = await stack.cli(['talos', 'patch', '--talos-version', 'v1.13.9']);
    assert.equal(res.code, 0, res.stderr);
    const patch = parseAllDocuments(res.stdout).map((d) => d.toJS());
    const args = patch[0].cluster.apiServer.extraArgs;
    assert.equal(args['oidc-issuer-url'], stack.pocketId.issuer);
    assert.equal(args['oidc-client-id'], stack.clientId);
    assert.equal(args['oidc-username-prefix'], 'oidc:');
    assert.equal(args['oidc-groups-prefix'], 'oidc:');
    assert.match(res.stderr, /talosctl patch mc -n .* --patch @pocketkube-oidc-patch\.yaml/);
  });

  test('talos patch on a 1.14 machine config gives a KubeAuthenticationConfig that the kube-apiserver stand-in boots from and accepts tokens by', async () => {
    const out = path.join(stack.dir, 'patch.yaml');
    const res = await stack.cli(['talos', 'patch', '--machine-config', path.join(REPO, 'tests/talos/testdata/multidoc-controlplane.yaml'), '--out', out]);
    assert.equal(res.code, 0, res.stderr);
    const doc = parseAllDocuments(await readFile(out, 'utf8')).map((d) => d.toJS()).find((d) => d.kind === 'KubeAuthenticationConfig');
    assert.ok(doc, 'a KubeAuthenticationConfig document');
    const conf = doc.configuration;
    assert.equal(conf.anonymous.enabled, true, 'the health-check anonymous block survives the wholesale replace');
    assert.equal(conf.jwt[0].claimMappings.username.prefix, 'oidc:');
    // Boot an API server from exactly this configuration and use it with the PocketKube credential.
    const api = await startKubeApiServer({ stateDir: path.join(stack.dir, 'api-14'), authenticationConfig: { ...conf, jwt: conf.jwt.map((j: { issuer: object }) => ({ ...j, issuer: { ...j.issuer, certificateAuthority: stack.pocketId.caPem } })) } });
    try {
      const kc = path.join(stack.dir, 'kc-14.json');
      await writeFile(kc, JSON.stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
        clusters: [{ name: 'c', cluster: { server: api.server, 'certificate-authority-data': Buffer.from(api.caPem).toString('base64') } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: path.join(REPO, 'resources/bin/pocketkube'), args: ['credential', '--provider', stack.provider], env: [{ name: 'POCKETKUBE_HOME', value: stack.home.dir }], interactiveMode: 'Never' } } }],
      }));
      const who = await stack.kubectl(['auth', 'whoami', '-o', 'json'], { env: { KUBECONFIG: kc } });
      assert.equal(who.code, 0, who.stderr);
      assert.ok(JSON.parse(who.stdout).status.userInfo.groups.includes('oidc:kubernetes'));
    } finally {
      await api.close();
    }
  });

  test('talos patch refuses a file that is not a control-plane machine config in one sentence naming it, exit 2, nothing on stdout', async () => {
    const cases = [
      ['hello.yaml', 'hello: world\n', 'is not a Talos machine config (it has no `version: v1alpha1` with `machine:` or `cluster:`): pass the control-plane machine config'],
      ['empty.yaml', '', 'is empty: pass the control-plane machine config'],
      ['worker.yaml', (await readFile(path.join(REPO, 'tests/talos/testdata/legacy-controlplane.yaml'), 'utf8')).replace('type: controlplane', 'type: worker'), "is a worker node's machine config (machine.type: worker), but kube-apiserver runs on control-plane nodes only"],
      ['broken.yaml', 'version: v1alpha1\nmachine:\n  type: controlplane\ncluster: [\n', 'line 4 is not valid YAML (the [ here is never closed): pass the file exactly as talosctl wrote it.'],
    ] as const;
    for (const [name, text, sentence] of cases) {
      const file = path.join(stack.dir, name);
      await writeFile(file, text);
      const res = await stack.cli(['talos', 'patch', '--machine-config', file]);
      assert.equal(res.code, 2, `${name}: ${res.stderr}`);
      assert.equal(res.stdout, '', name);
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${name}: one line on stderr: ${res.stderr}`);
      assert.ok(lines[0]!.startsWith(`pocketkube: ${file} ${sentence}`), `${name}: ${lines[0]}`);
      assert.match(lines[0]!, /\.$/);
    }
  });

  test('doctor tells a 403 from a 401 and names the RBAC fix', async () => {
    const res = await stack.cli(['doctor', '--context', 'pocket-id@talos-e2e', '--group', 'kubernetes']);
    assert.equal(res.code, 1, res.stdout);
    const lines = res.stdout.split('\n');
    // The token is accepted (no 401): only the RBAC check fails, with the 403, and the fix follows it.
    assert.match(lines.find((l) => l.includes('API server accepts the token')) ?? '', /^✔ API server accepts the token: Context pocket-id@talos-e2e is oidc:/);
    assert.deepEqual(lines.filter((l) => l.startsWith('✖')), [
      `✖ RBAC allows access: 403 Forbidden: the token was accepted (oidc:${SUB}) but no RBAC binding lets it list namespaces, which is an authorization problem, not the token.`,
    ]);
    const rbac = lines.findIndex((l) => l.startsWith('✖ RBAC allows access'));
    assert.equal(lines[rbac + 1], '    fix: From an admin context run `pocketkube talos rbac --group kubernetes --apply --context admin@NAME`, which binds oidc:kubernetes.');
    assert.match(res.stdout, /\n1 problem found\.\n$/);
  });

  test('talos rbac --apply through the admin context binds oidc:kubernetes, idempotently', async () => {
    const first = await stack.cli(['talos', 'rbac', '--group', 'kubernetes', '--apply', '--context', 'admin@talos-e2e']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'ClusterRoleBinding pocketkube-oidc-kubernetes-cluster-admin created through context admin@talos-e2e.\n');
    const second = await stack.cli(['talos', 'rbac', '--group', 'kubernetes', '--apply', '--context', 'admin@talos-e2e']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'ClusterRoleBinding pocketkube-oidc-kubernetes-cluster-admin unchanged through context admin@talos-e2e.\n');
    const pods = await stack.kubectl(['get', 'pods', '--context', 'pocket-id@talos-e2e']);
    assert.equal(pods.code, 0, pods.stderr);
  });

  test('whoami shows the user and groups as the cluster sees them', async () => {
    const res = await stack.cli(['whoami', '--context', 'pocket-id@talos-e2e']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`Username: oidc:${SUB}\n`));
    assert.match(res.stdout, /Groups: .*oidc:kubernetes/);
  });

  test('doctor is all green once the binding exists', async () => {
    const res = await stack.cli(['doctor', '--context', 'pocket-id@talos-e2e', '--group', 'kubernetes']);
    assert.equal(res.code, 0, res.stdout);
    assert.doesNotMatch(res.stdout, /✖/);
  });
});
