/**
 * kubectl's fast path: the agent keeps each session's current credential in a private file that the helper
 * reads with shell built-ins. These tests hold it to the same answers as the socket: the agent's current
 * session, never a token past the agent's hand-out time, our one line once the session ends, and files as
 * private as the secrets file and gone with the session.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { credentialCacheDir, DEADLINE_MARGIN_MS } from '../../electron/core/credential/credential-cache.js';
import { HELPER, KUBECTL, launchChromium, run, Stack } from '../support/stack.js';
import { curlCalls, installOldCurl } from './old-curl.js';

const V1BETA1_INFO = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: { interactive: false } });

describe('the helper answers from the agent\'s cached credential', () => {
  const stack = new Stack();
  let browser: Browser;
  let agent: Awaited<ReturnType<Stack['startAgentProcess']>>;
  const cached = () => path.join(credentialCacheDir(stack.home), stack.provider);
  /** A PATH with a counting curl and nothing else: no node, so no Node fallback either. */
  const bin = () => path.join(stack.dir, 'bin');
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...stack.env, PATH: bin(), ...extra });
  /** The same request the helper makes, over the socket, as the agent answers it. */
  const socketAnswer = async (apiVersion: string) => {
    const res = await run('/usr/bin/curl', ['-s', '--unix-socket', stack.home.socketPath, '--data-urlencode', `provider=${stack.provider}`, '--data-urlencode', `api_version=${apiVersion}`, 'http://pocketkube/v1/credential'], stack.env);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout;
  };

  before(async () => {
    browser = await launchChromium();
    await stack.start();
    await installOldCurl(bin(), 'real');
    agent = await stack.signedInAgentProcess(browser);
  });
  after(async () => {
    await browser?.close();
    await stack.close();
  });

  test('the answer is byte for byte the agent\'s, in both apiVersions, with neither curl nor Node run', async () => {
    const calls = await curlCalls(bin());
    for (const [apiVersion, info] of [['client.authentication.k8s.io/v1', undefined], ['client.authentication.k8s.io/v1beta1', V1BETA1_INFO]] as const) {
      const res = await run(HELPER, ['credential', '--provider', stack.provider], env(info ? { KUBERNETES_EXEC_INFO: info } : {}));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
      assert.equal(res.stdout, `${await socketAnswer(apiVersion)}\n`);
    }
    // `--provider=NAME` is the same request.
    const eq = await run(HELPER, ['credential', `--provider=${stack.provider}`], env());
    assert.equal(eq.stdout, `${await socketAnswer('client.authentication.k8s.io/v1')}\n`);
    const k = await run(KUBECTL, ['auth', 'whoami', '-o', 'json'], env());
    assert.equal(k.code, 0, k.stderr);
    assert.equal(JSON.parse(k.stdout).status.userInfo.username, 'oidc:6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40');
    assert.equal(await curlCalls(bin()), calls, 'curl never ran');
  });

  test('the same under bash in POSIX mode (macOS and RHEL run /bin/sh as bash) and under dash', async () => {
    for (const shell of [['/bin/bash', '--posix'], ['/bin/dash']]) {
      const res = await run(shell[0]!, [...shell.slice(1), HELPER, 'credential', '--provider', stack.provider], env());
      assert.equal(res.code, 0, `${shell.join(' ')}: ${res.stderr}`);
      assert.equal(res.stderr, '');
      assert.equal(res.stdout, `${await socketAnswer('client.authentication.k8s.io/v1')}\n`, shell.join(' '));
    }
  });

  test('the cached file is 0600 in a 0700 folder, holds only the status, and is dated at the agent\'s hand-out limit', async () => {
    const dir = credentialCacheDir(stack.home);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const st = await stat(cached());
    assert.equal(st.mode & 0o777, 0o600);
    const status = JSON.parse(await readFile(cached(), 'utf8'));
    assert.deepEqual(Object.keys(status), ['token', 'expirationTimestamp']);
    const snap = JSON.parse((await stack.cli(['status', '--json'])).stdout).providers[0];
    // Pocket ID's one-hour token is handed out until a minute before it expires.
    const limit = Date.parse(snap.idToken.expiresAt) - 60_000 - DEADLINE_MARGIN_MS;
    assert.ok(Math.abs(st.mtimeMs - limit) < 1_500, `mtime ${new Date(st.mtimeMs).toISOString()} vs ${new Date(limit).toISOString()}`);
    assert.deepEqual((await readdir(dir)).filter((f) => !f.startsWith('.')), [stack.provider]);
  });

  test('a file past its time is never used: the helper asks the agent, which answers from the session', async () => {
    const real = await readFile(cached(), 'utf8');
    // A planted token proves which source answered: dated in the future it is served, a second in the past it is not.
    const planted = `${JSON.stringify({ token: 'planted-token', expirationTimestamp: '2099-01-01T00:00:00Z' })}\n`;
    await writeFile(cached(), planted);
    await utimes(cached(), new Date(), new Date(Date.now() + 60_000));
    const fresh = await run(HELPER, ['credential', '--provider', stack.provider], env());
    assert.match(fresh.stdout, /planted-token/, 'the probe: a dated file is what the helper reads');
    await utimes(cached(), new Date(), new Date(Date.now() - 1_000));
    const calls = await curlCalls(bin());
    const stale = await run(HELPER, ['credential', '--provider', stack.provider], env());
    assert.equal(stale.code, 0, stale.stderr);
    assert.doesNotMatch(stale.stdout, /planted-token/);
    assert.equal(stale.stdout, `${await socketAnswer('client.authentication.k8s.io/v1')}\n`);
    assert.equal(await curlCalls(bin()), calls + 1, 'the answer came over the socket');
    await writeFile(cached(), real);
    await utimes(cached(), new Date(), new Date(Date.now() + 60_000));
  });

  test('a torn or foreign file is not used', async () => {
    const real = await readFile(cached(), 'utf8');
    const future = new Date(Date.now() + 60_000);
    for (const text of [real.slice(0, 40), '', 'not json\n']) {
      await writeFile(cached(), text);
      await utimes(cached(), future, future);
      const res = await run(HELPER, ['credential', '--provider', stack.provider], env());
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, `${await socketAnswer('client.authentication.k8s.io/v1')}\n`, JSON.stringify(text));
    }
    await writeFile(cached(), real);
    await utimes(cached(), future, future);
  });

  test('a pid file that names no single live process (0, -1, garbage, empty) keeps the helper off the cache', async () => {
    const real = await readFile(stack.home.pidFile, 'utf8');
    try {
      for (const pid of ['0\n', '-1\n', 'abc\n', '']) {
        await writeFile(stack.home.pidFile, pid);
        const calls = await curlCalls(bin());
        const res = await run(HELPER, ['credential', '--provider', stack.provider], env());
        assert.equal(res.code, 0, res.stderr);
        assert.equal(await curlCalls(bin()), calls + 1, `pid file ${JSON.stringify(pid)}: asked the agent`);
      }
    } finally {
      await writeFile(stack.home.pidFile, real);
    }
  });

  test('a provider name that is not a plain name never reaches the file system', async () => {
    // A well-formed, well-dated file outside the cache folder: `../x` must not find it.
    const outside = path.join(stack.home.dir, 'x');
    await writeFile(outside, `${JSON.stringify({ token: 'outside-token', expirationTimestamp: '2099-01-01T00:00:00Z' })}\n`);
    await utimes(outside, new Date(), new Date(Date.now() + 60_000));
    for (const name of ['../x', '.now', 'a/b']) {
      const res = await run(HELPER, ['credential', '--provider', name], env());
      assert.equal(res.code, 1, name);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /^PocketKube has no provider named "[^"]+"[^\n]*\n$/, name);
    }
  });

  test('an agent killed without stopping leaves its file, which is not used; the next agent removes it', async () => {
    await stack.stopAgentProcess(agent); // SIGTERM: a clean stop removes the files itself
    assert.deepEqual(await readdir(credentialCacheDir(stack.home)).catch(() => []), []);
    agent = await stack.startAgentProcess(); // resumes the stored session
    const ok = await run(HELPER, ['credential', '--provider', stack.provider], env());
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(await stat(cached()));
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    assert.ok(await stat(cached()), 'a killed agent cannot remove its file');
    const res = await run(HELPER, ['credential', '--provider', stack.provider], env());
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^PocketKube: no agent answers on .*agent\.sock \(curl exit 7\)/);
    await writeFile(path.join(credentialCacheDir(stack.home), 'ghost'), 'left behind\n');
    agent = await stack.startAgentProcess();
    assert.ok(!(await readdir(credentialCacheDir(stack.home))).includes('ghost'));
  });

  test('signing out removes the file before the CLI returns, and kubectl gets our one line', async () => {
    assert.equal((await run(HELPER, ['credential', '--provider', stack.provider], env())).code, 0);
    const out = await stack.cli(['logout']);
    assert.equal(out.code, 0, out.stderr);
    await assert.rejects(stat(cached()), { code: 'ENOENT' });
    const res = await run(HELPER, ['credential', '--provider', stack.provider], env());
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^PocketKube: not signed in to pocket-id \(you signed out\)\. Run `pocketkube login pocket-id`[^\n]*\n$/);
  });

  test('a session Pocket ID revoked leaves no file, and kubectl gets our one line', async () => {
    const { cli } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(await stat(cached()));
    await stack.pocketId.revokeUser('alice');
    const refresh = await stack.cli(['refresh']);
    assert.equal(refresh.code, 1);
    await assert.rejects(stat(cached()), { code: 'ENOENT' });
    const k = await run(KUBECTL, ['get', '--raw', '/version'], env());
    assert.notEqual(k.code, 0);
    const ours = [...new Set(k.stderr.split('\n').filter((l) => l.includes('PocketKube')))];
    assert.equal(ours.length, 1, k.stderr);
    assert.match(ours[0]!, /not signed in to pocket-id \(Pocket ID ended the session/);
  });

  test('removing the provider removes its file', async () => {
    const { cli } = await stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(await stat(cached()));
    const rm = await stack.cli(['provider', 'remove', stack.provider]);
    assert.equal(rm.code, 0, rm.stderr);
    await assert.rejects(stat(cached()), { code: 'ENOENT' });
  });
});
