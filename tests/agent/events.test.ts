import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveHome } from '../../electron/core/platform/home.js';
import { displayPath } from '../../electron/core/kubeconfig/errors.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { Agent, type AgentStatus } from '../../electron/agent/agent.js';
import { runKubectl } from '../support/kubectl.js';

let dir: string;
let kubeconfig: string;
let agent: Agent;

const config = (current: string) => `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: https://127.0.0.1:1}
users:
- name: u
  user: {token: x}
contexts:
- name: one
  context: {cluster: a, user: u}
- name: two
  context: {cluster: a, user: u}
current-context: ${current}
`;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pk-events-'));
  kubeconfig = path.join(dir, 'kube', 'config');
  await mkdir(path.dirname(kubeconfig), { recursive: true });
  await writeFile(kubeconfig, config('one'), { mode: 0o600 });
  agent = new Agent({ home: resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') }), store: new MemorySecretStore(), kubeconfigFiles: [kubeconfig] });
  await agent.start();
});

after(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Subscribes to GET /v1/events and resolves with the first status that satisfies `want`. */
function nextStatus(want: (s: AgentStatus) => boolean, trigger: () => Promise<void> | void): Promise<AgentStatus> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: agent.home.socketPath, path: '/v1/events' }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let buf = '';
      let first = true;
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const status = JSON.parse(data.slice(6)) as AgentStatus;
          if (first) {
            first = false;
            Promise.resolve(trigger()).catch(reject);
            continue;
          }
          if (want(status)) {
            clearTimeout(timer);
            req.destroy();
            resolve(status);
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no matching status event within 10 s'));
    }, 10_000);
    req.on('error', () => {});
  });
}

test('the status stream sends the status at once, then again when kubectl switches context', async () => {
  const status = await nextStatus(
    (s) => s.kubeconfig.currentContext === 'two',
    async () => {
      const res = await runKubectl(['config', 'use-context', 'two'], { ...process.env, KUBECONFIG: kubeconfig });
      assert.equal(res.code, 0, res.stderr);
    },
  );
  assert.ok(status.kubeconfig.changedAt);
  assert.equal(status.kubeconfig.contexts, 2);
});

test('an editor that saves by rename is noticed', async () => {
  await nextStatus(
    (s) => s.kubeconfig.currentContext === 'one',
    async () => {
      const tmp = `${kubeconfig}.swp`;
      await writeFile(tmp, config('one'));
      await rename(tmp, kubeconfig);
    },
  );
});

test('a kubeconfig that disappears and comes back is followed', async () => {
  await nextStatus((s) => s.kubeconfig.contexts === 0, () => unlink(kubeconfig));
  const back = await nextStatus((s) => s.kubeconfig.contexts === 2, () => writeFile(kubeconfig, config('two')));
  assert.equal(back.kubeconfig.currentContext, 'two');
});

test('a kubeconfig that stops parsing is reported with its line, not fatal', async () => {
  // Line 3 is where kubectl also stops: "yaml: line 3: mapping values are not allowed in this context".
  const text = 'apiVersion: v1\nkind: Config\ncurrent-context: one: two\ncontexts: []\n';
  const broken = await nextStatus((s) => s.kubeconfig.errors.length > 0, () => writeFile(kubeconfig, text));
  assert.deepEqual(broken.kubeconfig.errors, [`${displayPath(kubeconfig)} line 3: this is not valid YAML (Nested mappings are not allowed in compact mappings)`]);
  await nextStatus((s) => s.kubeconfig.errors.length === 0, () => writeFile(kubeconfig, config('one')));
});
