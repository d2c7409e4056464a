/**
 * Every corpus file goes through add → add (use) → use (back) → remove, and after each step the real
 * kubectl must read exactly what we meant, and every byte we do not own must be where it was.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { corpus, type CorpusCase } from '../support/corpus.js';
import { addContext, listContexts, removeContext, useContext } from '../../electron/core/kubeconfig/index.js';
import {
  CA_DATA,
  EXEC,
  insertions,
  isInsertionOnly,
  skipWithoutKubectl,
  kubectlCurrent,
  kubectlView,
  tempDir,
  type KubectlView,
} from '../support/kubeconfig.js';

const CLUSTER = 'talos';
const PROVIDER = 'pocket-id';
const CONTEXT = `${PROVIDER}@${CLUSTER}`;
const SERVER = 'https://10.5.0.2:6443';

function setUp(c: CorpusCase): { paths: string[]; originals: (string | null)[] } {
  const dir = tempDir();
  const paths = c.files.map((_, i) => path.join(dir, `config-${i}`));
  c.files.forEach((content, i) => {
    if (content !== null) fs.writeFileSync(paths[i]!, content);
  });
  return { paths, originals: [...c.files] };
}

function readAll(paths: string[]): (string | null)[] {
  return paths.map((p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null));
}

function without<T extends { name: string }>(list: T[], name: string): T[] {
  return list.filter((e) => e.name !== name);
}

/** kubectl's view after our add must be its view before plus exactly our three entries. */
function assertOnlyOursAdded(before: KubectlView, after: KubectlView): void {
  const cluster = after.clusters.find((c) => c.name === CLUSTER);
  assert.ok(cluster, 'kubectl sees our cluster');
  assert.equal(cluster.cluster['server'], SERVER);
  assert.equal(cluster.cluster['certificate-authority-data'], CA_DATA);
  assert.deepEqual(cluster.cluster['extensions'], [{ name: 'pocketkube', extension: { created: true } }]);
  const user = after.users.find((u) => u.name === PROVIDER);
  assert.ok(user, 'kubectl sees our user');
  const exec = user.user['exec'] as Record<string, unknown>;
  assert.equal(exec['apiVersion'], 'client.authentication.k8s.io/v1');
  assert.equal(exec['command'], EXEC.command);
  assert.deepEqual(exec['args'], EXEC.args);
  assert.equal(exec['interactiveMode'], 'Never');
  assert.equal(exec['provideClusterInfo'], false);
  assert.equal(exec['installHint'], EXEC.installHint);
  const ctx = after.contexts.find((c) => c.name === CONTEXT);
  assert.ok(ctx, 'kubectl sees our context');
  assert.deepEqual(ctx.context, { cluster: CLUSTER, user: PROVIDER, namespace: 'default' });
  assert.deepEqual(
    { ...after, clusters: without(after.clusters, CLUSTER), users: without(after.users, PROVIDER), contexts: without(after.contexts, CONTEXT) },
    before,
    'nothing else changed for kubectl',
  );
}

/** Text of `now` with one `current-context: ""` we inserted taken out again (block or flow style). */
function withoutClearedCurrent(now: string, original: string): string {
  for (const pattern of [/\r?\n *current-context: ""(?=\r?\n|$)/, /^ *current-context: ""\r?\n/m, /, "?current-context"?: ""/]) {
    const m = pattern.exec(now);
    if (m && !pattern.test(original)) return now.slice(0, m.index) + now.slice(m.index + m[0].length);
  }
  return now;
}

describe('kubeconfig corpus round trip (add → use → remove) checked with the real kubectl', { skip: skipWithoutKubectl }, () => {
  test('the corpus holds at least 50 kubeconfigs', () => {
    assert.ok(corpus.length >= 50, `${corpus.length} cases`);
  });

  for (const c of corpus) {
    test(`round trip keeps every byte we do not own: ${c.name}`, async () => {
      const { paths, originals } = setUp(c);
      const before = await kubectlView(paths);
      const currentBefore = before['current-context'];
      const firstExisting = c.files.findIndex((f) => f !== null);
      const target = firstExisting === -1 ? c.files.length - 1 : firstExisting;
      const targetSetsCurrent = !!(await listContexts([paths[target]!])).currentContext;

      // 1. Add, without switching.
      const added = await addContext({ files: paths, name: CLUSTER, provider: PROVIDER, server: SERVER, caData: CA_DATA, namespace: 'default', exec: EXEC });
      assert.deepEqual(added, { context: CONTEXT, cluster: CLUSTER, user: PROVIDER, file: paths[target], changed: true });
      const afterAdd = readAll(paths);
      afterAdd.forEach((text, i) => {
        if (i !== target) assert.equal(text, originals[i], `file ${i} is not touched`);
      });
      const original = originals[target] ?? '';
      if (!c.replaces && originals[target] !== null) {
        assert.ok(isInsertionOnly(original, afterAdd[target]!), `only insertions, got: ${JSON.stringify(insertions(original, afterAdd[target]!))}`);
      }
      assertOnlyOursAdded(before, await kubectlView(paths));
      if (originals[target] !== null) {
        assert.equal(fs.readFileSync(paths[target] + '.pocketkube.bak', 'utf8'), original, 'backup holds the previous content');
      }

      // 2. Adding again changes nothing; with use it only switches.
      let commits = 0;
      const again = await addContext(
        { files: paths, name: CLUSTER, provider: PROVIDER, server: SERVER, caData: CA_DATA, namespace: 'default', exec: EXEC },
        { observer: { committed: () => commits++ } },
      );
      assert.equal(again.changed, false);
      assert.equal(commits, 0, 'no write when nothing changes');
      assert.deepEqual(readAll(paths), afterAdd);
      const used = await addContext({ files: paths, name: CLUSTER, provider: PROVIDER, server: SERVER, caData: CA_DATA, namespace: 'default', exec: EXEC, use: true });
      assert.equal(used.changed, currentBefore !== CONTEXT);
      assert.equal(await kubectlCurrent(paths), CONTEXT);
      const listed = await listContexts(paths);
      assert.deepEqual(listed.errors, []);
      assert.equal(listed.currentContext, CONTEXT);
      assert.ok(listed.contexts.some((x) => x.name === CONTEXT && x.current && x.ours && x.server === SERVER));

      // 3. Switch back: the files are exactly as after step 1.
      if (currentBefore) {
        const back = await useContext(currentBefore, paths);
        assert.equal(back.previous, CONTEXT);
        assert.equal(back.file, paths[target]);
        if (targetSetsCurrent) assert.deepEqual(readAll(paths), afterAdd);
        assert.equal(await kubectlCurrent(paths), currentBefore);
      }

      // 4. Remove: the files are the originals again.
      const removed = await removeContext(CONTEXT, paths);
      assert.equal(removed.removed.length, currentBefore ? 3 : 4, removed.removed.join(', '));
      assert.equal(removed.currentContextCleared, !currentBefore);
      const expected = c.afterRemove ?? originals;
      const final = readAll(paths);
      final.forEach((text, i) => {
        const want = expected[i] ?? null;
        if (text === want) return;
        assert.equal(withoutClearedCurrent(text ?? '', want ?? ''), want, `file ${i} after remove`);
      });
      const view = await kubectlView(paths);
      assert.deepEqual({ ...view, 'current-context': currentBefore }, before, 'kubectl sees the original config again');
    });
  }
});
