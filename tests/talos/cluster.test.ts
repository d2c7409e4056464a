import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startKubeApiServer, type KubeApiServerHandle } from '../stand-ins/kube-apiserver/index.js';
import { applyRbac, KubeRequestError, loadKubeconfig, rbacBinding, whoami } from '../../electron/core/talos/index.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { tempDir } from '../support/temp.js';
import { startTinyIssuer, type TinyIssuer } from '../support/token-issuer.js';

const CLIENT = 'pocketkube-test';
// PocketKube's real credential helper (POSIX sh + curl to the agent socket), as the kubeconfig module writes it.
const HELPER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/bin/pocketkube');

describe('rbacBinding', () => {
  test('binds Group oidc:<group> to cluster-admin by default', () => {
    const b = rbacBinding({ group: 'kubernetes' });
    assert.deepEqual(parse(b.yaml), b.object);
    assert.deepEqual(b.object.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:kubernetes' }]);
    assert.deepEqual(b.object.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
    assert.equal(b.object.metadata?.name, 'pocketkube-oidc-kubernetes-cluster-admin');
    assert.ok(b.notes.some((n) => /oidc:kubernetes/.test(n)));
  });

  test('a display-looking group name is warned about with the name Pocket ID would put in the token', () => {
    const b = rbacBinding({ group: 'Kubernetes Admins', clusterRole: 'view' });
    assert.ok(b.notes.some((n) => n.includes('--group kubernetes_admins') && /display name/.test(n)));
    assert.equal(b.object.metadata?.name, 'pocketkube-oidc-kubernetes-admins-view');
  });

  test('a group that already carries the prefix is refused, so the subject never becomes oidc:oidc:', () => {
    assert.throws(() => rbacBinding({ group: 'oidc:kubernetes' }), /--group kubernetes/);
  });

  test('prefix and name can be chosen', () => {
    const b = rbacBinding({ group: 'ops', groupsPrefix: 'pocket-id:', name: 'ops-admins' });
    assert.equal(b.object.subjects?.[0]?.name, 'pocket-id:ops');
    assert.equal(b.object.metadata?.name, 'ops-admins');
  });
});

describe('against the kube-apiserver stand-in', { timeout: 60_000 }, () => {
  let dir: string;
  let api: KubeApiServerHandle;
  let idp: TinyIssuer;
  let adminFile: string;
  let adminContext: string;

  before(async () => {
    dir = await tempDir('pocketkube-talos-cluster-');
    idp = await startTinyIssuer(dir, CLIENT);
    api = await startKubeApiServer({
      oidcIssuerUrl: idp.issuer,
      oidcClientId: CLIENT,
      oidcUsernamePrefix: 'oidc:',
      oidcGroupsClaim: 'groups',
      oidcGroupsPrefix: 'oidc:',
      oidcCaPem: idp.caPem,
    });
    adminFile = path.join(dir, 'admin.kubeconfig');
    adminContext = (await api.writeAdminKubeconfig(adminFile, 'homelab')).context;
  });
  after(async () => {
    await api?.close();
    await idp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('whoami with the talosctl-style admin context is admin in system:masters', async () => {
    const me = await whoami({ kubeconfigFiles: [adminFile], context: adminContext });
    assert.equal(me.username, 'admin');
    assert.ok(me.groups.includes('system:masters'));
  });

  test('applyRbac creates the binding, then leaves an identical one unchanged', async () => {
    const b = rbacBinding({ group: 'kubernetes' });
    assert.deepEqual(await applyRbac(b, { kubeconfigFiles: [adminFile], context: adminContext }), { action: 'created' });
    assert.deepEqual(await applyRbac(b, { kubeconfigFiles: [adminFile], context: adminContext }), { action: 'unchanged' });
    const stored = api.listClusterRoleBindings().find((x) => x.metadata.name === b.object.metadata?.name);
    assert.deepEqual(stored?.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:kubernetes' }]);
  });

  test('applyRbac replaces the subjects of a same-named binding that differs', async () => {
    const first = rbacBinding({ group: 'developers', clusterRole: 'view', name: 'pocketkube-devs' });
    await applyRbac(first, { kubeconfigFiles: [adminFile], context: adminContext });
    const second = rbacBinding({ group: 'developers_eu', clusterRole: 'view', name: 'pocketkube-devs' });
    assert.deepEqual(await applyRbac(second, { kubeconfigFiles: [adminFile], context: adminContext }), { action: 'updated' });
    const stored = api.listClusterRoleBindings().find((x) => x.metadata.name === 'pocketkube-devs');
    assert.equal(stored?.subjects?.[0]?.name, 'oidc:developers_eu');
  });

  test('applyRbac refuses to change the role of an existing binding, naming the kubectl delete to run', async () => {
    await assert.rejects(
      applyRbac(rbacBinding({ group: 'developers', clusterRole: 'edit', name: 'pocketkube-devs' }), { kubeconfigFiles: [adminFile], context: adminContext }),
      /kubectl delete clusterrolebinding pocketkube-devs/,
    );
  });

  test('whoami through a token kubeconfig shows the prefixed user and groups; a bad token is a 401 error that says so', async () => {
    const file = path.join(dir, 'token.kubeconfig');
    const ctx = await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name: 'homelab', user: { token: await idp.sign(idp.claims()) } });
    const me = await whoami({ kubeconfigFiles: [file], context: ctx });
    assert.equal(me.username, `oidc:${idp.claims().sub}`);
    assert.ok(me.groups.includes('oidc:kubernetes'));

    await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name: 'homelab', user: { token: await idp.sign(idp.claims({ aud: ['someone-else'] })) } });
    await assert.rejects(whoami({ kubeconfigFiles: [file], context: ctx }), (e: unknown) => {
      assert.ok(e instanceof KubeRequestError);
      assert.equal(e.kind, 'unauthorized');
      assert.match(e.message, /did not accept the token \(401\)/);
      assert.match(e.message, /issuer\/client id\/CA/);
      return true;
    });
  });

  test('a user with no binding gets 403 from applyRbac, told apart from a 401', async () => {
    const file = path.join(dir, 'nobody.kubeconfig');
    const ctx = await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name: 'homelab', user: { token: await idp.sign(idp.claims({ groups: ['developers'] })) } });
    await assert.rejects(applyRbac(rbacBinding({ group: 'x' }), { kubeconfigFiles: [file], context: ctx }), (e: unknown) => {
      assert.ok(e instanceof KubeRequestError);
      assert.equal(e.kind, 'forbidden');
      assert.match(e.message, /403/);
      assert.match(e.message, /admin context/);
      return true;
    });
  });

  test('whoami runs the kubeconfig\'s exec credential: PocketKube\'s real helper against an agent socket', async () => {
    const home = path.join(dir, 'home');
    await fs.mkdir(home, { recursive: true });
    const token = await idp.sign(idp.claims());
    const requests: string[] = [];
    // Stands in for the agent only: the helper script, curl and client-node's exec auth are the real ones.
    const agent = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${body}`);
        const expirationTimestamp = new Date(Date.now() + 300_000).toISOString();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token, expirationTimestamp } }));
      });
    });
    await new Promise<void>((r) => agent.listen(path.join(home, 'agent.sock'), r));
    try {
      const file = path.join(dir, 'exec.kubeconfig');
      const exec = {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: HELPER,
        args: ['credential', '--provider', 'pocket-id'],
        env: [{ name: 'POCKETKUBE_HOME', value: home }],
        interactiveMode: 'IfAvailable',
        provideClusterInfo: false,
      };
      const ctx = await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name: 'homelab', user: { exec } });
      const me = await whoami({ kubeconfigFiles: [file], context: ctx });
      assert.equal(me.username, `oidc:${idp.claims().sub}`);
      assert.ok(requests.length >= 1);
      assert.match(requests[0]!, /^POST \/v1\/credential .*provider=pocket-id/);

      // No agent: the helper exits 1 and its message reaches the error.
      await fs.rm(path.join(home, 'agent.sock'), { force: true });
      agent.close();
      await assert.rejects(whoami({ kubeconfigFiles: [file], context: ctx }), (e: unknown) => {
        assert.ok(e instanceof KubeRequestError);
        assert.equal(e.kind, 'credential');
        assert.match(e.message, /no agent is running/);
        return true;
      });
    } finally {
      agent.close();
    }
  });

  test('an unreachable API server and an untrusted certificate are told apart', async () => {
    const closed = path.join(dir, 'closed.kubeconfig');
    const ctx = await writeKubeconfig(closed, { server: 'https://127.0.0.1:1', caPem: api.caPem, name: 'gone', user: { token: 'x' } });
    await assert.rejects(whoami({ kubeconfigFiles: [closed], context: ctx }), (e: unknown) => e instanceof KubeRequestError && e.kind === 'unreachable' && /ECONNREFUSED/.test(e.message));
    const wrongCa = path.join(dir, 'wrong-ca.kubeconfig');
    const ctx2 = await writeKubeconfig(wrongCa, { server: api.server, caPem: idp.caPem, name: 'homelab', user: { token: 'x' } });
    await assert.rejects(whoami({ kubeconfigFiles: [wrongCa], context: ctx2 }), (e: unknown) => e instanceof KubeRequestError && e.kind === 'tls' && /certificate-authority-data/.test(e.message));
  });
});

describe('loadKubeconfig', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('pocketkube-talos-kc-');
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('merges files like kubectl: missing files skipped, first definition and first current-context win', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await writeKubeconfig(a, { server: 'https://a.example:6443', caPem: 'x', name: 'shared', user: { token: 'a' } });
    await writeKubeconfig(b, { server: 'https://b.example:6443', caPem: 'x', name: 'shared', user: { token: 'b' } });
    const loaded = loadKubeconfig({ kubeconfigFiles: [path.join(dir, 'missing'), a, b] });
    assert.equal(loaded.context, 'oidc@shared');
    assert.equal(loaded.cluster.server, 'https://a.example:6443');
    assert.equal(loaded.user.token, 'a');
    assert.deepEqual(loaded.files, [a, b]);
  });

  test('an unknown context is an error listing the ones there are', async () => {
    const a = path.join(dir, 'a');
    assert.throws(() => loadKubeconfig({ kubeconfigFiles: [a], context: 'admin@nope' }), /use one of oidc@shared/);
    assert.throws(() => loadKubeconfig({ kubeconfigFiles: [path.join(dir, 'missing')] }), /No kubeconfig file exists/);
  });
});
