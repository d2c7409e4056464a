/**
 * A kubeconfig another user owns, in a folder we may write: rewriting it by rename would hand it to us. It is
 * refused with one sentence instead, and the file stays as it was, its owner included. Needs root to make
 * such a file and to run the write as another user (nobody).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tempDir } from '../support/kubeconfig.js';
import { inCI } from '../support/ci.js';

const KUBECONFIG_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../electron/core/kubeconfig/index.js');
const NOBODY = 65534;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const CONFIG = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: https://127.0.0.1:6443}
users:
- name: u
  user: {token: t}
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: u}
current-context: a
`;

// In CI (.ci/run runs as root) not being root fails the test instead of hiding it.
test('a kubeconfig owned by another user is refused with one sentence, not taken over', { skip: isRoot || inCI() ? false : 'needs root to run a write as another user' }, () => {
  assert.ok(isRoot, 'this test needs root to run a write as another user; run the CI tests as root, as .ci/run does');
  const dir = tempDir('pk-owner-');
  fs.chmodSync(dir, 0o777); // nobody may create files here, as a shared folder would allow
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, CONFIG, { mode: 0o644 });
  const script = `import(${JSON.stringify(KUBECONFIG_MODULE)}).then((k) => k.useContext('b', [${JSON.stringify(file)}])).then(
    () => console.log(JSON.stringify({ ok: true })),
    (e) => console.log(JSON.stringify({ ok: false, message: e.message })),
  );`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', cwd: dir });
  assert.equal(res.status, 0, res.stderr);
  const out = JSON.parse(res.stdout.trim()) as { ok: boolean; message?: string };
  assert.equal(out.ok, false, 'the write was refused');
  assert.match(out.message!, /config belongs to another user \(uid 0\), and rewriting it would make it yours; nothing was written\. Run this as that user/);
  assert.equal(fs.statSync(file).uid, 0, 'the owner is unchanged');
  assert.equal(fs.readFileSync(file, 'utf8'), CONFIG);
});
