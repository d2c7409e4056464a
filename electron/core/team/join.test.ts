import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { loopbackCertificate } from '../../../tests/support/loopback-tls.js';
import { PocketKubeError } from '../platform/errors.js';
import { ensureHome, resolveHome, type Home } from '../platform/home.js';
import { providerFromInput, ProviderRegistry, saveProvider, secretKeys } from '../session/providers.js';
import { MemorySecretStore } from '../session/secret-store.js';
import type { TeamProfile, TeamProvider } from '../../shared/team.js';
import { applyJoin, joinRecordPath, planJoin, type JoinDeps } from './join.js';

let root: string;
let issuerCa: string;
let clusterCa: string;
let otherCa: string;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pk-team-join-'));
  issuerCa = (await loopbackCertificate('join-issuer-ca')).cert;
  clusterCa = Buffer.from((await loopbackCertificate('join-cluster-ca')).cert).toString('base64');
  otherCa = Buffer.from((await loopbackCertificate('join-other-ca')).cert).toString('base64');
});
after(() => rm(root, { recursive: true, force: true }));

const ISSUER = 'https://id.example.com';
const CLIENT = 'a60960a8-c856-43b7-add7-50d83bf7eeab';

function profile(revision = 1): TeamProfile {
  return {
    apiVersion: 'pocketkube/v1',
    kind: 'TeamProfile',
    team: 'acme',
    revision,
    provider: { name: 'pocket-id', issuer: ISSUER, clientId: CLIENT, caData: issuerCa },
    clusters: [
      { name: 'prod', server: 'https://10.0.0.1:6443', certificateAuthorityData: clusterCa, namespace: 'apps' },
      { name: 'staging', server: 'https://10.0.1.1:6443', certificateAuthorityData: clusterCa },
    ],
  };
}

interface Machine {
  home: Home;
  kubeconfig: string;
  store: MemorySecretStore;
  registry: ProviderRegistry;
  deps: JoinDeps;
  issuerChecks: TeamProvider[];
}

let n = 0;
/** A developer's machine: its own POCKETKUBE_HOME and kubeconfig, the real registry and kubeconfig writer. */
async function machine(opts: { issuerOk?: boolean } = {}): Promise<Machine> {
  const dir = path.join(root, `m${++n}`);
  await mkdir(dir, { recursive: true });
  const home = resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') });
  await ensureHome(home);
  const registry = new ProviderRegistry(home.settingsFile);
  const store = new MemorySecretStore();
  const issuerChecks: TeamProvider[] = [];
  const kubeconfig = path.join(dir, 'kube', 'config');
  const deps: JoinDeps = {
    home,
    kubeconfigFiles: [kubeconfig],
    providers: () => registry.list(),
    saveProvider: (p) => saveProvider(registry, store, p),
    checkIssuer: async (p) => {
      issuerChecks.push(p);
      if (opts.issuerOk === false) throw new PocketKubeError('issuer-check-failed', 'discovery says another issuer; nothing was written.');
    },
    now: () => new Date('2026-12-01T10:00:00Z'),
  };
  return { home, kubeconfig, store, registry, deps, issuerChecks };
}

async function join(m: Machine, p: TeamProfile, confirmed = false) {
  const plan = await planJoin(m.deps, p, 'team.yaml');
  return applyJoin(m.deps, p, plan, { confirmed });
}

const read = (f: string) => readFile(f, 'utf8').catch(() => undefined);

describe('planJoin and applyJoin', () => {
  let m: Machine;
  beforeEach(async () => {
    m = await machine();
  });

  test('on a fresh machine everything is added, the first context becomes current, and the issuer is checked before writing', async () => {
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.equal(plan.provider.action, 'add');
    assert.deepEqual(plan.contexts.map((c) => [c.name, c.action, c.namespace]), [['pocket-id@prod', 'add', 'apps'], ['pocket-id@staging', 'add', undefined]]);
    assert.equal(plan.needsConfirmation, false);
    assert.equal(plan.currentContext, 'pocket-id@prod');
    assert.equal(await read(m.kubeconfig), undefined, 'planning writes nothing');

    await applyJoin(m.deps, profile(), plan);
    assert.equal(m.issuerChecks.length, 1);
    const p = await m.registry.get('pocket-id');
    assert.equal(p?.issuer, ISSUER);
    assert.equal(p?.confidential, false);
    assert.equal(await read(p!.caFile!), issuerCa.endsWith('\n') ? issuerCa : `${issuerCa}\n`, 'the issuer CA is a file the provider names');
    const kc = (await read(m.kubeconfig))!;
    assert.match(kc, /current-context: pocket-id@prod/);
    assert.match(kc, /name: pocket-id@staging/);
    assert.match(kc, /namespace: apps/);
    const record = JSON.parse((await read(joinRecordPath(m.home, 'acme')))!);
    assert.equal(record.revision, 1);
  });

  test('joining the same profile again plans everything unchanged and writes no byte', async () => {
    await join(m, profile());
    const before = await readFile(m.kubeconfig);
    const settings = await readFile(m.home.settingsFile);
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.equal(plan.provider.action, 'unchanged');
    assert.deepEqual(plan.contexts.map((c) => c.action), ['unchanged', 'unchanged']);
    assert.equal(plan.currentContext, undefined);
    await applyJoin(m.deps, profile(), plan);
    assert.deepEqual(await readFile(m.kubeconfig), before);
    assert.deepEqual(await readFile(m.home.settingsFile), settings);
  });

  test('a newer revision updates a server and a CA, and keeps the user\'s own context and namespace', async () => {
    await join(m, profile());
    // The user's own changes: a context of their own (another tool's user) and a namespace they picked.
    const doc = parseDocument((await read(m.kubeconfig))!);
    doc.addIn(['contexts'], { name: 'mine', context: { cluster: 'prod', user: 'pocket-id' } });
    await writeFile(m.kubeconfig, doc.toString().replace('namespace: apps', 'namespace: my-team'));
    const next = profile(2);
    next.clusters[1]!.server = 'https://10.0.2.1:6443';
    next.clusters[1]!.certificateAuthorityData = otherCa;
    next.clusters[0]!.namespace = 'apps-v2';
    const plan = await planJoin(m.deps, next, 'team.yaml');
    assert.equal(plan.provider.action, 'unchanged');
    const [prod, staging] = plan.contexts;
    assert.equal(prod!.action, 'unchanged', 'prod: same server and CA, and the namespace is the user\'s');
    assert.equal(prod!.namespace, 'my-team');
    assert.match(plan.warnings.join('\n'), /Context pocket-id@prod keeps your namespace my-team \(the profile suggests apps-v2\)/);
    assert.equal(staging!.action, 'update');
    assert.deepEqual(staging!.changes.map((c) => c.field), ['server', 'certificateAuthorityData']);
    assert.deepEqual(staging!.changes[0], { field: 'server', from: 'https://10.0.1.1:6443', to: 'https://10.0.2.1:6443' });
    assert.equal(plan.needsConfirmation, false);
    await applyJoin(m.deps, next, plan);
    const kc = (await read(m.kubeconfig))!;
    assert.match(kc, /server: https:\/\/10\.0\.2\.1:6443/);
    assert.match(kc, new RegExp(otherCa.slice(0, 40).replace(/[+/]/g, '\\$&')));
    assert.match(kc, /namespace: my-team/);
    assert.match(kc, /- name: mine/);
  });

  test('a namespace the user did not change follows the profile', async () => {
    await join(m, profile());
    const next = profile(2);
    next.clusters[0]!.namespace = 'apps-v2';
    const plan = await planJoin(m.deps, next, 'team.yaml');
    assert.deepEqual(plan.contexts[0]!.changes, [{ field: 'namespace', from: 'apps', to: 'apps-v2' }]);
    await applyJoin(m.deps, next, plan);
    assert.match((await read(m.kubeconfig))!, /namespace: apps-v2/);
  });

  test('a cluster name another tool uses gets a cluster entry of its own; a context name it uses is a clash', async () => {
    await mkdir(path.dirname(m.kubeconfig), { recursive: true });
    const theirs = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: 'https://192.168.1.10:6443', certificate-authority-data: ${clusterCa}}
users:
- name: admin
  user: {token: abc}
contexts:
- name: admin@prod
  context: {cluster: prod, user: admin}
current-context: admin@prod
`;
    await writeFile(m.kubeconfig, theirs);
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.deepEqual(plan.contexts.map((c) => [c.name, c.cluster, c.action, c.changes]), [['pocket-id@prod', 'pocket-id@prod', 'add', []], ['pocket-id@staging', 'staging', 'add', []]]);
    await applyJoin(m.deps, profile(), plan);
    const kc = parseDocument((await read(m.kubeconfig))!).toJS();
    assert.equal(kc.clusters.find((c: { name: string }) => c.name === 'prod').cluster.server, 'https://192.168.1.10:6443', 'their cluster is untouched');
    assert.equal(kc.clusters.find((c: { name: string }) => c.name === 'pocket-id@prod').cluster.server, 'https://10.0.0.1:6443');
    assert.deepEqual(kc.contexts.find((c: { name: string }) => c.name === 'pocket-id@prod').context, { cluster: 'pocket-id@prod', user: 'pocket-id', namespace: 'apps' });
    assert.deepEqual((await planJoin(m.deps, profile(), 'team.yaml')).contexts.map((c) => c.action), ['unchanged', 'unchanged'], 'joining again finds its own entry');

    const other = await machine();
    await mkdir(path.dirname(other.kubeconfig), { recursive: true });
    await writeFile(other.kubeconfig, theirs.replace('- name: admin@prod', '- name: pocket-id@staging').replace('https://192.168.1.10:6443', 'https://10.0.0.1:6443'));
    await assert.rejects(planJoin(other.deps, profile(), 'team.yaml'), (e: unknown) => {
      assert.ok(e instanceof PocketKubeError && e.code === 'join-clash', String(e));
      assert.match(e.message, /^Cannot join acme: context "pocket-id@staging" in .*config already exists for cluster "prod" and user "admin": .*; nothing was written\.$/);
      return true;
    });
    assert.equal(await read(other.home.settingsFile), undefined, 'no provider was added');
  });

  test('a second team with a cluster of the same name gets its own entry, and the first team\'s context keeps its server', async () => {
    await join(m, profile());
    const beta: TeamProfile = {
      ...profile(),
      team: 'beta',
      provider: { name: 'other', issuer: 'https://id.beta.example.com', clientId: 'client-2' },
      clusters: [{ name: 'prod', server: 'https://6.6.6.6:6443', certificateAuthorityData: otherCa }],
    };
    const plan = await planJoin(m.deps, beta, 'beta.yaml');
    assert.deepEqual(plan.contexts.map((c) => [c.name, c.cluster, c.action, c.changes]), [['other@prod', 'other@prod', 'add', []]]);
    assert.match(plan.warnings.join('\n'), /Your kubeconfig already has a cluster named prod \(used by pocket-id@prod\), which this join leaves as it is: other@prod gets a cluster entry of its own, named other@prod\./);
    await applyJoin(m.deps, beta, plan);
    const kc = parseDocument((await read(m.kubeconfig))!).toJS();
    const server = (ctx: string) => {
      const cluster = kc.contexts.find((c: { name: string }) => c.name === ctx).context.cluster;
      return kc.clusters.find((c: { name: string }) => c.name === cluster).cluster.server;
    };
    assert.equal(server('pocket-id@prod'), 'https://10.0.0.1:6443');
    assert.equal(server('other@prod'), 'https://6.6.6.6:6443');
    // And acme's next revision still updates its own entry.
    const two = profile(2);
    two.clusters[0]!.server = 'https://10.0.0.2:6443';
    const next = await planJoin(m.deps, two, 'team.yaml');
    assert.deepEqual(next.contexts[0]!.changes, [{ field: 'server', from: 'https://10.0.0.1:6443', to: 'https://10.0.0.2:6443' }]);
  });

  test('the user\'s own PocketKube cluster of the same name is not re-pointed by a join', async () => {
    const { addCluster } = await import('../kubeconfig/cluster.js');
    await addCluster(m.home, { provider: 'mine', name: 'prod', server: 'https://10.5.5.5:6443' }, [m.kubeconfig]);
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.deepEqual(plan.contexts.map((c) => [c.cluster, c.action, c.changes]), [['pocket-id@prod', 'add', []], ['staging', 'add', []]]);
    await applyJoin(m.deps, profile(), plan);
    const kc = parseDocument((await read(m.kubeconfig))!).toJS();
    assert.equal(kc.clusters.find((c: { name: string }) => c.name === 'prod').cluster.server, 'https://10.5.5.5:6443');
    assert.equal(kc.contexts.find((c: { name: string }) => c.name === 'mine@prod').context.cluster, 'prod');
  });

  test('a cluster the team\'s context shares with a context of the user\'s is not changed: one sentence naming both', async () => {
    await join(m, profile());
    const doc = parseDocument((await read(m.kubeconfig))!);
    doc.addIn(['contexts'], { name: 'mine', context: { cluster: 'prod', user: 'pocket-id' } });
    await writeFile(m.kubeconfig, doc.toString());
    const before = await read(m.kubeconfig);
    const two = profile(2);
    two.clusters[0]!.server = 'https://10.0.0.2:6443';
    await assert.rejects(planJoin(m.deps, two, 'team.yaml'), (e: unknown) => {
      assert.ok(e instanceof PocketKubeError && e.code === 'join-clash', String(e));
      assert.match(e.message, /^Cannot join acme: cluster "prod" in .*config \(used by pocket-id@prod, mine\) is also used by mine, and the team's cluster prod has server https:\/\/10\.0\.0\.2:6443, not https:\/\/10\.0\.0\.1:6443: .*kubectl config delete-context pocket-id@prod.*; nothing was written\.$/);
      return true;
    });
    assert.equal(await read(m.kubeconfig), before);
  });

  test('a PocketKube user of the provider\'s name that runs the helper for another provider is a clash', async () => {
    const { addCluster } = await import('../kubeconfig/cluster.js');
    await addCluster(m.home, { provider: 'other', name: 'dev', server: 'https://10.5.5.5:6443' }, [m.kubeconfig]);
    await writeFile(m.kubeconfig, (await read(m.kubeconfig))!.replace('- name: other\n', '- name: pocket-id\n').replace('user: other', 'user: pocket-id'));
    await assert.rejects(planJoin(m.deps, profile(), 'team.yaml'), /^PocketKubeError: Cannot join acme: user "pocket-id" in .*config runs PocketKube's helper for provider other \(for other@dev\), and the team's provider needs that name/);
  });

  test('a profile that re-points an existing provider needs confirming, and its old secret goes', async () => {
    await saveProvider(m.registry, m.store, providerFromInput({ name: 'pocket-id', issuer: 'https://old-id.example.com', clientId: 'old', confidential: true }), 'old-s3cret');
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.equal(plan.provider.action, 'update');
    assert.deepEqual(plan.provider.changes.slice(0, 2), [
      { field: 'issuer', from: 'https://old-id.example.com', to: ISSUER },
      { field: 'clientId', from: 'old', to: CLIENT },
    ]);
    assert.equal(plan.needsConfirmation, true);
    assert.match(plan.warnings.join('\n'), /stored client secret will be removed/);
    await assert.rejects(applyJoin(m.deps, profile(), plan), (e: unknown) => e instanceof PocketKubeError && e.code === 'needs-confirmation' && /pass --yes; nothing was written\.$/.test(e.message));
    assert.equal((await m.registry.get('pocket-id'))?.issuer, 'https://old-id.example.com');
    assert.equal(await read(m.kubeconfig), undefined);
    assert.equal(m.issuerChecks.length, 0);

    await applyJoin(m.deps, profile(), plan, { confirmed: true });
    const p = await m.registry.get('pocket-id');
    assert.deepEqual([p?.issuer, p?.clientId, p?.confidential], [ISSUER, CLIENT, false]);
    assert.equal(await m.store.get(secretKeys.clientSecret('pocket-id')), undefined);
  });

  test('a profile that changes an existing provider\'s issuer CA needs confirming, and the old CA stays until it is', async () => {
    await join(m, profile());
    const caFile = (await m.registry.get('pocket-id'))!.caFile!;
    const before = await read(caFile);
    const two = profile(2);
    two.provider.caData = Buffer.from(otherCa, 'base64').toString('utf8');
    const plan = await planJoin(m.deps, two, 'team.yaml');
    assert.deepEqual(plan.provider.changes.map((c) => c.field), ['caData']);
    assert.equal(plan.needsConfirmation, true);
    assert.deepEqual(plan.reasons, ['issuer-ca']);
    assert.match(plan.warnings.join('\n'), /Provider pocket-id will trust another certificate authority for https:\/\/id\.example\.com \(.* becomes .*\): confirm only if/);
    await assert.rejects(applyJoin(m.deps, two, plan), (e: unknown) => {
      assert.ok(e instanceof PocketKubeError && e.code === 'needs-confirmation', String(e));
      assert.equal(e.message, 'Joining acme changes the certificate authority provider pocket-id trusts for its issuer, which must be confirmed: run it on a terminal and answer y, or pass --yes; nothing was written.');
      return true;
    });
    assert.equal(await read(caFile), before);
    await applyJoin(m.deps, two, plan, { confirmed: true });
    assert.notEqual(await read(caFile), before);
  });

  test('an older revision than the one joined is a warning and needs confirming when it changes anything', async () => {
    const two = profile(2);
    two.clusters[1]!.server = 'https://10.0.2.1:6443';
    await join(m, two);
    const plan = await planJoin(m.deps, profile(1), 'old.yaml');
    assert.match(plan.warnings.join('\n'), /This profile is revision 1 of acme, older than revision 2 you joined on 2026-12-01 from team\.yaml: joining it goes back to older settings\./);
    assert.equal(plan.needsConfirmation, true);
    await assert.rejects(applyJoin(m.deps, profile(1), plan), /goes back to an older revision, which must be confirmed/);
  });

  test('a 30-cluster join is one kubeconfig write: the backup is the file before the join', async () => {
    const mine = `apiVersion: v1
kind: Config
# my own cluster
clusters:
- name: home
  cluster: {server: 'https://192.168.1.10:6443'}
users:
- name: me
  user: {token: abc}
contexts:
- name: me@home
  context: {cluster: home, user: me}
current-context: me@home
`;
    await mkdir(path.dirname(m.kubeconfig), { recursive: true });
    await writeFile(m.kubeconfig, mine);
    const many = profile();
    many.clusters = Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, server: `https://10.1.0.${i + 1}:6443`, certificateAuthorityData: clusterCa }));
    await join(m, many);
    assert.equal(await read(`${m.kubeconfig}.pocketkube.bak`), mine);
    const kc = parseDocument((await read(m.kubeconfig))!).toJS();
    assert.equal(kc.contexts.length, 31);
    assert.equal(kc.users.filter((u: { name: string }) => u.name === 'pocket-id').length, 1, 'one user for all 30 contexts');
  });

  test('a kubeconfig write that fails midway writes no context and adds no provider', async () => {
    // Between the plan and the write, another tool takes the name of the team's second context.
    m.deps.checkIssuer = async () => {
      await mkdir(path.dirname(m.kubeconfig), { recursive: true });
      await writeFile(m.kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: theirs
  cluster: {server: 'https://192.168.1.10:6443'}
users:
- name: admin
  user: {token: abc}
contexts:
- name: pocket-id@staging
  context: {cluster: theirs, user: admin}
`);
    };
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    const before = await read(m.kubeconfig);
    await assert.rejects(applyJoin(m.deps, profile(), plan), /context "pocket-id@staging" .* already exists for cluster "theirs" and user "admin".*nothing was written/);
    assert.equal(before, undefined);
    assert.doesNotMatch((await read(m.kubeconfig))!, /pocket-id@prod/, 'the first context was not written either');
    assert.equal(await m.registry.get('pocket-id'), undefined, 'no provider was added');
    assert.equal(await read(joinRecordPath(m.home, 'acme')), undefined);
  });

  test('an issuer its discovery document does not confirm writes nothing', async () => {
    const bad = await machine({ issuerOk: false });
    await assert.rejects(join(bad, profile()), /discovery says another issuer/);
    assert.equal(await read(bad.kubeconfig), undefined);
    assert.equal(await read(bad.home.settingsFile), undefined);
    assert.equal(await read(joinRecordPath(bad.home, 'acme')), undefined);
  });

  test('a provider of another name for the same issuer and client is pointed out', async () => {
    await saveProvider(m.registry, m.store, providerFromInput({ name: 'id.example.com', issuer: ISSUER, clientId: CLIENT }));
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    assert.equal(plan.provider.action, 'add');
    assert.match(plan.warnings.join('\n'), /Provider id\.example\.com already signs in to https:\/\/id\.example\.com with this client; the team's provider pocket-id will be a second one/);
  });

  test('a plan that no longer holds when applying is refused', async () => {
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    await saveProvider(m.registry, m.store, providerFromInput({ name: 'pocket-id', issuer: ISSUER, clientId: CLIENT, scopes: ['openid'] }));
    await assert.rejects(applyJoin(m.deps, profile(), plan), (e: unknown) => e instanceof PocketKubeError && e.code === 'plan-changed');
    assert.equal(await read(m.kubeconfig), undefined);
  });

  test('a profile that differs from the one planned in any field is refused: an added cluster\'s CA or namespace, the provider\'s scopes', async () => {
    const plan = await planJoin(m.deps, profile(), 'team.yaml');
    const otherCluster = profile();
    otherCluster.clusters[0]!.certificateAuthorityData = otherCa;
    const otherNamespace = profile();
    otherNamespace.clusters[1]!.namespace = 'kube-system';
    const otherScopes = profile();
    otherScopes.provider.scopes = ['openid', 'email', 'offline_access'];
    for (const changed of [otherCluster, otherNamespace, otherScopes]) {
      await assert.rejects(applyJoin(m.deps, changed, plan), (e: unknown) => {
        assert.ok(e instanceof PocketKubeError && e.code === 'plan-changed', String(e));
        assert.match(e.message, /^What joining acme would change is no longer what was shown \(the profile, .*; nothing was written\.$/);
        return true;
      });
    }
    assert.equal(await read(m.kubeconfig), undefined);
    assert.equal(await read(m.home.settingsFile), undefined);
  });
});
