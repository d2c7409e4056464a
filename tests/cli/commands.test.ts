/**
 * The kubeconfig and provider commands as a user types them: `pocketkube` (resources/bin) as a process,
 * against a signed-in `pocketkube agent` process, the Pocket ID stand-in and the API server stand-in, with
 * KUBECONFIG naming two files (ours, and one as `talosctl kubeconfig` leaves it). The real kubectl reads
 * every result, and runs through the contexts the commands wrote. Usage mistakes exit 2 with one sentence
 * and change nothing.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { AgentClient } from '../../electron/client/agent-client.js';
import { credentialCacheDir } from '../../electron/core/credential/credential-cache.js';
import { secretKeys } from '../../electron/core/session/providers.js';
import { kubectlContextNames, kubectlCurrent, kubectlView } from '../support/kubeconfig.js';
import { HELPER, launchChromium, run, Stack, type RunResult } from '../support/stack.js';

const stack = new Stack();
let browser: Browser;
let agent: ChildProcess;
/** KUBECONFIG: PocketKube's file first (where it writes), then talosctl's. */
let files: string[];
let talosFile: string;

/** What `talosctl kubeconfig -` prints for a cluster named prod: its admin context, with a client certificate. */
function talosKubeconfig(name: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: ${name}
    cluster:
      server: ${stack.api.server}
      certificate-authority-data: ${Buffer.from(stack.api.caPem).toString('base64')}
users:
  - name: admin@${name}
    user:
      client-certificate-data: ${Buffer.from('not a real certificate').toString('base64')}
      client-key-data: ${Buffer.from('not a real key').toString('base64')}
contexts:
  - name: admin@${name}
    context:
      cluster: ${name}
      namespace: default
      user: admin@${name}
current-context: admin@${name}
`;
}

before(async () => {
  browser = await launchChromium();
  await stack.start();
  talosFile = path.join(stack.dir, 'talos-kubeconfig');
  await writeFile(talosFile, talosKubeconfig('prod'), { mode: 0o600 });
  // Our file exists first, so the writes land in it (kubectl writes to the first file that exists).
  await mkdir(path.dirname(stack.kubeconfig), { recursive: true });
  await writeFile(stack.kubeconfig, '# my kubeconfig\napiVersion: v1\nkind: Config\n', { mode: 0o600 });
  files = [stack.kubeconfig, talosFile];
  stack.env.KUBECONFIG = files.join(path.delimiter);
  agent = await stack.signedInAgentProcess(browser);
});
after(async () => {
  await browser?.close();
  await stack.close();
});

const cli = (args: string[], input?: string): Promise<RunResult> => run(HELPER, args, stack.env, { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });

/** The bytes of every kubeconfig file, to show a command changed nothing. */
async function snapshot(): Promise<string[]> {
  return Promise.all(files.map((f) => readFile(f, 'utf8')));
}

/** kubectl, through the given context, asking the API server stand-in who it is (the helper supplies the token). */
async function whoamiThrough(context: string): Promise<RunResult> {
  return stack.kubectl(['--context', context, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
}

const ours = `${stack.provider}@talos-e2e`;

describe('contexts', () => {
  test('lists every context across the KUBECONFIG files as kubectl sees them, marks the current one and PocketKube\'s', async () => {
    const res = await cli(['contexts']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    const lines = res.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split('\t')[0]),
      [`* ${ours}  (PocketKube)`, '  admin@prod'],
    );
    assert.deepEqual(lines.map((l) => l.split('\t')[2]), files, 'each with the file it is in');
    assert.deepEqual(lines.map((l) => l.slice(2).split(/[\t ]/)[0]).sort(), (await kubectlContextNames(files)).sort());
    assert.equal(await kubectlCurrent(files), ours);
  });

  test('--json says which provider each of ours uses and which is current, as kubectl does', async () => {
    const res = await cli(['contexts', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const json = JSON.parse(res.stdout) as { files: string[]; currentContext: string; contexts: { name: string; ours: boolean; provider?: string; current: boolean; server?: string }[]; errors: string[] };
    assert.deepEqual(json.files, files);
    assert.equal(json.currentContext, await kubectlCurrent(files));
    assert.deepEqual(json.errors, []);
    const byName = new Map(json.contexts.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), (await kubectlContextNames(files)).sort());
    assert.equal(byName.get(ours)?.ours, true);
    assert.equal(byName.get(ours)?.provider, stack.provider);
    assert.equal(byName.get(ours)?.current, true);
    assert.equal(byName.get('admin@prod')?.ours, false);
    assert.equal(byName.get('admin@prod')?.server, stack.api.server);
  });
});

describe('cluster list', () => {
  test('shows PocketKube\'s contexts and offers talosctl\'s admin context to add', async () => {
    const res = await cli(['cluster', 'list']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      res.stdout,
      `* ${ours}\t${stack.api.server}\t${stack.kubeconfig}\n\nClusters you can add (server and CA are reused):\n  pocketkube cluster add --from-context admin@prod --provider P   # talosctl admin context\n`,
    );
    const json = JSON.parse((await cli(['cluster', 'list', '--json'])).stdout) as { clusters: { name: string }[]; canAdd: { context: string; cluster: string; talos: boolean }[] };
    assert.deepEqual(json.clusters.map((c) => c.name), [ours]);
    assert.deepEqual(json.canAdd.map((c) => [c.context, c.cluster, c.talos]), [['admin@prod', 'prod', true]]);
  });
});

describe('use', () => {
  test('switches current-context as `kubectl config use-context` does, and back', async () => {
    const res = await cli(['use', 'admin@prod']);
    assert.deepEqual([res.code, res.stdout, res.stderr], [0, `Switched to context "admin@prod" (was ${ours}).\n`, '']);
    assert.equal(await kubectlCurrent(files), 'admin@prod');
    const back = await cli(['use', ours]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await kubectlCurrent(files), ours);
    assert.equal(await readFile(talosFile, 'utf8'), talosKubeconfig('prod'), 'talosctl\'s file is left byte for byte');
  });

  test('an unknown context is one sentence, exit 1, and nothing is written', async () => {
    const before = await snapshot();
    const res = await cli(['use', 'admin@nope']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^pocketkube: [^\n]*no context "admin@nope"[^\n]*\n$/);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('cluster add --from-kubeconfig', () => {
  test('FILE: takes the server and CA from talosctl\'s output, writes our context, and kubectl signs in through it', async () => {
    const file = path.join(stack.dir, 'staging.yaml');
    await writeFile(file, talosKubeconfig('staging'));
    const res = await cli(['cluster', 'add', '--from-kubeconfig', file, '--provider', stack.provider]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `Wrote context ${stack.provider}@staging (cluster staging, user ${stack.provider}) in ${stack.kubeconfig}.\nSwitch to it with \`pocketkube use ${stack.provider}@staging\`.\n`);
    assert.equal(await kubectlCurrent(files), ours, 'current-context changes only with --use');
    const view = await kubectlView(files);
    const cluster = view.clusters.find((c) => c.name === 'staging')!.cluster;
    assert.equal(cluster.server, stack.api.server);
    assert.equal(cluster['certificate-authority-data'], Buffer.from(stack.api.caPem).toString('base64'));
    assert.deepEqual(view.contexts.find((c) => c.name === `${stack.provider}@staging`)?.context, { cluster: 'staging', user: stack.provider });
    assert.ok(!view.users.some((u) => u.name === 'admin@staging'), 'talosctl\'s admin user is not copied');
    const who = await whoamiThrough(`${stack.provider}@staging`);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^oidc:/, 'the API server accepted the token the helper gave kubectl');
  });

  test('- reads talosctl\'s output on stdin; with a NAME and --use it is named so and becomes current', async () => {
    const res = await cli(['cluster', 'add', 'qa', '--from-kubeconfig', '-', '--provider', stack.provider, '--use'], talosKubeconfig('from-stdin'));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^Wrote context ${stack.provider}@qa \\(cluster qa, user ${stack.provider}\\) in .*; it is now current\\.\\n$`));
    assert.equal(await kubectlCurrent(files), `${stack.provider}@qa`);
    const who = await stack.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal((await cli(['use', ours])).code, 0);
  });

  test('a file that does not parse, or has no cluster, is exit 2 naming it; a missing file is exit 1; nothing is written', async () => {
    const before = await snapshot();
    const broken = path.join(stack.dir, 'broken.yaml');
    await writeFile(broken, 'clusters: [\n  - {name: x\n');
    const empty = path.join(stack.dir, 'empty.yaml');
    await writeFile(empty, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    const cases: [string[], number, RegExp, string?][] = [
      [['--from-kubeconfig', broken], 2, new RegExp(`^pocketkube: ${broken} does not parse \\(.+\\); nothing was written\\.\\n$`)],
      [['--from-kubeconfig', empty], 2, new RegExp(`^pocketkube: ${empty} has no cluster with a server; nothing was written\\.\\n$`)],
      [['--from-kubeconfig', '-'], 2, /^pocketkube: the kubeconfig on stdin has no cluster with a server; nothing was written\.\n$/, ''],
      [['--from-kubeconfig', path.join(stack.dir, 'missing.yaml')], 1, /^pocketkube: cannot read .*missing\.yaml \(ENOENT\); nothing was written\.\n$/],
    ];
    for (const [args, code, message, input] of cases) {
      const res = await cli(['cluster', 'add', ...args, '--provider', stack.provider], input);
      assert.equal(res.code, code, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, message);
    }
    assert.deepEqual(await snapshot(), before);
  });
});

describe('cluster remove', () => {
  test('removes our context and the cluster only it used, keeps the user another context still uses; kubectl agrees', async () => {
    const res = await cli(['cluster', 'remove', `${stack.provider}@staging`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `Removed context/${stack.provider}@staging (${stack.kubeconfig}), cluster/staging (${stack.kubeconfig}).\n`);
    assert.ok(!(await kubectlContextNames(files)).includes(`${stack.provider}@staging`));
    const view = await kubectlView(files);
    assert.ok(!view.clusters.some((c) => c.name === 'staging'));
    assert.ok(view.users.some((u) => u.name === stack.provider), `user ${stack.provider} is still used by ${ours}`);
    assert.equal((await whoamiThrough(ours)).code, 0, 'the context left behind still works');
  });

  test('never removes a cluster another context uses: ours made from talosctl\'s admin context leaves its cluster', async () => {
    const add = await cli(['cluster', 'add', '--from-context', 'admin@prod', '--provider', stack.provider]);
    assert.equal(add.code, 0, add.stderr);
    const talosBefore = await readFile(talosFile, 'utf8');
    const res = await cli(['cluster', 'remove', `${stack.provider}@prod`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `Removed context/${stack.provider}@prod (${stack.kubeconfig}).\n`);
    assert.equal(await readFile(talosFile, 'utf8'), talosBefore);
    assert.deepEqual((await kubectlContextNames(files)).sort(), ['admin@prod', `${stack.provider}@qa`, ours].sort());
  });

  test('the current context: removed, and current-context cleared as kubectl config delete-context leaves it', async () => {
    assert.equal((await cli(['use', `${stack.provider}@qa`])).code, 0);
    const res = await cli(['cluster', 'remove', `${stack.provider}@qa`]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /current-context\.\n$/);
    assert.equal(await kubectlCurrent(files), 'admin@prod', 'the next file\'s current-context is what kubectl falls back to');
    assert.equal((await cli(['use', ours])).code, 0);
  });

  test('a context PocketKube did not write is refused with the kubectl command that removes it; nothing is written', async () => {
    const before = await snapshot();
    const res = await cli(['cluster', 'remove', 'admin@prod']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^pocketkube: ~\/talos-kubeconfig line \d+: context "admin@prod" uses user "admin@prod", which PocketKube did not write, so PocketKube leaves it alone \(kubectl config delete-context removes it\); nothing was written\n$/);
    assert.deepEqual(await snapshot(), before);
  });

  test('a context that does not exist is exit 1 with a sentence saying so, not "Removed nothing"', async () => {
    const before = await snapshot();
    const res = await cli(['cluster', 'remove', 'pocket-id@typo']);
    assert.equal(res.code, 1, res.stdout);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^pocketkube: [^\n]*"pocket-id@typo"[^\n]*`pocketkube cluster list`[^\n]*\n$/);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('usage mistakes', () => {
  const usage: string[][] = [
    ['provider'],
    ['provider', 'bogus'],
    ['provider', 'remove'],
    ['provider', 'remove', stack.provider, 'extra'],
    ['provider', 'remove', '--bogus'],
    ['cluster'],
    ['cluster', 'bogus'],
    ['cluster', 'list', '--bogus'],
    ['cluster', 'list', 'extra'],
    ['cluster', 'remove'],
    ['cluster', 'remove', '--bogus'],
    ['cluster', 'remove', ours, 'extra'],
    ['cluster', 'add', 'x', '--server', 'https://127.0.0.1:6443'],
    ['cluster', 'add', 'x', '--provider', stack.provider],
    ['cluster', 'add', 'x', '--provider', stack.provider, '--server', 'https://127.0.0.1:6443', '--from-context', 'admin@prod'],
    ['cluster', 'add', '--provider', stack.provider, '--server', 'https://127.0.0.1:6443'],
    ['cluster', 'add', 'x', 'y', '--provider', stack.provider, '--server', 'https://127.0.0.1:6443'],
    ['cluster', 'add', 'x', '--provider', stack.provider, '--bogus'],
    ['contexts', '--bogus'],
    ['contexts', 'extra'],
    ['use', 'a', 'b'],
    ['use', '--bogus'],
  ];
  for (const args of usage) {
    test(`\`pocketkube ${args.join(' ')}\` exits 2 with one sentence and changes nothing`, async () => {
      const before = await snapshot();
      const settings = await readFile(stack.home.settingsFile, 'utf8');
      const res = await cli(args);
      assert.equal(res.code, 2, `${res.stdout}${res.stderr}`);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr.split('\n').filter(Boolean).length, 1, res.stderr);
      assert.match(res.stderr, /^pocketkube: .+\.\n$/);
      assert.deepEqual(await snapshot(), before);
      assert.equal(await readFile(stack.home.settingsFile, 'utf8'), settings);
      assert.deepEqual((await new AgentClient(stack.home.socketPath).listProviders()).map((p) => p.name), [stack.provider]);
    });
  }
});

describe('provider remove', () => {
  test('an unknown provider is exit 1 with a sentence naming it, and the agent keeps its provider', async () => {
    const res = await cli(['provider', 'remove', 'nope']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^PocketKube has no provider named "nope" \(known: pocket-id\); add it with `pocketkube provider add nope [^\n]*\n$/);
    assert.deepEqual((await new AgentClient(stack.home.socketPath).listProviders()).map((p) => p.name), [stack.provider]);
  });

  test('the running agent signs out and forgets the provider, its secrets and its cached credential; kubectl is told so', async () => {
    assert.equal((await whoamiThrough(ours)).code, 0, 'signed in before');
    assert.ok((await readdir(credentialCacheDir(stack.home))).includes(stack.provider));
    const res = await cli(['provider', 'remove', stack.provider]);
    assert.deepEqual([res.code, res.stdout, res.stderr], [0, `Provider ${stack.provider} removed (its stored session and secret too).\n`, '']);
    const status = await new AgentClient(stack.home.socketPath).status();
    assert.deepEqual(status.providers, [], 'the same agent no longer has it');
    assert.equal(status.agent.pid, agent.pid);
    assert.deepEqual(JSON.parse(await readFile(stack.home.settingsFile, 'utf8')).providers, []);
    const secrets = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(secrets).filter((k) => secretKeys.all(stack.provider).includes(k)), []);
    assert.ok(!(await readdir(credentialCacheDir(stack.home))).includes(stack.provider), 'no cached token for kubectl either');
    assert.equal((await stack.pocketId.stats()).endSessions.length, 1, 'the session was ended at Pocket ID');
    const who = await whoamiThrough(ours);
    assert.notEqual(who.code, 0);
    assert.match(who.stderr, /PocketKube has no provider named "pocket-id"/);
  });
});
