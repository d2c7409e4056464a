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

describe('a Pocket ID outage while the token is valid', () => {
  const stack = new Stack();
  const clock = new ManualClock();
  let agent: Agent;
  before(async () => {
    agent = await signedInAgent(stack, clock, 3600);
  });
  after(async () => {
    await stack.pocketId?.clearFault().catch(() => {});
    await agent?.stop();
    await stack.close();
  });

  /**
   * Moves the agent's clock to the planned try and waits for its outcome. Returns when the try was, how far
   * ahead of the try's recorded time (lastRefresh.at) the session planned the next one (both on the
   * session's clock) and, while the stand-in runs, whether its staged fault answered it (its count goes up by
   * one per request).
   */
  const nextTry = async (stand = true): Promise<{ at: number; recordedAt: number; retryIn: number; faulted: boolean }> => {
    const session = agent.session('pocket-id')!;
    const planned = Date.parse(session.snapshot().nextRefreshAt!);
    assert.ok(planned > clock.now(), 'a try is planned ahead');
    const served = stand ? (await stack.pocketId.faultStats()).served : 0;
    const outcome = once(session, 'change');
    clock.advance(planned + 1 - clock.now()); // +1: the plan is shown to the millisecond, the timer may be finer
    const at = clock.now();
    await outcome;
    const snap = session.snapshot();
    const recordedAt = Date.parse(snap.lastRefresh!.at);
    const retryIn = Date.parse(snap.nextRefreshAt!) - recordedAt;
    const faulted = stand ? (await stack.pocketId.faultStats()).served - served : 0;
    assert.ok(faulted <= 1, `one request per try (${faulted})`);
    return { at, recordedAt, retryIn, faulted: faulted === 1 };
  };

  test('is retried with backoff (2, 4, 8 s, then a thirtieth of the time left), kubectl keeps working, and the session recovers when Pocket ID returns', async () => {
    const warm = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(warm.code, 0, warm.stderr);
    const session = agent.session('pocket-id')!;
    const expires = Date.parse(session.snapshot().idToken!.expiresAt);
    const start = await stack.pocketId.stats();
    // Its reverse proxy answers 503 while Pocket ID is down.
    await stack.pocketId.setFault({ endpoint: 'token', status: 503 });

    const tries: { recordedAt: number; retryIn: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const attempt = await nextTry();
      assert.ok(attempt.faulted, `try ${i + 1} reached Pocket ID's proxy`);
      tries.push(attempt);
    }
    assert.equal(session.snapshot().state, 'signed-in', 'an outage does not sign the user out');
    assert.equal(session.snapshot().lastRefresh?.result, 'retrying');
    assert.match(session.snapshot().lastRefresh?.message ?? '', /https:\/\/localhost:\d+ answered HTTP 503 \(service unavailable\)/);
    // Each retry is planned from the failed answer's time, on the session's own clock: to the millisecond
    // (a plan in fractional milliseconds is shown truncated).
    const planned = [2_000, 4_000, 8_000, Math.trunc(Math.max(2_000, Math.min(16_000, (expires - tries[3]!.recordedAt) / 30)))];
    const retryIns = tries.slice(0, 4).map((t) => t.retryIn);
    assert.deepEqual(retryIns, planned, 'the retries after tries 1 to 4 are planned 2, 4, 8 s, then a thirtieth of the time left, after each failed answer');
    assert.ok(planned[3]! < 16_000, 'the fourth interval is shortened by the time left, not doubled');
    const during = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(during.code, 0, during.stderr);

    await stack.pocketId.clearFault();
    assert.equal((await nextTry()).faulted, false, 'Pocket ID is back');
    const end = await stack.pocketId.stats();
    assert.equal((await stack.pocketId.faultStats()).served, 5, 'the proxy answered the five tries of the outage');
    assert.equal(end.refreshGrants - start.refreshGrants, 1, 'Pocket ID itself got one refresh, after it returned');
    assert.equal(end.refreshFailures, start.refreshFailures, 'and accepted it: the refresh token kept through the outage was good');
    assert.equal(end.codeGrants, start.codeGrants, 'no browser sign-in');
    const snap = session.snapshot();
    assert.equal(snap.state, 'signed-in');
    assert.equal(snap.lastRefresh?.result, 'ok');
    assert.equal(snap.lastRefresh?.trigger, 'background');
    assert.equal(Date.parse(snap.nextRefreshAt!), Date.parse(snap.idToken!.expiresAt) - 5 * 60_000, 'the next refresh is planned 5 min before the new expiry');
    const ahead = Date.parse(snap.nextRefreshAt!) - clock.now();
    assert.ok(ahead > 54 * 60_000 && ahead <= 55 * 60_000, `the next refresh is ${Math.round(ahead / 1000)} s away, not a retry`);
    const after = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(after.code, 0, after.stderr);
  });

  test('a Pocket ID that cannot be reached at all is retried the same way, starting over at 2 s, and kubectl keeps working', async () => {
    const session = agent.session('pocket-id')!;
    await stack.pocketId.close();
    const first = await nextTry(false);
    const snap = session.snapshot();
    assert.equal(first.retryIn, 2_000, 'the first retry after a good refresh is 2 s after the failure, the backoff having been reset');
    assert.equal(snap.state, 'signed-in', 'a network error does not sign the user out');
    assert.equal(snap.lastRefresh?.result, 'retrying');
    assert.match(snap.lastRefresh?.message ?? '', /cannot reach https:\/\/localhost:\d+/);
    const res = await stack.kubectl(['get', '--raw', '/version']);
    assert.equal(res.code, 0, res.stderr);
  });
});
