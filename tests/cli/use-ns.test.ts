/**
 * kubectx and kubens habits against the real kubectl: `use -`, `use` with no argument (a list, or fzf on a
 * terminal), `ns [NAMESPACE|-]` written where kubectl writes it, through the same safe writer.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { kubectl, kubectlCurrent, kubectlView } from '../support/kubeconfig.js';
import { run } from '../support/run.js';
import { CLI, sandbox, type Sandbox } from './cli.js';
import { inCI } from '../support/ci.js';

// Two files, as KUBECONFIG=first:second: current-context is in the first, context "two" only in the second.
const FIRST = `# my main config
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443 # the VIP
users:
- name: u
  user:
    token: t0ken
contexts:
- name: one
  context:
    cluster: c
    user: u
current-context: one
`;
const SECOND = `apiVersion: v1
kind: Config
contexts:
- name: two   # staging
  context:
    cluster: c
    namespace: web
    user: u
`;

let box: Sandbox;
let files: string[];
beforeEach(async () => {
  await box?.remove();
  box = sandbox('pk-use-');
  files = [path.join(box.dir, 'first'), path.join(box.dir, 'second')];
  await writeFile(files[0]!, FIRST);
  await writeFile(files[1]!, SECOND);
  box.env.KUBECONFIG = files.join(':');
});
after(() => box.remove());

test('use - switches back to the context before the last `use`, and back again', async () => {
  assert.equal((await box.cli(['use', 'two'])).code, 0);
  assert.equal(await kubectlCurrent(files), 'two');
  const back = await box.cli(['use', '-']);
  assert.deepEqual([back.code, back.stdout], [0, 'Switched to context "one" (was two).\n']);
  assert.equal(await kubectlCurrent(files), 'one');
  assert.equal((await box.cli(['use', '-'])).code, 0);
  assert.equal(await kubectlCurrent(files), 'two');
  assert.match(await readFile(files[0]!, 'utf8'), /^# my main config\n[\s\S]*server: https:\/\/127\.0\.0\.1:6443 # the VIP\n/, 'the rest of the file is kept');
});

test('use - with no earlier switch says so in one sentence and changes nothing', async () => {
  const r = await box.cli(['use', '-']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^pocketkube: There is no previous context yet: `pocketkube use -` goes back to .+\.\n$/);
  assert.equal(await readFile(files[0]!, 'utf8'), FIRST);
});

test('use with no argument lists the contexts with the current one marked (and --json), when not on a terminal', async () => {
  const r = await box.cli(['use']);
  assert.deepEqual([r.code, r.stdout], [0, '* one\n  two\n']);
  const j = await box.cli(['use', '--json']);
  assert.deepEqual(JSON.parse(j.stdout), { currentContext: 'one', contexts: ['one', 'two'] });
});

test('use with no argument on a terminal hands the choice to fzf, as kubectx does', async (t) => {
  if (!existsSync('/usr/bin/fzf')) {
    if (inCI()) throw new Error('/usr/bin/fzf is missing: .ci/run installs fzf for this test');
    return t.skip('fzf is not installed here');
  }
  // fzf's own options pick for us: the query "two" and --select-1 take the one match without a key press.
  const env = { ...box.env, TERM: 'xterm', FZF_DEFAULT_OPTS: '--query=two --select-1' };
  const r = await run('script', ['-qec', `${process.execPath} ${CLI} use`, '/dev/null'], env);
  assert.match(r.stdout, /Switched to context "two" \(was one\)\./);
  assert.equal(await kubectlCurrent(files), 'two');
  const none = await run('script', ['-qec', `${process.execPath} ${CLI} use`, '/dev/null'], { ...env, FZF_DEFAULT_OPTS: '--query=nothing-matches --exit-0' });
  assert.match(none.stdout, /No context picked; nothing changed\./);
  assert.equal(await kubectlCurrent(files), 'two');
});

test('ns shows the namespace kubectl uses, "default" when the context sets none', async () => {
  assert.deepEqual((await box.cli(['ns'])).stdout, 'default\n');
  await box.cli(['use', 'two']);
  assert.deepEqual((await box.cli(['ns'])).stdout, 'web\n');
  const minify = await kubectl(files, 'config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}');
  assert.equal(minify.stdout, 'web');
});

test('ns NAMESPACE writes what `kubectl config set-context --current --namespace` writes, keeping comments, with a backup', async () => {
  // The same change made by kubectl on copies, for comparison.
  const copies = [path.join(box.dir, 'k-first'), path.join(box.dir, 'k-second')];
  for (const [i, f] of files.entries()) await copyFile(f, copies[i]!);
  for (const [ctx, ns] of [['one', 'kube-system'], ['two', 'monitoring']] as const) {
    await box.cli(['use', ctx]);
    await kubectl(copies, 'config', 'use-context', ctx);
    const r = await box.cli(['ns', ns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Context "${ctx}" now uses namespace "${ns}" \\(was (default|web)\\)\\.\\n$`));
    const k = await kubectl(copies, 'config', 'set-context', '--current', `--namespace=${ns}`);
    assert.equal(k.code, 0, k.stderr);
  }
  const ours = await kubectlView(files);
  const theirs = await kubectlView(copies);
  assert.deepEqual(ours.contexts, theirs.contexts);
  const second = await readFile(files[1]!, 'utf8');
  assert.match(second, /- name: two {3}# staging\n/);
  assert.match(second, /namespace: monitoring/);
  assert.ok(existsSync(`${files[1]}.pocketkube.bak`), 'a backup of the file that changed');
});

test('ns - goes back to the namespace before the last `ns` for this context', async () => {
  await box.cli(['use', 'two']);
  await box.cli(['ns', 'db']);
  const back = await box.cli(['ns', '-']);
  assert.deepEqual([back.code, back.stdout], [0, 'Context "two" now uses namespace "web" (was db).\n']);
  const minify = await kubectl(files, 'config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}');
  assert.equal(minify.stdout, 'web');
  const none = await box.cli(['use', 'one']).then(() => box.cli(['ns', '-']));
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^pocketkube: There is no previous namespace for context "one" yet/);
});

test('ns refuses a name that is not a namespace, and writes nothing', async () => {
  const r = await box.cli(['ns', 'Web_App']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'pocketkube: "Web_App" is not a namespace name (lowercase letters, digits and "-", at most 63 characters); nothing was written.\n');
  assert.equal(await readFile(files[0]!, 'utf8'), FIRST);
});
