/**
 * addContexts: several contexts in one write, read back by the real kubectl, in each way a kubeconfig
 * may hold its lists (absent, empty, block, flow), and nothing written when one item clashes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { addContexts, type AddContextOptions } from '../../electron/core/kubeconfig/index.js';
import { CA_DATA, EXEC, kubectlView, read, skipWithoutKubectl, tempDir } from '../support/kubeconfig.js';
import { removeTempDir } from '../support/temp.js';

const dir = tempDir('pk-batch-');
after(() => removeTempDir(dir));

const three = (file: string): AddContextOptions[] =>
  ['a', 'b', 'c'].map((name, i) => ({ files: [file], provider: 'team', name, server: `https://10.9.0.${i + 1}:6443`, caData: CA_DATA, exec: EXEC, use: name === 'a' }));

const START: Record<string, string | undefined> = {
  'no file': undefined,
  'empty lists': 'apiVersion: v1\nkind: Config\nclusters:\nusers:\ncontexts:\n',
  'block lists': `apiVersion: v1\nkind: Config\nclusters:\n- name: mine\n  cluster:\n    server: https://192.168.1.1:6443\nusers:\n- name: me\n  user:\n    token: abc\ncontexts:\n- name: me\n  context:\n    cluster: mine\n    user: me\ncurrent-context: me\n`,
  'flow lists': 'apiVersion: v1\nkind: Config\nclusters: [{name: mine, cluster: {server: "https://192.168.1.1:6443"}}]\nusers: []\ncontexts: [{name: me, context: {cluster: mine, user: mine}}]\n',
};

for (const [name, start] of Object.entries(START)) {
  test(`three contexts in one write, from ${name}: kubectl reads each, one user for all, and the backup is the file before`, { skip: skipWithoutKubectl }, async () => {
    const file = path.join(dir, name.replace(/ /g, '-'), 'config');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (start !== undefined) fs.writeFileSync(file, start);
    const results = await addContexts(three(file));
    assert.deepEqual(results.map((r) => [r.context, r.changed]), [['team@a', true], ['team@b', true], ['team@c', true]]);
    const view = await kubectlView([file]);
    for (const c of ['a', 'b', 'c']) assert.deepEqual(view.contexts.find((x) => x.name === `team@${c}`)?.context, { cluster: c, user: 'team' });
    assert.equal(view.users.filter((u) => u.name === 'team').length, 1);
    assert.equal(view.clusters.find((x) => x.name === 'b')?.cluster['server'], 'https://10.9.0.2:6443');
    if (start === undefined || !/current-context: me/.test(start)) assert.equal(view['current-context'], 'team@a');
    if (start !== undefined) assert.equal(read(`${file}.pocketkube.bak`), start);
    assert.deepEqual((await addContexts(three(file))).map((r) => r.changed), [false, false, false], 'again: nothing to write');
  });
}

test('one clashing item in a batch writes none of them', async () => {
  const file = path.join(dir, 'clash', 'config');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const start = 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://192.168.1.1:6443"}\n';
  fs.writeFileSync(file, start);
  await assert.rejects(addContexts(three(file)), /cluster "c" in .* already exists with server "https:\/\/192\.168\.1\.1:6443".*nothing was written/);
  assert.equal(read(file), start);
});
