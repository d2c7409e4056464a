import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterFromKubeconfigText, suggestClusters } from './setup.js';

const ctx = (name: string, cluster: string, user: string, ours = false) => ({ name, cluster, user, file: '/k', current: false, ours });

test('talosctl admin contexts are offered first, leftovers included, and clusters PocketKube covers are not', () => {
  const got = suggestClusters([
    ctx('kind-dev', 'kind-dev', 'kind-dev'),
    ctx('admin@prod', 'prod', 'admin@prod'),
    ctx('pocket-id@prod', 'prod', 'pocket-id', true),
    ctx('admin@lab-1', 'lab-1', 'admin@lab-1'),
    ctx('admin@lab', 'lab', 'admin@lab'),
  ]);
  assert.deepEqual(
    got.map((s) => [s.context, s.talos]),
    [
      ['admin@lab', true],
      ['admin@lab-1', true],
      ['kind-dev', false],
    ],
  );
});

test('a kubeconfig printed by talosctl gives its first cluster server and CA', () => {
  const text = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: TFMwdA==
contexts:
- name: admin@prod
  context: {cluster: prod, user: admin@prod}
users:
- name: admin@prod
  user: {client-certificate-data: eA==, client-key-data: eA==}
`;
  assert.deepEqual(clusterFromKubeconfigText(text), { name: 'prod', server: 'https://10.0.0.1:6443', caData: 'TFMwdA==' });
});

test('a kubeconfig without a cluster, or that does not parse, is refused in one sentence', () => {
  assert.throws(() => clusterFromKubeconfigText('clusters: []\n', 'x.yaml'), /x.yaml has no cluster with a server; nothing was written\./);
  assert.throws(() => clusterFromKubeconfigText('clusters: [\n', 'x.yaml'), /x.yaml does not parse/);
});
