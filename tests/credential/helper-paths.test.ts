/**
 * The helper's (resources/bin/pocketkube) two paths no other test takes with the real kubectl: the Node CLI
 * when there is no curl (same answers as curl's), and our one line when the socket a killed agent left behind
 * answers nobody. kubectl runs the helper from a kubeconfig, with the PATH each case gives it.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { secretKeys } from '../../electron/core/session/providers.js';
import { HELPER, launchChromium, run, Stack, type RunResult } from '../support/stack.js';
import { dropCredentialCache, kubeconfigFor } from './helpers.js';

const V1BETA1_INFO = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: { interactive: false } });
const ALICE = 'oidc:6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40';

const stack = new Stack();
let browser: Browser;
let agent: Awaited<ReturnType<Stack['startAgentProcess']>>;
let kubeconfig: string;
/** A PATH with what the helper's Node path needs (node, readlink, dirname) and no curl; `node` logs each run. */
let noCurl: string;
const nodeRuns = async (): Promise<string[]> => (await readFile(path.join(noCurl, 'node.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

before(async () => {
  browser = await launchChromium();
  await stack.start();
  noCurl = path.join(stack.dir, 'no-curl-bin');
  await mkdir(noCurl);
  await writeFile(path.join(noCurl, 'node'), `#!/bin/sh\necho "$*" >>"${path.join(noCurl, 'node.log')}"\nexec "${process.execPath}" "$@"\n`);
  await chmod(path.join(noCurl, 'node'), 0o755);
  for (const tool of ['readlink', 'dirname']) await symlink(`/usr/bin/${tool}`, path.join(noCurl, tool));
  kubeconfig = path.join(stack.dir, 'helper-kubeconfig.json');
  agent = await stack.signedInAgentProcess(browser);
  await writeFile(kubeconfig, kubeconfigFor(stack, stack.provider));
});
after(async () => {
  await browser?.close();
  await stack.close();
});

/** kubectl as a user runs it, with `path` as the PATH it (and so the helper) gets. */
function kubectl(args: string[], pathVar: string): Promise<RunResult> {
  return stack.kubectl(['--kubeconfig', kubeconfig, ...args], { env: { PATH: pathVar } });
}
const withCurl = `${path.dirname(process.execPath)}:/usr/bin:/bin`;

describe('without curl, the helper runs the Node CLI', () => {
  test('the PATH it gets really has no curl', async () => {
    const res = await run('/bin/sh', ['-c', 'command -v curl || echo none'], { PATH: noCurl });
    assert.equal(res.stdout, 'none\n');
  });

  test('kubectl gets a working token through it when the cache cannot answer', async () => {
    await dropCredentialCache(stack.home);
    const before = (await nodeRuns()).length;
    const res = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], noCurl);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, ALICE);
    const runs = (await nodeRuns()).slice(before);
    assert.ok(runs.some((r) => /dist\/electron\/cli\/main\.js credential --provider pocket-id$/.test(r)), `the Node CLI answered kubectl: ${runs.join(' | ')}`);
  });

  test('its ExecCredential is curl\'s, byte for byte, in both apiVersions', async () => {
    for (const info of [undefined, V1BETA1_INFO]) {
      const env = { ...stack.env, ...(info ? { KUBERNETES_EXEC_INFO: info } : {}) };
      await dropCredentialCache(stack.home);
      const node = await run(HELPER, ['credential', '--provider', stack.provider], { ...env, PATH: noCurl });
      await dropCredentialCache(stack.home);
      const curl = await run(HELPER, ['credential', '--provider', stack.provider], { ...env, PATH: withCurl });
      assert.equal(node.code, 0, node.stderr);
      assert.equal(node.stderr, '');
      assert.equal(node.stdout, curl.stdout);
      const cred = JSON.parse(node.stdout) as { apiVersion: string; status: { token: string } };
      assert.equal(cred.apiVersion, info ? 'client.authentication.k8s.io/v1beta1' : 'client.authentication.k8s.io/v1');
      const stored = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
      assert.equal(cred.status.token, stored[secretKeys.idToken(stack.provider)]);
    }
  });

  test('signed out, it prints curl\'s one line on stderr and nothing on stdout, and kubectl shows that line', async () => {
    assert.equal((await stack.cli(['logout'])).code, 0);
    const node = await run(HELPER, ['credential', '--provider', stack.provider], { ...stack.env, PATH: noCurl });
    const curl = await run(HELPER, ['credential', '--provider', stack.provider], { ...stack.env, PATH: withCurl });
    assert.deepEqual([node.code, node.stdout], [1, '']);
    assert.match(node.stderr, /^PocketKube: not signed in to pocket-id \(you signed out\)\. Run `pocketkube login pocket-id`[^\n]*\n$/);
    assert.equal(node.stderr, curl.stderr);
    const res = await kubectl(['auth', 'whoami'], noCurl);
    assert.notEqual(res.code, 0);
    assert.ok(res.stderr.includes(node.stderr.trim()), res.stderr);
  });
});

describe('a socket left behind by a killed agent', () => {
  before(async () => {
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
  });

  test('kubectl shows the helper\'s one line: no agent answers on that socket, and how to start one', async () => {
    const res = await kubectl(['auth', 'whoami'], withCurl);
    assert.notEqual(res.code, 0);
    const line = `PocketKube: no agent answers on ${stack.home.socketPath} (curl exit 7). Start the PocketKube app, or run \`pocketkube agent\`.`;
    assert.ok(res.stderr.includes(`${line}\n`), res.stderr);
    const direct = await run(HELPER, ['credential', '--provider', stack.provider], { ...stack.env, PATH: withCurl });
    assert.deepEqual([direct.code, direct.stdout, direct.stderr], [1, '', `${line}\n`]);
  });

  test('without curl, the Node CLI says the same in one line naming the socket', async () => {
    const res = await run(HELPER, ['credential', '--provider', stack.provider], { ...stack.env, PATH: noCurl });
    assert.deepEqual([res.code, res.stdout], [1, '']);
    assert.match(res.stderr, new RegExp(`^[^\\n]*nothing answers on ${stack.home.socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\. Start the PocketKube app, or run \`pocketkube agent\`[^\\n]*\\n$`));
  });
});
