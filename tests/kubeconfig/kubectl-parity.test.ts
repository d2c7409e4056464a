/**
 * kubectl is the reference: how several files merge, which file gets new entries and current-context,
 * and which files are refused. Every expectation here is what /usr/bin/kubectl does with the same files.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { addContext, KubeconfigError, kubeconfigFiles, listContexts, removeContext, useContext } from '../../electron/core/kubeconfig/index.js';
import { CA_DATA, EXEC, KUBECTL, kubectl, skipWithoutKubectl, kubectlContextNames, kubectlCurrent, kubectlView, read, tempDir } from '../support/kubeconfig.js';

const A = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://from-a"}
users:
- name: shared
  user: {token: a}
contexts:
- name: shared
  context: {cluster: shared, user: shared}
- name: only-a
  context: {cluster: shared, user: shared}
current-context: ""
`;
const B = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: "https://from-b"}
- name: b
  cluster: {server: "https://b"}
users:
- name: b
  user: {token: b}
contexts:
- name: shared
  context: {cluster: b, user: b}
- name: only-b
  context: {cluster: b, user: b}
current-context: only-b
`;
const C = `apiVersion: v1
kind: Config
contexts:
- name: only-c
  context: {cluster: b, user: b}
current-context: only-c
`;

/** Lay out the same files twice: one copy for us, one for kubectl. */
function twin(contents: (string | null)[]): { ours: string[]; theirs: string[] } {
  const dir = tempDir();
  const make = (side: string): string[] =>
    contents.map((c, i) => {
      const p = path.join(dir, side, `f${i}`, 'config');
      fs.mkdirSync(path.dirname(p), { recursive: true });
      if (c !== null) fs.writeFileSync(p, c);
      return p;
    });
  return { ours: make('ours'), theirs: make('theirs') };
}

/** Which names of each kind each file holds, and its current-context: where things ended up. */
function placement(paths: string[]): unknown[] {
  return paths.map((p) => {
    if (!fs.existsSync(p)) return null;
    const text = read(p);
    const names = (kind: string): string[] => {
      const m = new RegExp(`^${kind}:[\\s\\S]*?(?=^\\S|$(?![\\s\\S]))`, 'm').exec(text);
      return m ? [...m[0].matchAll(/name: "?([\w@.-]+)"?/g)].map((x) => x[1]!).filter((n) => n !== 'pocketkube').sort() : [];
    };
    // kubectl writes `current-context: ""` into every file it rewrites; absent and "" mean the same.
    const cc = /^current-context: "?([^"\n]*)"?$/m.exec(text)?.[1] || null;
    return { clusters: names('clusters'), users: names('users'), contexts: names('contexts'), current: cc };
  });
}

async function kubectlAdd(files: string[], use: boolean): Promise<void> {
  const run = async (...args: string[]): Promise<void> => {
    const r = await kubectl(files, ...args);
    assert.equal(r.code, 0, r.stderr);
  };
  await run('config', 'set-cluster', 'talos', '--server=https://10.5.0.2:6443');
  await run('config', 'set-credentials', 'pocket-id', `--exec-command=${EXEC.command}`, '--exec-api-version=client.authentication.k8s.io/v1');
  await run('config', 'set-context', 'pocket-id@talos', '--cluster=talos', '--user=pocket-id');
  if (use) await run('config', 'use-context', 'pocket-id@talos');
}

async function ourAdd(files: string[], use: boolean): Promise<void> {
  await addContext({ files, name: 'talos', provider: 'pocket-id', server: 'https://10.5.0.2:6443', caData: CA_DATA, exec: EXEC, use });
}

describe('merging several files, compared with kubectl', { skip: skipWithoutKubectl }, () => {
  const layouts: [string, (string | null)[]][] = [
    ['A, B', [A, B]],
    ['B, A', [B, A]],
    ['missing, A, B', [null, A, B]],
    ['A, missing, C, B', [A, null, C, B]],
    ['empty, B', ['', B]],
    ['C, B, A', [C, B, A]],
  ];
  for (const [label, contents] of layouts) {
    test(`listContexts shows what kubectl shows for files ${label}`, async () => {
      const { ours } = twin(contents);
      const listed = await listContexts(ours);
      assert.deepEqual(listed.errors, []);
      assert.deepEqual(listed.contexts.map((c) => c.name).sort(), (await kubectlContextNames(ours)).sort());
      assert.equal(listed.currentContext ?? '', await kubectlCurrent(ours));
      const view = await kubectlView(ours);
      for (const c of listed.contexts) {
        const k = view.contexts.find((x) => x.name === c.name)!;
        assert.equal(c.cluster, k.context['cluster'], `cluster of ${c.name}`);
        assert.equal(c.user, k.context['user'], `user of ${c.name}`);
        const server = view.clusters.find((x) => x.name === c.cluster)?.cluster['server'];
        assert.equal(c.server, server, `server of ${c.name}`);
        assert.ok(ours.includes(c.file));
      }
    });

    for (const use of [false, true]) {
      test(`new entries${use ? ' and current-context' : ''} land where kubectl puts them, files ${label}`, async () => {
        const { ours, theirs } = twin(contents);
        await ourAdd(ours, use);
        await kubectlAdd(theirs, use);
        assert.deepEqual(placement(ours), placement(theirs));
        assert.equal(await kubectlCurrent(ours), await kubectlCurrent(theirs));
        assert.deepEqual((await kubectlContextNames(ours)).sort(), (await kubectlContextNames(theirs)).sort());
      });
    }

    test(`useContext writes current-context where kubectl use-context does, files ${label}`, async () => {
      const { ours, theirs } = twin(contents);
      await useContext('shared', ours).catch(async (e: unknown) => {
        // Layouts without a "shared" context: kubectl refuses too.
        assert.ok(e instanceof KubeconfigError);
        assert.notEqual((await kubectl(theirs, 'config', 'use-context', 'shared')).code, 0);
      });
      if ((await kubectlContextNames(theirs)).includes('shared')) {
        assert.equal((await kubectl(theirs, 'config', 'use-context', 'shared')).code, 0);
        assert.deepEqual(placement(ours), placement(theirs));
      }
    });
  }

  test('all files missing: both create the last one, mode 0600', async () => {
    const { ours, theirs } = twin([null, null]);
    await ourAdd(ours, true);
    await kubectlAdd(theirs, true);
    assert.deepEqual(placement(ours), placement(theirs));
    assert.equal(fs.existsSync(ours[0]!), false);
    assert.equal(fs.statSync(ours[1]!).mode & 0o777, 0o600);
    assert.equal(fs.statSync(theirs[1]!).mode & 0o777, 0o600);
  });

  test('an entry that exists in a later file is updated in that file, as kubectl does', async () => {
    const old = `users:\n- name: pocket-id\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /old/pocketkube\n`;
    const { ours, theirs } = twin([A, old]);
    await ourAdd(ours, false);
    await kubectlAdd(theirs, false);
    assert.deepEqual(placement(ours), placement(theirs));
    assert.match(read(ours[1]!), /command: \/opt\/PocketKube\/resources\/bin\/pocketkube/);
    assert.doesNotMatch(read(ours[0]!), /name: pocket-id\n/);
  });

  test('removing the current context clears current-context in the file that sets it', async () => {
    const { ours, theirs } = twin([null, A, B]);
    await ourAdd(ours, true);
    await kubectlAdd(theirs, true);
    const r = await removeContext('pocket-id@talos', ours);
    assert.equal(r.currentContextCleared, true);
    assert.ok(r.removed.includes('current-context'));
    // kubectl: delete-context leaves current-context dangling; unset clears it in the file that sets it.
    assert.equal((await kubectl(theirs, 'config', 'unset', 'current-context')).code, 0);
    assert.equal(await kubectlCurrent(ours), await kubectlCurrent(theirs));
    assert.equal(r.currentContext, (await kubectlCurrent(theirs)) || undefined);
  });
});

describe('files kubectl refuses are refused, files kubectl reads are read', { skip: skipWithoutKubectl }, () => {
  const cases: [string, string][] = [
    ['tab indentation', '\tcontexts: []\n'],
    ['unclosed flow list', 'contexts: [\n'],
    ['duplicate context names', 'contexts:\n- name: a\n  context: {cluster: c}\n- name: a\n  context: {cluster: d}\n'],
    ['number as a name', 'contexts:\n- name: 123\n'],
    ['YAML 1.1 boolean as a name', 'contexts:\n- name: no\n'],
    ['top level is a list', '- a\n'],
    ['top level is text', '"just text"\n'],
    ['contexts is a mapping', 'contexts: {a: 1}\n'],
    ['contexts is a number', 'contexts: 5\n'],
    ['a context that is a number', 'contexts:\n- 5\n'],
    ['current-context is a number', 'current-context: 5\n'],
    ['CA data that is not base64', 'clusters:\n- name: a\n  cluster: {certificate-authority-data: "!!notb64"}\n'],
    ['insecure-skip-tls-verify as text', 'clusters:\n- name: a\n  cluster: {insecure-skip-tls-verify: "true"}\n'],
    ['exec args with numbers', 'users:\n- name: a\n  user: {exec: {args: [1, 2]}}\n'],
    ['apiVersion v2', 'apiVersion: v2\n'],
    ['kind Pod', 'kind: Pod\n'],
    ['preferences is a number', 'preferences: 5\n'],
    ['extensions is a mapping', 'clusters:\n- name: a\n  cluster: {extensions: {x: 1}}\n'],
    ['%YAML 1.2 directive', '%YAML 1.2\n---\ncontexts: []\n'],
    ['a list as a mapping key', 'contexts: []\n? [x]\n: y\n'],
    ['a hex number as a cluster name', 'contexts:\n- name: a\n  context: {cluster: 0x10}\n'],
    // Accepted by kubectl:
    ['yes as a boolean', 'clusters:\n- name: a\n  cluster: {insecure-skip-tls-verify: yes}\n'],
    ['date-like name', 'contexts:\n- name: 2020-01-01\n  context: {cluster: c}\n'],
    ['null entries and null fields', 'contexts:\n- null\n- name: a\n  context: null\nusers:\n- name: u\n  user: {exec: {command: x, args: null}}\n'],
    ['merge keys', 'x: &a {cluster: c}\ncontexts:\n- name: a\n  context: *a\n- name: b\n  context: {<<: *a, user: u}\n'],
    ['duplicate top-level keys', 'current-context: a\ncurrent-context: b\n'],
    ['explicit !!seq tag', 'contexts: !!seq\n- name: a\n'],
    ['unknown fields of any type', 'foo: [1, {b: 2}]\ncontexts:\n- name: a\n  bogus: 1\n  context: {cluster: c, nope: 3}\n'],
    ['extension of any type', 'clusters:\n- name: a\n  cluster: {extensions: [{name: x, extension: 5}]}\n'],
    ['several documents', 'contexts: []\n---\n- not: a config\n'],
    ['end marker', 'contexts: []\n...\n'],
    ['as-user-extra', 'users:\n- name: u\n  user: {as-user-extra: {a: [b]}}\n'],
    ['explicit %YAML 1.1', '%YAML 1.1\n---\ncontexts: []\n'],
  ];
  for (const [label, text] of cases) {
    test(`agrees with kubectl on: ${label}`, async () => {
      const dir = tempDir();
      const f = path.join(dir, 'config');
      fs.writeFileSync(f, text);
      const theirs = await kubectl([f], 'config', 'view');
      const ours = await listContexts([f]);
      assert.equal(ours.errors.length > 0, theirs.code !== 0, `kubectl: ${theirs.code === 0 ? 'reads it' : theirs.stderr.trim()}; ours: ${ours.errors[0]?.message ?? 'reads it'}`);
      if (ours.errors[0]) {
        assert.equal(ours.errors[0].file, f);
        assert.ok(ours.errors[0].message.includes(f), ours.errors[0].message);
      }
    });
  }
});

describe('which files KUBECONFIG names, compared with kubectl', { skip: skipWithoutKubectl }, () => {
  // Each file adds its own context and its own "shared" one (whose cluster tells which file won), and sets
  // current-context: what kubectl shows then tells which files it read and which came first.
  const fileText = (name: string): string => `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster: {server: "https://${name}"}
users:
- name: ${name}
  user: {token: ${name}}
contexts:
- name: ctx-${name}
  context: {cluster: ${name}, user: ${name}}
- name: shared
  context: {cluster: ${name}, user: ${name}}
current-context: ctx-${name}
`;
  function layout(): { home: string; file: (name: string) => string } {
    const dir = tempDir();
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.kube'), { recursive: true });
    fs.writeFileSync(path.join(home, '.kube', 'config'), fileText('home'));
    for (const name of ['a', 'b']) fs.writeFileSync(path.join(dir, name), fileText(name));
    return { home, file: (name) => path.join(dir, name) };
  }

  /** What kubectl shows with this environment: context names (sorted), the current one, and shared's cluster. */
  async function kubectlSees(env: { HOME: string; KUBECONFIG?: string }): Promise<{ contexts: string[]; current: string; shared?: string }> {
    const { stdout } = await promisify(execFile)(KUBECTL, ['config', 'view', '-o', 'json'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
    const v = JSON.parse(stdout) as { contexts?: { name: string; context: { cluster: string } }[]; 'current-context'?: string };
    const contexts = v.contexts ?? [];
    const shared = contexts.find((c) => c.name === 'shared')?.context.cluster;
    return { contexts: contexts.map((c) => c.name).sort(), current: v['current-context'] ?? '', ...(shared ? { shared } : {}) };
  }

  async function weSee(env: { HOME: string; KUBECONFIG?: string }): Promise<{ contexts: string[]; current: string; shared?: string }> {
    const r = await listContexts(kubeconfigFiles(env, env.HOME));
    assert.deepEqual(r.errors, []);
    const shared = r.contexts.find((c) => c.name === 'shared')?.cluster;
    return { contexts: r.contexts.map((c) => c.name).sort(), current: r.currentContext ?? '', ...(shared ? { shared } : {}) };
  }

  const sep = path.delimiter;
  const lists: [string, (file: (name: string) => string) => string | undefined][] = [
    ['unset: ~/.kube/config', () => undefined],
    ['empty: ~/.kube/config', () => ''],
    ['a repeated file keeps its first place', (f) => [f('b'), f('a'), f('b')].join(sep)],
    ['empty entries and repeats are skipped', (f) => [f('a'), '', f('a'), f('b')].join(sep)],
    ['a leading separator', (f) => `${sep}${f('a')}`],
    ['a trailing separator', (f) => `${f('a')}${sep}`],
    ['a missing file is skipped, not the default', (f) => [f('missing'), f('a')].join(sep)],
  ];
  for (const [label, list] of lists) {
    test(`reads what kubectl reads: ${label}`, async () => {
      const { home, file } = layout();
      const value = list(file);
      const env = value === undefined ? { HOME: home } : { HOME: home, KUBECONFIG: value };
      assert.deepEqual(await weSee(env), await kubectlSees(env));
    });
  }

  test('a KUBECONFIG of separators only: kubectl reads no file, we fall back to ~/.kube/config on purpose', async () => {
    // kubectl then cannot write either ("open : no such file or directory"); our writer needs a file.
    const { home } = layout();
    const env = { HOME: home, KUBECONFIG: sep };
    assert.deepEqual(await kubectlSees(env), { contexts: [], current: '' });
    assert.deepEqual(kubeconfigFiles(env, home), [path.join(home, '.kube', 'config')]);
    assert.deepEqual(await weSee(env), { contexts: ['ctx-home', 'shared'], current: 'ctx-home', shared: 'home' });
  });
});
