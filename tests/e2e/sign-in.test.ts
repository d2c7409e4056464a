import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { secretKeys } from '../../electron/core/session/providers.js';
import { HELPER, launchChromium, Stack } from '../support/stack.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** When an ID token expires (its exp claim, in ms). */
function idTokenExpiry(idToken: string): number {
  return (JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
}

interface WhoAmI {
  status: { userInfo: { username: string; groups: string[] } };
}

describe('sign-in through the browser, then kubectl through the written kubeconfig', () => {
  const stack = new Stack();
  let agent: Awaited<ReturnType<Stack['startAgentProcess']>>;
  before(async () => {
    await stack.start();
    await stack.configure();
    agent = await stack.startAgentProcess();
  });
  after(() => stack.close());

  test('before sign-in, kubectl fails with one clear line and the helper prints nothing on stdout', async () => {
    const res = await stack.kubectl(['get', '--raw', '/version']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /PocketKube: not signed in to pocket-id .*pocketkube login pocket-id/);
    const helper = await stack.cli(['credential', '--provider', 'pocket-id']);
    assert.equal(helper.code, 1);
    assert.equal(helper.stdout, '');
    assert.equal(helper.stderr.trim().split('\n').length, 1, 'one line on stderr');
  });

  test('login prints the URL, the browser lands on the "Signed in" page, and the CLI exits 0', async () => {
    const { cli, page } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /Sign in to pocket-id in your browser: http:\/\/localhost:\d+\/start\/[\w-]+\n/);
    assert.match(cli.stderr, /Signed in to pocket-id as Alice Anderson \(groups: kubernetes, developers\)/);
    assert.equal(page, 'Signed in');
  });

  test('kubectl auth whoami sees the prefixed user and groups through the PocketKube credential', async () => {
    const res = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
    const who = JSON.parse(res.stdout) as WhoAmI;
    assert.equal(who.status.userInfo.username, 'oidc:6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40');
    assert.ok(who.status.userInfo.groups.includes('oidc:kubernetes'));
    assert.ok(who.status.userInfo.groups.includes('system:authenticated'));
  });

  test('RBAC through the bound group lets kubectl list pods', async () => {
    const res = await stack.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).kind, 'PodList');
  });

  test('status shows who is signed in, the groups and the expiry, with no token anywhere', async () => {
    const res = await stack.cli(['status', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const status = JSON.parse(res.stdout);
    const p = status.providers[0];
    assert.equal(p.state, 'signed-in');
    assert.equal(p.identity.email, 'alice@example.com');
    assert.equal(p.identity.emailVerified, true);
    assert.deepEqual(p.identity.groups, ['kubernetes', 'developers']);
    assert.ok(Date.parse(p.idToken.expiresAt) > Date.now());
    assert.equal(status.agent.secrets.kind, 'file');
    assert.doesNotMatch(res.stdout, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the status');
    const human = await stack.cli(['status']);
    assert.match(human.stdout, /Signed in as Alice Anderson <alice@example.com> \(email verified\)/);
    assert.match(human.stdout, /Groups: kubernetes, developers/);
    assert.match(human.stdout, /ID token expires in \d+ min/);
  });

  test('the kubeconfig user runs the helper by absolute path, non-interactively', async () => {
    const text = await readFile(stack.kubeconfig, 'utf8');
    assert.match(text, new RegExp(`command: ${HELPER.replace(/[/.]/g, '\\$&')}`));
    assert.match(text, /interactiveMode: Never/);
    assert.match(text, /apiVersion: client\.authentication\.k8s\.io\/v1\n/);
    assert.equal((await stat(stack.kubeconfig)).mode & 0o777, 0o600);
  });

  test('secrets at rest are in a 0600 file, and the agent log holds no token', async () => {
    const secrets = await stat(stack.home.secretsFile);
    assert.equal(secrets.mode & 0o777, 0o600);
    const log = (agent as unknown as { log: string }).log;
    assert.doesNotMatch(log, /eyJ[\w-]+\.[\w-]+\./);
    const stored = JSON.parse(await readFile(stack.home.secretsFile, 'utf8'));
    const refreshToken = stored['provider/pocket-id/refresh-token'];
    assert.ok(refreshToken);
    assert.ok(!log.includes(refreshToken));
  });

  test('an agent restarted after its ID token expired resumes with the rotated refresh token: no browser, no invalid_grant', async () => {
    const stored = async () => JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
    const refreshKey = secretKeys.refreshToken(stack.provider);
    const signedInWith = (await stored())[refreshKey];
    // One-second ID tokens from here on, so the one stored when the agent stops has expired by the restart.
    await stack.pocketId.setIdTokenTtl(1);
    const rotation = await stack.cli(['refresh']);
    assert.equal(rotation.code, 0, rotation.stderr);
    assert.equal(await stack.stopAgentProcess(agent), 0);
    await assert.rejects(stat(stack.home.socketPath), 'the socket is removed on SIGTERM');
    await stack.pocketId.setIdTokenTtl(3600);
    const atStop = await stored();
    const rotated = atStop[refreshKey];
    assert.ok(rotated && rotated !== signedInWith, 'Pocket ID rotated the refresh token, and the agent stored the new one');
    const expiresAt = idTokenExpiry(atStop[secretKeys.idToken(stack.provider)]!);
    assert.ok(expiresAt - Date.now() <= 1_000, 'the stored ID token is a one-second token');
    // The agent runs on the real clock: wait (at most a second) until the stored ID token has expired.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));

    const before = await stack.pocketId.stats();
    agent = await stack.startAgentProcess();
    const res = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
    const after = await stack.pocketId.stats();
    assert.equal(after.codeGrants, before.codeGrants, 'no browser sign-in');
    assert.equal(after.deviceGrants, before.deviceGrants, 'no device sign-in');
    assert.equal(after.refreshGrants - before.refreshGrants, 1, 'the resume refreshed once');
    assert.equal(after.refreshFailures, before.refreshFailures, 'Pocket ID accepted the stored refresh token (no invalid_grant)');
    const log = (agent as unknown as { log: string }).log;
    assert.match(log, /pocket-id: resuming the stored session with a refresh/);
    assert.match(log, /pocket-id: refreshed \(resume\)/);
    assert.doesNotMatch(log, /invalid_grant|ended the session|not signed in/);
    assert.notEqual((await stored())[refreshKey], rotated, 'the resume rotated it again and stored the new one');
  });

  test('a revoked session gives one clear sign-in-again message', async () => {
    await stack.pocketId.revokeUser('alice');
    const refresh = await stack.cli(['refresh']);
    assert.equal(refresh.code, 1);
    assert.match(refresh.stderr, /Pocket ID ended the session/);
    const res = await stack.kubectl(['get', '--raw', '/version']);
    assert.notEqual(res.code, 0);
    // kubectl runs the helper twice per command; each run says the same one line.
    const ours = [...new Set(res.stderr.split('\n').filter((l) => l.includes('PocketKube')))];
    assert.equal(ours.length, 1, res.stderr);
    assert.match(ours[0]!, /not signed in to pocket-id \(Pocket ID ended the session \(the refresh token expired, was revoked or was reused\)\)\. Run `pocketkube login pocket-id`/);
  });

  test('without an agent, the helper says how to start one and exits non-zero', async () => {
    await stack.stopAgentProcess(agent);
    const res = await stack.cli(['credential', '--provider', 'pocket-id']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^PocketKube: no agent is running .*pocketkube agent/);
  });
});

describe('the seed guide kubeconfig user, with kubelogin get-token arguments, works through PocketKube', () => {
  const secret = 'seed-client-secret-0123456789';
  // kubelogin's default callback is http://localhost:8000, as the seed registers it.
  const stack = new Stack({ clientSecret: secret, callbackPort: 8000 });
  before(async () => {
    await stack.start();
    // The test provider's CA is private; a real Pocket ID has a public certificate.
    await stack.startAgentProcess({ NODE_EXTRA_CA_CERTS: stack.pocketId.caFile });
  });
  after(() => stack.close());

  test('swap `kubectl oidc-login` for `pocketkube` and kubectl works after one sign-in', async () => {
    // The seed's user block, kept as v1beta1 with kubelogin's flags; only the command changed.
    const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: testing
  cluster:
    server: ${stack.api.server}
    certificate-authority-data: ${Buffer.from(stack.api.caPem).toString('base64')}
contexts:
- context:
    cluster: testing
    namespace: default
    user: pocket-id
  name: testing
current-context: testing
users:
- name: pocket-id
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ${HELPER}
      args:
        - get-token
        - --oidc-issuer-url=${stack.pocketId.issuer}
        - --oidc-client-id=${stack.clientId}
        - --oidc-client-secret=${secret}
        - --oidc-extra-scope=groups
        - --oidc-extra-scope=email
        - --oidc-extra-scope=name
`;
    const { mkdir } = await import('node:fs/promises');
    const path = await import('node:path');
    await mkdir(path.dirname(stack.kubeconfig), { recursive: true });
    await writeFile(stack.kubeconfig, kubeconfig, { mode: 0o600 });
    const first = await stack.kubectl(['get', '--raw', '/version']);
    assert.notEqual(first.code, 0);
    assert.match(first.stderr, /PocketKube: not signed in to localhost .*pocketkube login localhost/);
    // The agent added the provider from kubelogin's flags: same issuer, client and scopes; secret stored apart.
    const list = await stack.cli(['provider', 'list', '--json']);
    const provider = JSON.parse(list.stdout).providers[0];
    assert.equal(provider.name, 'localhost');
    assert.equal(provider.issuer, stack.pocketId.issuer);
    assert.equal(provider.clientId, stack.clientId);
    assert.equal(provider.confidential, true);
    assert.equal(provider.callbackPort, 8000, "kubelogin's default callback, as the seed registers it");
    assert.ok(provider.scopes.includes('groups'));
    assert.ok(!list.stdout.includes(secret), 'the secret is not in the settings');
    const login = await stack.login(browser, { provider: 'localhost' });
    assert.equal(login.cli.code, 0, login.cli.stderr);
    const res = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok((JSON.parse(res.stdout) as WhoAmI).status.userInfo.groups.includes('oidc:kubernetes'));
  });
});

describe('Pocket ID refusals reach the user as one readable sentence', () => {
  const stack = new Stack({ allowedGroups: ['admins'] });
  before(async () => {
    await stack.start();
    await stack.configure();
    await stack.startAgentProcess();
  });
  after(() => stack.close());

  test('a user outside the allowed groups gets access_denied explained, not a stack trace', async () => {
    const { cli, page } = await stack.login(browser);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Pocket ID denied access: your account is not in a group allowed to use this client/);
    assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(page, 'Sign-in failed');
  });
});

describe('device authorization where no browser can open', () => {
  const stack = new Stack({ deviceInterval: 1 });
  before(async () => {
    await stack.start();
    await stack.configure();
    await stack.startAgentProcess();
  });
  after(() => stack.close());

  test('login --device prints a URL and code, and finishes once the code is approved elsewhere', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(HELPER, ['login', '--device'], { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(stderr)), 20_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/enter the code/.test(stderr)) {
          clearTimeout(timer);
          resolve(stderr);
        }
      });
    });
    const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    const url = /open (https:\/\/\S+) on any device/.exec(line)![1]!;
    const code = /enter the code (\S+)\./.exec(line)![1]!;
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(url);
    // Another device: enter the code (prefilled when the URL carries it), confirm, and sign in.
    // verification_uri_complete carries the code; the form appears only when it does not.
    if (await page.locator('[data-testid="device-submit"]').count()) {
      await page.fill('input[name="user_code"]', code);
      await page.click('[data-testid="device-submit"]');
    }
    await page.click('[data-testid="device-confirm"]');
    await page.click('[data-testid="login-alice"]');
    await page.waitForSelector('[data-testid="device-success"]');
    await ctx.close();
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /Signed in to pocket-id as Alice Anderson/);
    const res = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(res.code, 0, res.stderr);
  });
});
