/**
 * useContext's fast path (fast reader + one-line splice) keeps every promise of the full one: kubectl's
 * placement rules, byte preservation, backup, mode, links, locks, re-reading a file that changed, and
 * refusing broken files. Files it cannot handle go to the full path, with the same result.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { hugeConfig } from '../support/corpus.js';
import { KubeconfigError, listContexts, useContext } from '../../electron/core/kubeconfig/index.js';
import { kubectl, skipWithoutKubectl, kubectlCurrent, kubectlView, leftovers, read, tempDir } from '../support/kubeconfig.js';
import { WriteRecorder } from './write-recorder.js';

const BLOCK = `# written by kubectl, then commented by hand
apiVersion: v1
clusters:
- cluster:
    server: https://a.example:6443   # the VIP
  name: a
contexts:
- context:
    cluster: a
    user: a
  name: one
- context:
    cluster: a
    namespace: web
    user: a
  name: two
current-context: one # keep this comment
kind: Config
preferences: {}
users:
- name: a
  user:
    token: t0ken
`;

function setup(content: string | null, name = 'config', dir = tempDir()): { dir: string; file: string } {
  const file = path.join(dir, name);
  if (content !== null) fs.writeFileSync(file, content);
  return { dir, file };
}

/** Run useContext and say which path it took. */
async function use(name: string, files: string[], writes = new WriteRecorder()): Promise<{ result: Awaited<ReturnType<typeof useContext>>; path: 'fast' | 'full' }> {
  const result = await useContext(name, files, { observer: writes });
  assert.equal(writes.paths.length, 1, `one path taken, not ${JSON.stringify(writes.paths)}`);
  return { result, path: writes.paths[0]! };
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<KubeconfigError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KubeconfigError, String(e));
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a KubeconfigError');
}

describe('useContext, fast path', () => {
  test('changes only the current-context value, keeps its comment, backs up, keeps the mode', async () => {
    const { dir, file } = setup(BLOCK);
    fs.chmodSync(file, 0o640);
    const r = await use('two', [file]);
    assert.equal(r.path, 'fast');
    assert.deepEqual(r.result, { file, previous: 'one' });
    assert.equal(read(file), BLOCK.replace('current-context: one #', 'current-context: two #'));
    assert.equal(read(file + '.pocketkube.bak'), BLOCK);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.equal(fs.statSync(file + '.pocketkube.bak').mode & 0o777, 0o600);
    assert.deepEqual(leftovers(dir), []);
  });

  test('writes the value in the style it had: plain, "double", \'single\', empty, ~', async () => {
    for (const [was, now] of [
      ['current-context: one\n', 'current-context: two\n'],
      ['current-context: ""\n', 'current-context: "two"\n'],
      ["current-context: 'one'\n", "current-context: 'two'\n"],
      ['current-context:\n', 'current-context: two\n'],
      ['current-context: ~ # unset\n', 'current-context: two # unset\n'],
      ['current-context: one\r\n', 'current-context: two\r\n'],
    ] as const) {
      const text = BLOCK.replace('current-context: one # keep this comment\n', was);
      const { file } = setup(text);
      const r = await use('two', [file]);
      assert.equal(r.path, 'fast', was);
      assert.equal(read(file), text.replace(was, now));
    }
  });

  test('a name that YAML would read as something else is quoted', async () => {
    const { file } = setup(BLOCK.replace('  name: two\n', '  name: "yes"\n'));
    assert.equal((await use('yes', [file])).path, 'fast');
    assert.match(read(file), /^current-context: "yes" # keep this comment$/m);
    assert.equal((await listContexts([file])).currentContext, 'yes');
  });

  test('switching to the current context writes nothing', async () => {
    const { dir, file } = setup(BLOCK);
    const writes = new WriteRecorder();
    const r = await use('one', [file], writes);
    assert.deepEqual(r.result, { file, previous: 'one' });
    assert.equal(writes.commits, 0);
    assert.deepEqual(fs.readdirSync(dir), ['config']);
  });

  test('an unknown name is refused with suggestions, nothing written', async () => {
    const { dir, file } = setup(BLOCK);
    await rejects(useContext('tow', [file]), /there is no context "tow" \(did you mean "two"\?\); nothing was written/);
    assert.equal(read(file), BLOCK);
    assert.deepEqual(fs.readdirSync(dir), ['config']);
  });

  test('a file the fast reader does not take goes to the full path, same outcome', async () => {
    const flow = BLOCK.replace('    token: t0ken\n', '    token: t0ken\n    as-groups: [a, b]\n');
    const { file } = setup(flow);
    const r = await use('two', [file]);
    assert.equal(r.path, 'full');
    assert.equal(read(file), flow.replace('current-context: one #', 'current-context: two #'));
  });

  test('a file without a current-context line gets one from the full path', async () => {
    const text = BLOCK.replace('current-context: one # keep this comment\n', '');
    const { file } = setup(text);
    assert.equal((await use('two', [file])).path, 'full');
    assert.equal((await listContexts([file])).currentContext, 'two');
  });

  for (const [label, broken, pattern] of [
    ['a YAML error', BLOCK.replace('users:\n', 'users:\n\t- name: tabbed\n'), /config line 21: this is not valid YAML/],
    ['a value kubectl refuses', BLOCK.replace('    server:', '    certificate-authority-data: not-base64!\n    server:'), /config line 5: clusters\[0\]\.cluster\.certificate-authority-data: expected base64 data/],
    ['a name used twice', BLOCK.replace('  name: two\n', '  name: one\n'), /config line \d+: context name "one" is used twice in this file \(also at line \d+\)/],
  ] as const) {
    test(`${label} in any file: nothing written, the error names file and line`, async () => {
      const { dir, file } = setup(BLOCK, 'first');
      const second = setup(broken, 'config', dir).file;
      await rejects(useContext('two', [file, second]), pattern);
      await rejects(useContext('two', [second, file]), pattern);
      assert.equal(read(file), BLOCK);
      assert.equal(read(second), broken);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['config', 'first']);
    });
  }

  test('a symlinked kubeconfig stays a link; the file it points to is edited', async () => {
    const dir = tempDir();
    const real = setup(BLOCK, 'real.yaml', dir).file;
    const link = path.join(dir, 'config');
    fs.symlinkSync('real.yaml', link);
    assert.equal((await use('two', [link])).path, 'fast');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.match(read(real), /^current-context: two /m);
    assert.equal(read(real + '.pocketkube.bak'), BLOCK);
  });

  test('waits for kubectl’s lock; a change made meanwhile is re-read, never overwritten', async () => {
    const { dir, file } = setup(BLOCK);
    fs.writeFileSync(file + '.lock', '');
    const writes = new WriteRecorder(() => {
      fs.writeFileSync(file, read(file).replace('contexts:\n', 'contexts:\n- context:\n    cluster: a\n    user: a\n  name: meanwhile\n'));
      fs.rmSync(file + '.lock');
    });
    assert.equal((await use('two', [file], writes)).path, 'fast');
    assert.equal(writes.retries, 1);
    const listed = await listContexts([file]);
    assert.deepEqual(listed.contexts.map((c) => c.name), ['meanwhile', 'one', 'two']);
    assert.equal(listed.currentContext, 'two');
    assert.deepEqual(leftovers(dir), []);
  });

  test('a lock that stays is reported, and nothing is written', async () => {
    const { file } = setup(BLOCK);
    fs.writeFileSync(file + '.lock', '');
    await rejects(useContext('two', [file], { lock: { timeoutMs: 100 } }), /is locked by another program/);
    assert.equal(read(file), BLOCK);
    fs.unlinkSync(file + '.lock');
  });

  test('the 5,000-context file takes the fast path and changes one line', async () => {
    const huge = hugeConfig();
    const { file } = setup(huge);
    const r = await use('c17', [file]);
    assert.equal(r.path, 'fast');
    assert.equal(read(file), huge.replace('current-context: c4999\n', 'current-context: c17\n'));
  });
});

describe('useContext, fast path, against kubectl', { skip: skipWithoutKubectl }, () => {
  const layouts: [string, (string | null)[]][] = [
    ['one file', [BLOCK]],
    ['current-context set only in the second file', [BLOCK.replace('current-context: one # keep this comment\n', 'current-context: ""\n'), BLOCK.replace(/name: (one|two)$/gm, 'name: $1-b')]],
    ['first file missing', [null, BLOCK]],
    ['context defined only in the second file', [BLOCK, BLOCK.replace('name: two', 'name: three')]],
  ];
  for (const [label, contents] of layouts) {
    test(`writes current-context where kubectl use-context does: ${label}`, async () => {
      const dir = tempDir();
      const lay = (side: string): string[] =>
        contents.map((c, i) => {
          const p = path.join(dir, side, String(i), 'config');
          fs.mkdirSync(path.dirname(p), { recursive: true });
          if (c !== null) fs.writeFileSync(p, c);
          return p;
        });
      const ours = lay('ours');
      const theirs = lay('theirs');
      const target = contents.some((c) => c?.includes('name: three')) ? 'three' : 'two';
      const before = await kubectlView(ours);
      await useContext(target, ours);
      const k = await kubectl(theirs, 'config', 'use-context', target);
      assert.equal(k.code, 0, k.stderr);
      assert.equal(await kubectlCurrent(ours), target);
      // The same file got current-context, and kubectl sees nothing else changed.
      const setIn = (files: string[]) => files.map((f) => (fs.existsSync(f) && new RegExp(`^current-context: "?${target}"?`, 'm').test(read(f)) ? 1 : 0));
      assert.deepEqual(setIn(ours), setIn(theirs));
      assert.deepEqual(await kubectlView(ours), { ...before, 'current-context': target });
    });
  }
});
