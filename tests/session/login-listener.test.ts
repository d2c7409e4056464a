/**
 * The sign-in's loopback listener (electron/core/oidc/loopback.ts) as the session uses it, end to end: the
 * Pocket ID stand-in, real Chromium, `pocketkube login` and the agent as processes. A callback from an older
 * attempt or with a forged `state` is refused and the real one still completes; a callback port in use is one
 * sentence; a sign-in nobody finishes gives up, frees the port and leaves the next one working.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { AgentClient } from '../../electron/client/agent-client.js';
import { launchChromium, signInInBrowser, signInLanding, Stack, type RunResult } from '../support/stack.js';

const stack = new Stack();
let browser: Browser;

before(async () => {
  browser = await launchChromium();
  await stack.start();
  await stack.configure();
});
after(async () => {
  await browser?.close();
  await stack.close();
});

/** `pocketkube login --no-browser`, bounded: a sign-in that never gives up fails the test instead of hanging it. */
const startLogin = () => stack.startLogin(stack.provider, 45_000);

/** Opens a URL in Chromium as a tab left open would: its status and heading. */
async function openInBrowser(url: string): Promise<{ status: number; heading: string; text: string }> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    const res = await page.goto(url);
    return { status: res?.status() ?? 0, heading: (await page.textContent('h1'))?.trim() ?? '', text: (await page.textContent('p'))?.trim() ?? '' };
  } finally {
    await ctx.close();
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Whether anything accepts a connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

const client = () => new AgentClient(stack.home.socketPath);

describe('with a `pocketkube agent` process', () => {
  let agent: ChildProcess;
  before(async () => {
    agent = await stack.startAgentProcess();
  });
  after(async () => {
    await stack.cli(['logout']);
    await stack.stopAgentProcess(agent);
  });

  test('a callback from an older sign-in, or with a forged state, is refused with a sentence and the real sign-in still completes', async () => {
    // A first sign-in whose tab stays open on its callback URL.
    const first = await startLogin();
    const old = await signInLanding(browser, first.url);
    assert.equal(old.heading, 'Signed in');
    assert.equal((await first.exited).code, 0);
    assert.equal((await stack.cli(['logout'])).code, 0);

    const second = await startLogin();
    const grantsBefore = (await stack.pocketId.stats()).codeGrants;
    // The old tab reloaded while the new sign-in waits: its state belongs to the first attempt.
    const stale = await openInBrowser(old.callback);
    assert.deepEqual(stale, {
      status: 400,
      heading: 'This sign-in is out of date',
      text: 'This tab belongs to an older sign-in attempt. Close it and use the newest one.',
    });
    const forged = await get(`http://127.0.0.1:${stack.callbackPort}/?code=forged-code&state=forged-state`);
    assert.equal(forged.status, 400);
    assert.match(forged.body, /<h1>This sign-in is out of date<\/h1>/);
    assert.doesNotMatch(forged.body, /forged/, 'nothing from the request is echoed');
    assert.equal((await stack.pocketId.stats()).codeGrants, grantsBefore, 'neither code was sent to Pocket ID');
    const waiting = await client().provider(stack.provider);
    assert.equal(waiting.state, 'signed-out');
    assert.equal(waiting.signingIn?.method, 'browser', 'the sign-in is still under way');

    assert.equal(await signInInBrowser(browser, second.url), 'Signed in');
    const done = await second.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /^Signed in to pocket-id as Alice Anderson/m);
    assert.equal((await stack.pocketId.stats()).codeGrants, grantsBefore + 1, 'only the real code was exchanged');
    assert.equal((await client().provider(stack.provider)).state, 'signed-in');
  });

  test('a callback port in use fails the sign-in with one sentence naming the port and what to do; once free, sign-in works', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(stack.callbackPort, '127.0.0.1', () => resolve()));
    let res: RunResult;
    try {
      res = await stack.cli(['login', '--no-browser']);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    const port = stack.callbackPort;
    assert.equal(
      res.stderr,
      `pocketkube: Sign-in needs http://localhost:${port} for the redirect, but port ${port} is in use by another program (another sign-in, or kubelogin?); close it or set another --callback-port (registered at Pocket ID too).\n`,
    );
    assert.equal((await client().provider(stack.provider)).signingIn, undefined, 'no sign-in is left half-started');
    assert.equal(await listening(port), false, 'the listener let go of what it had bound');

    const again = await stack.login(browser);
    assert.equal(again.page, 'Signed in');
    assert.equal(again.cli.code, 0, again.cli.stderr);
  });
});

describe('the sign-in timeout', () => {
  let agent: Agent;
  before(async () => {
    // The same Agent the CLI runs, in this process, so its sign-in gives up after 8 s instead of 5 minutes (8 s leaves
    // Chromium time to finish the next sign-in on a busy machine).
    agent = new Agent({ home: stack.home, kubeconfigFiles: [stack.kubeconfig], loginTimeoutMs: 8_000 });
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
  });

  test('a sign-in nobody finishes gives up with a sentence, frees the port and its link, and the next sign-in works', async () => {
    const abandoned = await startLogin();
    assert.equal(await listening(stack.callbackPort), true);
    const res = await abandoned.exited;
    assert.equal(res.code, 1);
    assert.match(res.stderr.split('\n').at(-2)!, new RegExp(`^pocketkube: No sign-in reached http://localhost:${stack.callbackPort} within 8 s; run the sign-in again\\.$`));
    assert.equal(await listening(stack.callbackPort), false, 'the port is free again');
    assert.equal((await client().provider(stack.provider)).signingIn, undefined);
    assert.equal((await client().provider(stack.provider)).state, 'signed-out');

    const next = await startLogin();
    assert.notEqual(next.url, abandoned.url);
    assert.equal(await signInInBrowser(browser, next.url), 'Signed in');
    const done = await next.exited;
    assert.equal(done.code, 0, done.stderr);
  });
});
