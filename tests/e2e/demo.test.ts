import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { KUBECTL, REPO, launchChromium, run } from '../support/stack.js';

test('npm run demo: says before sign-in that the browser will warn about the certificate, and why; a newcomer signs in through BROWSER and kubectl answers; Ctrl-C cleans up', async () => {
  const demo = spawn(process.execPath, [path.join(REPO, 'dist/tests/stand-ins/demo.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => demo.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 60_000);
      demo.stdout.on('data', () => {
        if (out.includes('throwaway browser profile.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      demo.on('exit', (code) => reject(new Error(`demo exited ${code}: ${out}`)));
    });
    const issuer = /Pocket ID stand-in: {2}(https:\/\/localhost:\d+)/.exec(out)![1]!;
    assert.match(out, new RegExp(`Your browser will warn about the certificate of ${issuer} before the sign-in page: the demo's\\nprovider signs it with its own CA`));
    assert.match(out, /kube-apiserver accepts\nno other issuer/);
    // The warning is real: an ordinary browser (Chromium as it comes, certificate errors not ignored)
    // refuses the provider's page. If this ever stops failing, the demo's sentence above must go.
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      await assert.rejects(page.goto(`${issuer}/.well-known/openid-configuration`), /net::ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await browser.close();
    }
    const home = /POCKETKUBE_HOME='([^']+)'/.exec(out)![1]!;
    const kubeconfig = /KUBECONFIG='([^']+)'/.exec(out)![1]!;
    const env = {
      PATH: `${path.join(REPO, 'resources/bin')}:${process.env.PATH}`,
      HOME: process.env.HOME,
      POCKETKUBE_HOME: home,
      KUBECONFIG: kubeconfig,
      // The command the user's system would open the URL with; here real Chromium pressing "Sign in as Alice"
      // (past the certificate warning, as the demo tells the user to).
      BROWSER: `${process.execPath} ${path.join(REPO, 'dist/tests/support/browser-bot.js')}`,
    };
    const login = await run('pocketkube', ['login'], env, { timeoutMs: 90_000 });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /Signed in to pocket-id as Alice Anderson/);
    const who = await run(KUBECTL, ['auth', 'whoami'], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /oidc:kubernetes/);
    demo.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(existsSync(home), false, 'the throwaway folder is removed');
  } finally {
    demo.kill('SIGKILL');
  }
});
