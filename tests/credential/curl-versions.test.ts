/**
 * kubectl's helper with the curl developers really have: curl stand-ins that behave like 7.58 (Ubuntu 18.04,
 * RHEL 8) and 7.68 (Ubuntu 20.04; like every curl from 7.63 to 7.83), and the real curl, each first on PATH,
 * through the real kubectl against a real agent. The helper's curl path must print the ExecCredential and
 * nothing else on success, our one line and nothing else on failure, and never write-out syntax.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { KUBECTL, HELPER, launchChromium, run, Stack } from '../support/stack.js';
import { installOldCurl, oldWriteOut, type OldCurl } from './old-curl.js';
import { dropCredentialCache, kubeconfigFor, curlCalls } from './helpers.js';

const CURLS: { label: string; curl: OldCurl | 'real' }[] = [
  { label: 'curl 7.58 (Ubuntu 18.04), unknown variables printed as written', curl: { version: '7.58.0', unknown: 'literal' } },
  { label: 'curl 7.58 (Ubuntu 18.04), unknown variables warned about', curl: { version: '7.58.0', unknown: 'warn' } },
  { label: 'curl 7.68 (Ubuntu 20.04, like 7.63 to 7.83)', curl: { version: '7.68.0' } },
  { label: 'the real curl', curl: 'real' },
];

const WRITE_OUT_SYNTAX = /%\{|%header|unknown --write-out/;

test('the old-curl stand-ins print the write-out syntax they do not know, as those versions do', () => {
  const format = '%{stderr}%header{x-pocketkube-error}';
  // 7.58: no %{stderr}, so the header literal lands on stdout after the body (kubectl then fails).
  assert.equal(oldWriteOut(format, { version: '7.58.0' }).format, '%%{stderr}%%header{x-pocketkube-error}');
  assert.deepEqual(oldWriteOut(format, { version: '7.58.0', unknown: 'warn' }), {
    format: '%%header{x-pocketkube-error}',
    warnings: ["curl: unknown --write-out variable: 'stderr'"],
  });
  // 7.68: %{stderr} works, %header{} is printed as written on stderr.
  assert.equal(oldWriteOut(format, { version: '7.68.0' }).format, '%{stderr}%%header{x-pocketkube-error}');
  assert.equal(oldWriteOut(format, { version: '7.84.0' }).format, format);
  assert.equal(oldWriteOut('\\n%{http_code}', { version: '7.58.0' }).format, '\\n%{http_code}');
});

describe('the helper through curl, with every curl version', () => {
  const stack = new Stack();
  let browser: Browser;
  const nobodyConfig = () => path.join(stack.dir, 'nobody.kubeconfig.json');
  before(async () => {
    browser = await launchChromium();
    await stack.start();
    await stack.configure();
    await stack.startAgentProcess();
    const { cli } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
    // A second provider nobody has signed in to: its credential is a 401 with our reason.
    const add = await stack.cli(['provider', 'add', 'nobody', '--issuer', stack.pocketId.issuer, '--client-id', 'nobody-client', '--ca-file', stack.pocketId.caFile]);
    assert.equal(add.code, 0, add.stderr);
    await writeFile(nobodyConfig(), kubeconfigFor(stack, 'nobody'), { mode: 0o600 });
  });
  after(async () => {
    await browser?.close();
    await stack.close();
  });

  for (const { label, curl } of CURLS) {
    const slug = label.replace(/\W+/g, '-');
    const bin = () => path.join(stack.dir, slug);
    const env = () => ({ ...stack.env, PATH: `${bin()}:${process.env.PATH}` });

    test(`${label}: the helper prints exactly the ExecCredential, and kubectl uses it`, async () => {
      await installOldCurl(bin(), curl);
      await dropCredentialCache(stack.home);
      const before = await curlCalls(bin());
      const execInfo = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: { interactive: false } });
      const res = await run(HELPER, ['credential', '--provider', stack.provider], { ...env(), KUBERNETES_EXEC_INFO: execInfo });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
      assert.doesNotMatch(res.stdout.trimEnd(), /\n/, 'one line');
      const cred = JSON.parse(res.stdout);
      assert.equal(cred.apiVersion, 'client.authentication.k8s.io/v1beta1');
      assert.equal(cred.kind, 'ExecCredential');
      assert.match(cred.status.token, /^eyJ/);
      assert.ok(Date.parse(cred.status.expirationTimestamp) > Date.now());
      await dropCredentialCache(stack.home);
      const k = await stack.kubectl(['get', '--raw', '/version'], { env: env() });
      assert.equal(k.code, 0, k.stderr);
      assert.equal(k.stderr, '');
      assert.ok((await curlCalls(bin())) - before >= 2, 'the answers came through this curl');
    });

    test(`${label}: a signed-out provider gives our one line on stderr, and no write-out syntax anywhere`, async () => {
      await installOldCurl(bin(), curl);
      const res = await run(HELPER, ['credential', '--provider', 'nobody'], env());
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^PocketKube: not signed in to nobody \(not signed in yet\)\. Run `pocketkube login nobody`[^\n]*\n$/);
      const k = await run(KUBECTL, ['get', '--raw', '/version'], { ...env(), KUBECONFIG: nobodyConfig() });
      assert.notEqual(k.code, 0);
      assert.doesNotMatch(k.stderr + k.stdout, WRITE_OUT_SYNTAX);
      const ours = [...new Set(k.stderr.split('\n').filter((l) => l.includes('PocketKube')))];
      assert.equal(ours.length, 1, k.stderr);
      assert.match(ours[0]!, /^PocketKube: not signed in to nobody/);
    });

    test(`${label}: kubelogin's get-token arguments work through curl too`, async () => {
      await installOldCurl(bin(), curl);
      const res = await run(HELPER, ['get-token', '--oidc-issuer-url', stack.pocketId.issuer, '--oidc-client-id', stack.clientId, '--oidc-extra-scope', 'groups'], env());
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
      assert.equal(JSON.parse(res.stdout).kind, 'ExecCredential');
    });
  }

  for (const { label, curl } of [CURLS[0]!, CURLS[3]!]) {
    test(`${label}: get-token's client secret reaches the agent through curl's stdin, never its argv`, async () => {
      const slug = `argv-${label.replace(/\W+/g, '-')}`;
      const inner = path.join(stack.dir, `${slug}-inner`);
      const bin = path.join(stack.dir, slug);
      await installOldCurl(inner, curl);
      await mkdir(bin, { recursive: true });
      // Records curl's argv as ps shows it to every user, then runs that curl.
      await writeFile(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$@" >>'${bin}/argv'\nexec '${inner}/curl' "$@"\n`, { mode: 0o755 });
      const secret = `s3cret+/=&%${slug.length} é`;
      const res = await run(HELPER, ['get-token', `--oidc-issuer-url=${stack.pocketId.issuer}`, '--oidc-client-id', `${slug}-client`, `--oidc-client-secret=${secret}`], {
        ...stack.env,
        PATH: `${bin}:${process.env.PATH}`,
      });
      assert.match(res.stderr, /^PocketKube: not signed in to /, 'the agent added the provider and answered');
      const argv = await readFile(path.join(bin, 'argv'), 'utf8');
      assert.match(argv, /client_secret@-/);
      assert.ok(!argv.includes(secret) && !argv.includes(encodeURIComponent(secret)), `no secret in curl's argv:\n${argv}`);
      const stored = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
      const key = Object.keys(stored).find((k) => k.endsWith('/client-secret') && stored[k] === secret);
      assert.ok(key, 'the agent stored exactly the secret sent (encoded by curl from stdin)');
    });
  }

  test('an agent that does not answer gives our one line, with curl exit code, and no write-out syntax', async () => {
    const bin = path.join(stack.dir, 'no-agent');
    await installOldCurl(bin, { version: '7.58.0' });
    const home = path.join(stack.dir, 'dead-home');
    await mkdir(home, { recursive: true });
    // A socket file nobody listens on, as a crashed agent leaves behind.
    const sock = path.join(home, 'agent.sock');
    await run(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`], stack.env);
    const res = await run(HELPER, ['credential', '--provider', 'pocket-id'], { ...stack.env, POCKETKUBE_HOME: home, PATH: `${bin}:${process.env.PATH}` });
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^PocketKube: no agent answers on .*agent\.sock \(curl exit 7\)\. Start the PocketKube app, or run `pocketkube agent`\.\n$/);
    assert.doesNotMatch(res.stderr, WRITE_OUT_SYNTAX);
  });
});
