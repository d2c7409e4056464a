import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { ManualClock } from '../support/clock.js';
import { wakeAfter } from '../support/wake.js';
import { launchChromium, Stack } from '../support/stack.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** The agent runs in this process so the test owns its clock; kubectl and the helper reach it over the real socket. */
async function signedInAgent(stack: Stack, clock: ManualClock, firstTokenTtl: number): Promise<Agent> {
  await stack.start();
  await stack.configure();
  const agent = new Agent({ home: stack.home, clock });
  await agent.start();
  await stack.pocketId.setIdTokenTtl(firstTokenTtl);
  const { cli } = await stack.login(browser);
  assert.equal(cli.code, 0, cli.stderr);
  await stack.pocketId.setIdTokenTtl(3600);
  return agent;
}

describe('keeping the session alive, one refresh at a time', () => {
  const stack = new Stack();
  const clock = new ManualClock();
  let agent: Agent;
  before(async () => {
    agent = await signedInAgent(stack, clock, 120);
  });
  after(async () => {
    await agent?.stop();
    await stack.close();
  });

  test('100 concurrent kubectl commands at the moment of expiry cause exactly one refresh, and all succeed', async () => {
    const before = await stack.pocketId.stats();
    // The laptop wakes with 20 s left on the token: below the 60 s floor, so every caller needs a refresh.
    await wakeAfter(clock, 100_000, stack.home);
    const runs = await Promise.all(Array.from({ length: 100 }, () => stack.kubectl(['get', '--raw', '/version'], { timeoutMs: 120_000 })));
    const failed = runs.filter((r) => r.code !== 0);
    assert.equal(failed.length, 0, failed[0]?.stderr);
    const after = await stack.pocketId.stats();
    assert.equal(after.refreshGrants - before.refreshGrants, 1, 'exactly one refresh reached Pocket ID');
    assert.equal(after.refreshFailures, before.refreshFailures);
    assert.equal(after.codeGrants, before.codeGrants, 'no browser sign-in');
  });

  test('the token is refreshed in the background before it expires, with no browser', async () => {
    const session = agent.session('pocket-id')!;
    const snap = session.snapshot();
    const due = Date.parse(snap.nextRefreshAt!);
    const expires = Date.parse(snap.idToken!.expiresAt);
    assert.ok(expires - due >= 60_000, 'the refresh is due at least a minute before expiry');
    const before = await stack.pocketId.stats();
    const refreshed = once(session, 'refreshed');
    clock.advance(due - clock.now() + 1);
    await refreshed;
    const after = await stack.pocketId.stats();
    assert.equal(after.refreshGrants - before.refreshGrants, 1);
    assert.equal(after.codeGrants, before.codeGrants);
    assert.equal(session.snapshot().lastRefresh?.result, 'ok');
    assert.equal(session.snapshot().lastRefresh?.trigger, 'background');
    const res = await stack.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(res.code, 0, res.stderr);
  });

  test('a refresh sees group changes made at Pocket ID', async () => {
    await stack.pocketId.setUser('alice', { groups: ['kubernetes', 'developers', 'sre'] });
    const res = await stack.cli(['refresh']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(agent.session('pocket-id')!.snapshot().identity?.groups, ['kubernetes', 'developers', 'sre']);
  });

  test('once signed out, any number of concurrent kubectl calls make at most one sign-in prompt', async () => {
    const session = agent.session('pocket-id')!;
    let prompts = 0;
    session.on('sign-in-needed', () => prompts++);
    const out = await stack.cli(['logout']);
    assert.equal(out.code, 0, out.stderr);
    const runs = await Promise.all(Array.from({ length: 20 }, () => stack.kubectl(['get', '--raw', '/version'])));
    assert.ok(runs.every((r) => r.code !== 0 && /not signed in to pocket-id \(you signed out\)/.test(r.stderr)));
    assert.equal(prompts, 1);
  });
});

describe('a provider that cannot be reached', () => {
  const stack = new Stack();
  const clock = new ManualClock();
  let agent: Agent;
  before(async () => {
    agent = await signedInAgent(stack, clock, 3600);
  });
  after(async () => {
    await agent?.stop();
    await stack.close();
  });

  test('network errors while the token is valid are retried with backoff, and kubectl keeps working', async () => {
    const warm = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(warm.code, 0, warm.stderr);
    await stack.pocketId.close();
    const session = agent.session('pocket-id')!;
    const due = Date.parse(session.snapshot().nextRefreshAt!);
    clock.advance(due - clock.now() + 1);
    // The background refresh is in flight; joining it waits for its outcome without starting another.
    await session.refresh('background').catch(() => {});
    const snap = session.snapshot();
    assert.equal(snap.state, 'signed-in', 'a network error does not sign the user out');
    assert.equal(snap.lastRefresh?.result, 'retrying');
    assert.match(snap.lastRefresh?.message ?? '', /cannot reach https:\/\/localhost:\d+/);
    assert.ok(Date.parse(snap.nextRefreshAt!) > clock.now(), 'a retry is scheduled');
    const res = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(res.code, 0, res.stderr);
  });
});
