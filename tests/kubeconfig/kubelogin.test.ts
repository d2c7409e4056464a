/**
 * import-kubelogin: kubelogin users (the Talos guide's, `kubelogin get-token`, space-separated flags)
 * become PocketKube users in place; the guide's URL-as-client-ID mistake is refused with a reason; the
 * dry run writes nothing and never shows a client secret; a real run changes only those users, keeps a
 * backup, and kubectl reads the new exec.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { importKubelogin, KubeconfigError, type ExecSpec } from '../../electron/core/kubeconfig/index.js';
import { skipWithoutKubectl, kubectlView, leftovers, read, readBytes, tempDir } from '../support/kubeconfig.js';

const HELPER = '/opt/PocketKube/resources/bin/pocketkube';
const exec = (provider: string): ExecSpec => ({
  command: HELPER,
  args: ['credential', '--provider', provider],
  installHint: 'Install PocketKube and sign in.',
});
const SECRET = 'Zq8sKp2VxR7mN4tLw9HbYc3JdF6gA1eU';
const CLIENT = 'a60960a8-c856-43b7-add7-50d83bf7eeab';
const ISSUER = 'https://id.example.com';

/** The Talos guide's user block, as written there (v1beta1, no command, flags with `=`). */
const seedUser = (issuer: string, clientId: string, secret: string): string => `- name: pocket-id
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
        - oidc-login
        - get-token
        - --oidc-issuer-url=${issuer}
        - --oidc-client-id=${clientId}
        - --oidc-client-secret=${secret}
        - --oidc-extra-scope=groups
        - --oidc-extra-scope=email
        - --oidc-extra-scope=name
`;

const HEAD = `# talosctl kubeconfig, then the Talos guide
apiVersion: v1
kind: Config
clusters:
- name: testing
  cluster:
    server: https://10.5.0.2:6443   # VIP
contexts:
- name: testing
  context:
    cluster: testing
    namespace: default
    user: pocket-id
- name: admin@testing
  context:
    cluster: testing
    user: admin@testing
current-context: testing
users:
- name: admin@testing
  user:
    token: admin-token
`;

function setup(content: string): { dir: string; file: string } {
  const dir = tempDir('pk-kubelogin-');
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, content);
  return { dir, file };
}

describe('importKubelogin', () => {
  test('the Talos guide’s user block: found, its provider proposed, its exec rewritten', async () => {
    const { dir, file } = setup(HEAD + seedUser(ISSUER, CLIENT, SECRET));
    const r = await importKubelogin({ files: [file], exec, providers: [] });
    assert.equal(r.found.length, 1);
    const u = r.found[0]!;
    assert.equal(u.name, 'pocket-id');
    assert.equal(u.form, 'kubectl oidc-login');
    assert.equal(u.command, '');
    assert.equal(u.issuer, ISSUER);
    assert.equal(u.clientId, CLIENT);
    assert.equal(u.hasClientSecret, true);
    assert.deepEqual(u.extraScopes, ['groups', 'email', 'name']);
    assert.equal(u.line, 23);
    assert.equal(u.skipped, undefined);
    assert.equal(u.provider, 'id.example.com');
    assert.equal(u.newProvider, true);
    assert.match(u.notes.join(' '), /no command/);
    assert.deepEqual(r.providersToAdd, [
      { name: 'id.example.com', issuer: ISSUER, clientId: CLIENT, clientSecret: SECRET, scopes: ['openid', 'profile', 'email', 'groups', 'name'], callbackPort: 8000 },
    ]);
    // Exactly the exec changed; everything else, byte for byte, as it was.
    assert.equal(
      read(file),
      HEAD +
        `- name: pocket-id
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${HELPER}
      args:
      - credential
      - --provider
      - id.example.com
      interactiveMode: Never
      provideClusterInfo: false
      installHint: Install PocketKube and sign in.
`,
    );
    assert.ok(!read(file).includes(SECRET), 'the client secret is gone from the kubeconfig');
    assert.deepEqual(r.changed, [file]);
    assert.deepEqual(r.backups, [file + '.pocketkube.bak']);
    assert.deepEqual(leftovers(dir), []);
  });

  test('the backup keeps the old kubeconfig byte for byte except the client secret it moved, which is masked', async () => {
    const text = HEAD + seedUser(ISSUER, CLIENT, SECRET);
    const { file } = setup(text);
    await importKubelogin({ files: [file], exec, providers: [] });
    const backup = read(file + '.pocketkube.bak');
    assert.ok(!backup.includes(SECRET), 'no client secret in the backup');
    assert.equal(backup, text.replace(`--oidc-client-secret=${SECRET}`, '--oidc-client-secret=***'));
    assert.equal(fs.statSync(file + '.pocketkube.bak').mode & 0o777, 0o600);
  });

  test('the guide’s block with its placeholders left in is refused, with the placeholder named', async () => {
    const text = HEAD + seedUser('<pocket ID url>', '<pocket ID url>', '<pocket ID url>');
    const { file } = setup(text);
    const r = await importKubelogin({ files: [file], exec, providers: [] });
    assert.equal(r.found.length, 1);
    assert.match(r.found[0]!.skipped!, /^its --oidc-issuer-url is still the placeholder <pocket ID url> from the Talos guide: .*\.$/);
    assert.deepEqual(r.providersToAdd, []);
    assert.deepEqual(r.changed, []);
    assert.equal(read(file), text);
  });

  test('a client ID that is a URL (the guide’s mistake) is skipped with a one-sentence reason; others still import', async () => {
    const text = HEAD.replace('    user: admin@testing\n', '    user: admin@testing\n- name: good\n  context:\n    cluster: testing\n    user: good\n') + seedUser(ISSUER, ISSUER, ISSUER) + seedUser(ISSUER, CLIENT, SECRET).replace('name: pocket-id', 'name: good');
    const { file } = setup(text);
    const r = await importKubelogin({ files: [file], exec, providers: [] });
    const bad = r.found.find((u) => u.name === 'pocket-id')!;
    assert.equal(bad.provider, undefined);
    assert.match(bad.skipped!, /^its --oidc-client-id is a URL \(https:\/\/id\.example\.com\), not a client ID .* Client ID from .*Pocket ID.*\.$/);
    assert.equal(bad.skipped!.split(/\.\s/).length, 1, 'one sentence');
    assert.equal(r.found.find((u) => u.name === 'good')!.provider, 'id.example.com');
    assert.deepEqual(r.providersToAdd.map((p) => p.clientId), [CLIENT]);
    // The skipped user is byte for byte as it was.
    assert.ok(read(file).includes(seedUser(ISSUER, ISSUER, ISSUER)));
    assert.ok(!read(file).includes(seedUser(ISSUER, CLIENT, SECRET).replace('name: pocket-id', 'name: good')));
  });

  test('the kubelogin get-token form, flow-style args, space-separated flags, listen address and env', async () => {
    const text =
      HEAD +
      `- name: kl
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /usr/local/bin/kubelogin
      args: [get-token, --oidc-issuer-url, "https://id.example.com/", --oidc-client-id, ${CLIENT}, --oidc-client-secret, ${SECRET}, --oidc-extra-scope, "groups,offline_access", --listen-address, "127.0.0.1:18000", --skip-open-browser, --oidc-use-access-token]
      env:
      - name: KUBELOGIN_DEBUG
        value: "1"
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl-oidc_login
      args:
      - get-token
      - --oidc-issuer-url
      - https://login.example.org
      - --oidc-client-id
      - kube
      - --listen-port
      - "9000"
`;
    const { file } = setup(text);
    const r = await importKubelogin({ files: [file], exec, providers: [], dryRun: true });
    const [kl, plugin] = r.found;
    assert.equal(kl!.form, 'kubelogin');
    assert.equal(kl!.command, '/usr/local/bin/kubelogin');
    assert.equal(kl!.issuer, 'https://id.example.com/');
    assert.equal(kl!.clientId, CLIENT);
    assert.equal(kl!.hasClientSecret, true);
    assert.deepEqual(kl!.extraScopes, ['groups', 'offline_access']);
    assert.equal(kl!.callbackPort, 18000);
    assert.deepEqual(kl!.env, ['KUBELOGIN_DEBUG']);
    assert.ok(!JSON.stringify(r.found).includes(SECRET), 'the secret is not in found');
    assert.match(kl!.notes.join(' '), /access token/);
    assert.equal(plugin!.form, 'kubelogin');
    assert.equal(plugin!.callbackPort, 9000);
    assert.deepEqual(r.providersToAdd, [
      { name: 'id.example.com', issuer: ISSUER, clientId: CLIENT, clientSecret: SECRET, scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'], callbackPort: 18000 },
      { name: 'login.example.org', issuer: 'https://login.example.org', clientId: 'kube', scopes: ['openid', 'profile', 'email', 'groups'], callbackPort: 9000 },
    ]);
  });

  test('an existing provider with the same issuer and client is reused; a taken name is not', async () => {
    const text = HEAD + seedUser(ISSUER, CLIENT, SECRET) + seedUser(ISSUER + '/', 'other', 'x-secret-x').replace('name: pocket-id', 'name: other');
    const { file } = setup(text);
    const r = await importKubelogin({
      files: [file],
      exec,
      dryRun: true,
      providers: [
        { name: 'pocket', issuer: ISSUER + '/', clientId: CLIENT },
        { name: 'id.example.com', issuer: 'https://elsewhere.example', clientId: 'x' },
      ],
    });
    assert.deepEqual(r.found.map((u) => [u.name, u.provider, u.newProvider ?? false]), [['pocket-id', 'pocket', false], ['other', 'id.example.com-2', true]]);
    assert.deepEqual(r.providersToAdd.map((p) => p.name), ['id.example.com-2']);
    assert.equal(r.providersToAdd[0]!.clientSecret, 'x-secret-x');
  });

  test('dry run: writes nothing at all, and the diff shows the change with every secret as ***', async () => {
    const spaced = seedUser(ISSUER, CLIENT, SECRET)
      .replace('name: pocket-id', 'name: spaced')
      .replace(`        - --oidc-client-secret=${SECRET}\n`, `        - --oidc-client-secret\n        - ${SECRET}\n`);
    const text = HEAD + seedUser(ISSUER, CLIENT, SECRET) + spaced;
    const { dir, file } = setup(text);
    const bytes = readBytes(file);
    const mtime = fs.statSync(file).mtimeMs;
    const r = await importKubelogin({ files: [file], exec, providers: [], dryRun: true });
    assert.ok(readBytes(file).equals(bytes), 'bytes identical');
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    assert.deepEqual(fs.readdirSync(dir), ['config'], 'no backup, lock or temp file');
    assert.deepEqual(r.changed, [file]);
    assert.deepEqual(r.backups, []);
    assert.ok(!r.diff.includes(SECRET), r.diff);
    assert.match(r.diff, /^--- .*config\n\+\+\+ .*config \(PocketKube\)\n@@ -23,\d+ \+23,\d+ @@\n/);
    assert.match(r.diff, /^- {8}- --oidc-client-secret=\*\*\*$/m);
    assert.match(r.diff, /^- {8}- \*\*\*$/m);
    assert.match(r.diff, /^\+ {6}command: \/opt\/PocketKube\/resources\/bin\/pocketkube$/m);
    assert.match(r.diff, /^- {6}apiVersion: client\.authentication\.k8s\.io\/v1beta1$/m);
    // The dry run's diff is exactly what the real run then does.
    const real = await importKubelogin({ files: [file], exec, providers: [] });
    assert.equal(real.diff, r.diff);
  });

  test('only the kubelogin users change, in whichever file holds them; backups of those files only', async () => {
    const dir = tempDir('pk-kubelogin-');
    const first = path.join(dir, 'first');
    const second = path.join(dir, 'second');
    const firstText = HEAD.replace('current-context: testing\n', 'current-context: testing\npreferences: {}\n');
    const secondText = `# kept as is\napiVersion: v1\nkind: Config\nusers:\n- name: other\n  user: {token: t}\n${seedUser(ISSUER, CLIENT, SECRET)}- name: after\n  user:\n    token: t2   # trailing comment\n`;
    fs.writeFileSync(first, firstText);
    fs.writeFileSync(second, secondText, { mode: 0o640 });
    fs.chmodSync(second, 0o640);
    const r = await importKubelogin({ files: [first, second], exec, providers: [] });
    assert.deepEqual(r.changed, [second]);
    assert.deepEqual(r.backups, [second + '.pocketkube.bak']);
    assert.equal(read(first), firstText);
    assert.equal(read(second + '.pocketkube.bak'), secondText.replace(`--oidc-client-secret=${SECRET}`, '--oidc-client-secret=***'), 'the backup, less the client secret it moved');
    assert.equal(fs.statSync(second).mode & 0o777, 0o640, 'mode kept');
    const after = read(second);
    const start = after.indexOf('- name: pocket-id');
    const end = after.indexOf('- name: after');
    assert.equal(after.slice(0, start), secondText.slice(0, secondText.indexOf('- name: pocket-id')));
    assert.equal(after.slice(end), secondText.slice(secondText.indexOf('- name: after')));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['first', 'second', 'second.pocketkube.bak']);
    // Importing again finds nothing left to do.
    const again = await importKubelogin({ files: [first, second], exec, providers: [] });
    assert.deepEqual([again.found.length, again.changed, again.diff], [0, [], '']);
  });

  test('an exec that is not an absolute command is refused before anything is written', async () => {
    const text = HEAD + seedUser(ISSUER, CLIENT, SECRET);
    const { file } = setup(text);
    await assert.rejects(importKubelogin({ files: [file], exec: (p) => ({ command: 'pocketkube', args: ['credential', '--provider', p] }), providers: [] }), /absolute path/);
    assert.equal(read(file), text);
  });

  test('a file that does not parse: nothing written, the error names the line', async () => {
    const text = HEAD + seedUser(ISSUER, CLIENT, SECRET) + '\t- broken\n';
    const { file } = setup(text);
    await assert.rejects(importKubelogin({ files: [file], exec, providers: [] }), (e: unknown) => e instanceof KubeconfigError && e.line === 36 && /config line 36: .*nothing was written$/.test(e.message));
    assert.equal(read(file), text);
  });

  // The current context must not be the kubelogin user's: this machine's kubectl (the Cloud SDK's) asks
  // the current context's server for its version, running its credential plugin, even for `config view`.
  test('kubectl reads the new exec afterwards, and nothing else changed for it', { skip: skipWithoutKubectl, timeout: 60_000 }, async () => {
    const text = HEAD.replace('current-context: testing', 'current-context: admin@testing') + seedUser(ISSUER, CLIENT, SECRET);
    const { file } = setup(text);
    const before = await kubectlView([file]);
    await importKubelogin({ files: [file], exec, providers: [] });
    const after = await kubectlView([file]);
    const user = after.users.find((u) => u.name === 'pocket-id')!;
    assert.deepEqual(user.user['exec'], {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: HELPER,
      args: ['credential', '--provider', 'id.example.com'],
      env: null,
      installHint: 'Install PocketKube and sign in.',
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    const others = (v: typeof before) => ({ ...v, users: v.users.filter((u) => u.name !== 'pocket-id') });
    assert.deepEqual(others(after), others(before));
  });
});
