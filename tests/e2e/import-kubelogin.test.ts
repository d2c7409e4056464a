import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, Stack } from '../support/stack.js';

const secret = 'seed-guide-client-secret-42';
// kubelogin's default callback, as the seed guide registers it.
const stack = new Stack({ clientSecret: secret, callbackPort: 8000 });
let browser: Browser;

before(async () => {
  await stack.start();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack.close();
});

test('import-kubelogin turns the seed guide user into a PocketKube user, secret kept out of the kubeconfig', async () => {
  const ca = Buffer.from(stack.api.caPem).toString('base64');
  // What a developer has after following the guide (kubelogin as a kubectl plugin), plus its known mistake:
  // a user whose client id is the issuer URL.
  const seed = `apiVersion: v1
kind: Config
clusters:
- name: testing
  cluster:
    server: ${stack.api.server}
    certificate-authority-data: ${ca}
contexts:
- context:
    cluster: testing
    namespace: default
    user: pocket-id
  name: testing
current-context: testing
users:
# the seed guide's user
- name: pocket-id
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl
      args:
        - oidc-login
        - get-token
        - --oidc-issuer-url=${stack.pocketId.issuer}
        - --oidc-client-id=${stack.clientId}
        - --oidc-client-secret=${secret}
        - --oidc-extra-scope=groups
        - --oidc-extra-scope=email
        - --oidc-extra-scope=name
- name: copied-wrong
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl
      args: [oidc-login, get-token, --oidc-issuer-url=${stack.pocketId.issuer}, --oidc-client-id=${stack.pocketId.issuer}]
`;
  await mkdir(path.dirname(stack.kubeconfig), { recursive: true });
  await writeFile(stack.kubeconfig, seed, { mode: 0o600 });

  const dry = await stack.cli(['import-kubelogin', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /user pocket-id .* -> provider localhost \(new\)/);
  assert.match(dry.stderr, /skipped user copied-wrong .*client id/i);
  assert.match(dry.stdout, /^-.*--oidc-client-secret=\*\*\*/m, 'the diff masks the secret');
  assert.ok(!dry.stdout.includes(secret) && !dry.stderr.includes(secret), 'the secret is never printed');
  assert.equal(await readFile(stack.kubeconfig, 'utf8'), seed, 'a dry run writes nothing');

  const real = await stack.cli(['import-kubelogin']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /added provider localhost/);
  const after = await readFile(stack.kubeconfig, 'utf8');
  assert.ok(!after.includes(secret), 'the client secret is no longer in the kubeconfig');
  assert.match(after, /# the seed guide's user/, 'comments survive');
  assert.match(after, /args: \[credential, --provider, localhost\]|- credential/);

  // One sign-in, and the guide's context works through PocketKube.
  await stack.startAgentProcess({ NODE_EXTRA_CA_CERTS: stack.pocketId.caFile });
  const { cli } = await stack.login(browser, { provider: 'localhost' });
  assert.equal(cli.code, 0, cli.stderr);
  const who = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  assert.ok(JSON.parse(who.stdout).status.userInfo.groups.includes('oidc:kubernetes'));
});
