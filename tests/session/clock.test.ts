/**
 * A laptop clock 57 minutes ahead of Pocket ID's, end to end: the real `pocketkube agent` runs under Debian's
 * faketime against the real Pocket ID stand-in (on the true clock), and the real kubectl and API server stand-in
 * use the token. Before the fix every fresh token was already due: a rotation every 2 s.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { AgentStatus } from '../../electron/shared/api.js';
import { HELPER, launchChromium, run, Stack } from '../support/stack.js';
import { inCI } from '../support/ci.js';

const FAKETIME = '/usr/bin/faketime';
const AHEAD = '+57m';
const AHEAD_MS = 57 * 60_000;

/** `pocketkube agent` as its own process with the shifted clock; resolves once it serves its socket. */
function startSkewedAgent(stack: Stack, ahead = AHEAD): Promise<ChildProcess> {
  // Its own process group: faketime runs the agent as its child and does not pass signals on, so the stop
  // signals the group, which reaches the agent whatever happened to its pid file.
  const child = spawn(FAKETIME, ['-f', ahead, HELPER, 'agent'], { env: stack.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${log}`)), 20_000);
    child.stderr!.on('data', (d) => {
      log += d;
      if (log.includes('PocketKube agent running')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${log}`));
    });
  });
}

async function stopSkewedAgent(agent: ChildProcess | undefined): Promise<void> {
  if (!agent || agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-agent.pid!, signal);
    } catch {
      /* already gone */
    }
  };
  group('SIGTERM');
  const killer = setTimeout(() => group('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

const skipWithoutFaketime = existsSync(FAKETIME) || inCI() ? false : `${FAKETIME} is not installed`;

/** For one describe: Chromium, the Pocket ID stand-in and a `pocketkube agent` running `ahead` under faketime. */
function skewedSuite(ahead: string): { stack: Stack; browser: () => Browser } {
  const stack = new Stack();
  let browser: Browser | undefined;
  let agent: ChildProcess | undefined;
  before(async () => {
    browser = await launchChromium();
    await stack.start();
    await stack.configure();
    agent = await startSkewedAgent(stack, ahead);
  });
  after(async () => {
    await stopSkewedAgent(agent);
    await browser?.close();
    await stack.close();
  });
  return { stack, browser: () => browser! };
}

describe('a laptop clock 57 min ahead of Pocket ID (the agent under faketime)', { skip: skipWithoutFaketime }, () => {
  const { stack, browser } = skewedSuite(AHEAD);
  before(async () => {
    const { cli } = await stack.login(browser());
    assert.equal(cli.code, 0, cli.stderr);
  });

  async function status(): Promise<AgentStatus['providers'][number]> {
    const res = await stack.cli(['status', '--json']);
    assert.equal(res.code, 0, res.stderr);
    return (JSON.parse(res.stdout) as AgentStatus).providers[0]!;
  }

  test('the next refresh is planned 55 min after the token arrived, not at once, and kubectl works without one', async () => {
    const before = await stack.pocketId.stats();
    const kubectl = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(kubectl.code, 0, kubectl.stderr);
    const p = await status();
    const agentNow = Date.now() + AHEAD_MS;
    const dueIn = Date.parse(p.nextRefreshAt!) - agentNow;
    assert.ok(dueIn > 50 * 60_000, `next refresh in ${Math.round(dueIn / 1000)} s on the agent's clock (before the fix: 2 s)`);
    assert.ok(p.idToken!.secondsLeft > 55 * 60, `the token's hour counts from its arrival (${p.idToken!.secondsLeft} s left)`);
    assert.equal((await stack.pocketId.stats()).refreshGrants, before.refreshGrants, 'no refresh for kubectl');
  });

  test('a refresh measures the skew again and plans the next one from the new token', async () => {
    const before = await stack.pocketId.stats();
    const res = await stack.cli(['refresh']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await stack.pocketId.stats()).refreshGrants - before.refreshGrants, 1);
    const p = await status();
    assert.ok(Date.parse(p.nextRefreshAt!) - (Date.now() + AHEAD_MS) > 50 * 60_000);
  });

  test('status shows the skew, in JSON and in words', async () => {
    const p = await status();
    assert.ok(Math.abs(p.clock!.skewSeconds - 57 * 60) <= 5, `skew ${p.clock!.skewSeconds} s`);
    const text = await stack.cli(['status']);
    assert.match(text.stdout, /^ {2}Clock: this machine's clock is 57 min ahead of Pocket ID's, from the ID token's iat at /m);
  });

  test('doctor fails the clock check with both measurements and the fix', async () => {
    const res = await run(FAKETIME, ['-f', AHEAD, HELPER, 'doctor'], stack.env, { timeoutMs: 60_000 });
    const line = res.stdout.split('\n').find((l) => l.includes('Clock:'));
    assert.ok(line, res.stdout + res.stderr);
    assert.match(line, /^✖ Clock: This machine's clock is off \(by Pocket ID's Date header, about 34\d\d s ahead of Pocket ID's; by the agent's last ID token \(iat, at [^)]+\), 57 min ahead of Pocket ID's\)/);
    assert.match(res.stdout, /fix: Turn on time synchronisation \(NTP\)/);
  });
});

// An hour and a half ahead: past the ID token's whole hour, so openid-client's own iat/exp checks (30 s
// tolerance on this machine's clock) rejected every token before it took Pocket ID's Date header as its time.
describe('a laptop clock 90 min ahead of Pocket ID: more than a token lifetime (the agent under faketime)', { skip: skipWithoutFaketime }, () => {
  const { stack, browser } = skewedSuite('+90m');

  test('sign-in, kubectl and a refresh all work, and the session stays signed in', async () => {
    const { cli } = await stack.login(browser());
    assert.equal(cli.code, 0, `sign-in: ${cli.stderr}`);
    const kubectl = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(kubectl.code, 0, kubectl.stderr);
    const before = await stack.pocketId.stats();
    const res = await stack.cli(['refresh']);
    assert.equal(res.code, 0, `refresh: ${res.stderr}`);
    assert.equal((await stack.pocketId.stats()).refreshGrants - before.refreshGrants, 1);
    const st = await stack.cli(['status', '--json']);
    const p = (JSON.parse(st.stdout) as AgentStatus).providers[0]!;
    assert.equal(p.state, 'signed-in', 'still signed in after the refresh');
    assert.ok(Math.abs(p.clock!.skewSeconds - 90 * 60) <= 5, `skew ${p.clock!.skewSeconds} s`);
    const again = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(again.code, 0, again.stderr);
  });
});
