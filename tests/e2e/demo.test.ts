import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { KUBECTL, REPO, run } from '../support/stack.js';

test('npm run demo: a newcomer signs in through BROWSER and kubectl answers, then Ctrl-C cleans up', async () => {
  const demo = spawn(process.execPath, [path.join(REPO, 'dist/tests/stand-ins/demo.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => demo.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 60_000);
      demo.stdout.on('data', () => {
        if (out.includes('pocketkube status')) {
          clearTimeout(timer);
          resolve();
        }
      });
      demo.on('exit', (code) => reject(new Error(`demo exited ${code}: ${out}`)));
    });
    const home = /POCKETKUBE_HOME='([^']+)'/.exec(out)![1]!;
    const kubeconfig = /KUBECONFIG='([^']+)'/.exec(out)![1]!;
    const env = {
      PATH: `${path.join(REPO, 'resources/bin')}:${process.env.PATH}`,
      HOME: process.env.HOME,
      POCKETKUBE_HOME: home,
      KUBECONFIG: kubeconfig,
      // The command the user's system would open the URL with; here real Chromium pressing "Sign in as Alice".
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
