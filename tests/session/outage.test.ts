/**
 * An identity provider that hiccups, end to end: the real Pocket ID stand-in staging 503, 404, 429, 408 and
 * a reverse proxy's HTML pages at its token endpoint, a 404 from discovery, and a hang; the agent in this
 * process (so the test owns its clock); the real `pocketkube` CLI and kubectl over the real socket.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent } from '../../electron/agent/agent.js';
import { secretKeys } from '../../electron/core/session/providers.js';
import type { Session } from '../../electron/core/session/session.js';
import { ManualClock } from '../support/clock.js';
import { wakeAfter } from '../support/wake.js';
import { launchChromium, Stack } from '../support/stack.js';
import type { PocketIdFault } from '../stand-ins/pocket-id.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** For one describe: a stack, a test clock and an in-process agent signed in as Alice; all torn down after. */
function signedInForSuite(): { stack: Stack; clock: ManualClock; agent: Agent } {
  const t = { stack: new Stack(), clock: new ManualClock(), agent: undefined as unknown as Agent };
  before(async () => {
    await t.stack.start();
    await t.stack.configure();
    t.agent = new Agent({ home: t.stack.home, clock: t.clock });
    await t.agent.start();
    const { cli } = await t.stack.login(browser);
    assert.equal(cli.code, 0, cli.stderr);
  });
  after(async () => {
    await t.stack.pocketId?.clearFault().catch(() => {});
    await t.agent?.stop();
    await t.stack.close();
  });
  return t;
}

async function storedRefreshToken(stack: Stack): Promise<string | undefined> {
  const all = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
  return all[secretKeys.refreshToken(stack.provider)];
}

/** Waits, on the session's 'change' events, until it records a refresh outcome after `since`; fails after 10 s. */
function nextOutcome(session: Session, since?: string): Promise<NonNullable<ReturnType<Session['snapshot']>['lastRefresh']>> {
  type Outcome = NonNullable<ReturnType<Session['snapshot']>['lastRefresh']>;
  return new Promise<Outcome>((resolve, reject) => {
    const recorded = (): boolean => {
      const r = session.snapshot().lastRefresh;
      if (!r || r.at === since) return false;
      done();
      resolve(r);
      return true;
    };
    const guard = setTimeout(() => {
      done();
      reject(new Error('no refresh outcome within 10 s'));
    }, 10_000);
    const onChange = (): void => void recorded();
    const done = (): void => {
      clearTimeout(guard);
      session.off('change', onChange);
    };
    session.on('change', onChange);
    recorded();
  });
}

const RETRIED: { label: string; fault: PocketIdFault; says: RegExp }[] = [
  { label: '503', fault: { endpoint: 'token', status: 503 }, says: /answered HTTP 503 \(service unavailable\); retrying in \d+ (s|min), and kubectl keeps the current token while it is valid/ },
  { label: '404', fault: { endpoint: 'token', status: 404 }, says: /answered HTTP 404 \(not found\); retrying in \d+ (s|min), and kubectl keeps the current token while it is valid/ },
  { label: '429', fault: { endpoint: 'token', status: 429 }, says: /answered HTTP 429 \(too many requests\); retrying in \d+ (s|min), and kubectl keeps the current token while it is valid/ },
  { label: '408', fault: { endpoint: 'token', status: 408 }, says: /answered HTTP 408 \(request timeout\); retrying in \d+ (s|min), and kubectl keeps the current token while it is valid/ },
  { label: "a reverse proxy's HTML 502 page", fault: { endpoint: 'token', status: 502, html: true }, says: /HTTP 502 \(bad gateway\) with an HTML page/ },
  { label: "a reverse proxy's HTML 403 page", fault: { endpoint: 'token', status: 403, html: true }, says: /HTTP 403 with an HTML page/ },
  { label: 'an HTML page with 200', fault: { endpoint: 'token', status: 200, html: true }, says: /HTTP 200 with an HTML page/ },
];

describe('a token endpoint that fails without saying the grant is gone', () => {
  const t = signedInForSuite();

  for (const { label, fault, says } of RETRIED) {
    test(`${label}: the session is kept and retried, kubectl keeps working, and it refreshes once the provider is back`, async () => {
      const session = t.agent.session(t.stack.provider)!;
      const kept = await storedRefreshToken(t.stack);
      await t.stack.pocketId.setFault(fault);
      const failed = await t.stack.cli(['refresh']);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, says);
      assert.equal(failed.stderr.trim().split('\n').length, 1, 'one line');
      const snap = session.snapshot();
      assert.equal(snap.state, 'signed-in');
      assert.equal(snap.lastRefresh?.result, 'retrying');
      assert.ok(snap.nextRefreshAt, 'a retry is planned');
      assert.equal(await storedRefreshToken(t.stack), kept, 'the refresh token is kept');
      const kubectl = await t.stack.kubectl(['get', '--raw', '/version']);
      assert.equal(kubectl.code, 0, kubectl.stderr);

      await t.stack.pocketId.clearFault();
      const before = await t.stack.pocketId.stats();
      const ok = await t.stack.cli(['refresh']);
      assert.equal(ok.code, 0, ok.stderr);
      const afterStats = await t.stack.pocketId.stats();
      assert.equal(afterStats.refreshFailures, before.refreshFailures, 'the kept refresh token was still good');
      assert.equal(session.snapshot().lastRefresh?.result, 'ok');
    });
  }

  test('a 429 with Retry-After: 120 plans the next try 2 min out, and kubectl asking meanwhile gets the valid token without sending a refresh', async () => {
    const session = t.agent.session(t.stack.provider)!;
    const expires = Date.parse(session.snapshot().idToken!.expiresAt);
    await t.stack.pocketId.setFault({ endpoint: 'token', status: 429, retryAfter: '120' });
    // The laptop wakes a minute before expiry: the re-check refreshes (due 5 min before) and gets the 429.
    const since = session.snapshot().lastRefresh?.at;
    await wakeAfter(t.clock, expires - 60_000 - t.clock.now(), t.stack.home);
    t.agent.recheckAll();
    const outcome = await nextOutcome(session, since);
    assert.equal(outcome.result, 'retrying', outcome.message);
    const wait = Date.parse(session.snapshot().nextRefreshAt!) - t.clock.now();
    assert.ok(wait > 115_000 && wait <= 120_000, `the planned try waits the 120 s asked (it is ${wait} ms away), not 2 s`);
    // 30 s left, under the 60 s floor: kubectl would refresh on demand, but Pocket ID asked to be left alone.
    const served = (await t.stack.pocketId.faultStats()).served;
    await wakeAfter(t.clock, 30_000, t.stack.home);
    const kubectl = await t.stack.kubectl(['get', '--raw', '/version']);
    assert.equal(kubectl.code, 0, kubectl.stderr);
    assert.equal((await t.stack.pocketId.faultStats()).served, served, 'no request reached Pocket ID inside the Retry-After');
    // `pocketkube refresh` is the user asking: it is sent, and says what Pocket ID asked.
    const manual = await t.stack.cli(['refresh']);
    assert.notEqual(manual.code, 0);
    assert.match(manual.stderr, /answered HTTP 429 \(too many requests\) \(it asked to wait 2 min\); retrying in 2 min, and kubectl keeps the current token while it is valid/);
    await t.stack.pocketId.clearFault();
    const ok = await t.stack.cli(['refresh']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(session.snapshot().lastRefresh?.result, 'ok');
  });

  test('a hung Pocket ID costs kubectl at most the on-demand wait while the token has time left; the refresh goes on', async () => {
    const session = t.agent.session(t.stack.provider)!;
    const expires = Date.parse(session.snapshot().idToken!.expiresAt);
    await t.stack.pocketId.setFault({ endpoint: 'token', hang: true });
    // 30 s left: below the 60 s floor, so kubectl's call refreshes (the helper's cache moves with the clock).
    await wakeAfter(t.clock, expires - 30_000 - t.clock.now(), t.stack.home);
    const res = await t.stack.kubectl(['get', '--raw', '/version'], { timeoutMs: 60_000 });
    const faults = await t.stack.pocketId.faultStats();
    assert.equal(res.code, 0, res.stderr);
    assert.equal(faults.hanging, 1, 'kubectl finished while the one refresh request still hangs at Pocket ID');
    assert.equal(session.snapshot().state, 'signed-in');
    const since = session.snapshot().lastRefresh?.at;
    await t.stack.pocketId.clearFault(); // Pocket ID comes back: the hung request is dropped
    const outcome = await nextOutcome(session, since);
    assert.equal(outcome.result, 'retrying', outcome.message);
    assert.equal(session.snapshot().state, 'signed-in', 'a refresh that timed out or was cut does not sign out');
  });
});

describe('discovery failing at start, then the grant really gone', () => {
  const t = signedInForSuite();

  test('a 404 from discovery when the agent starts keeps the stored session, and it resumes once discovery answers', async () => {
    const expires = Date.parse(t.agent.session(t.stack.provider)!.snapshot().idToken!.expiresAt);
    await t.agent.stop();
    const kept = await storedRefreshToken(t.stack);
    await t.stack.pocketId.setFault({ endpoint: 'discovery', status: 404 });
    t.clock.jump(expires - 30_000 - t.clock.now()); // the stored token needs a refresh at start
    t.agent = new Agent({ home: t.stack.home, clock: t.clock });
    await t.agent.start();
    const session = t.agent.session(t.stack.provider)!;
    const outcome = await nextOutcome(session);
    assert.equal(outcome.result, 'retrying', outcome.message);
    assert.match(outcome.message ?? '', /openid-configuration failed: https:\/\/localhost:\d+ answered HTTP 404 \(not found\)\.$/);
    assert.equal(session.snapshot().state, 'signed-in');
    assert.equal(await storedRefreshToken(t.stack), kept);
    await t.stack.pocketId.clearFault();
    const ok = await t.stack.cli(['refresh']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('access_denied at the token endpoint ends the session with a clear reason and deletes the refresh token', async () => {
    await t.stack.pocketId.setUser('alice', { groups: ['developers'] });
    const res = await t.stack.cli(['refresh']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /not signed in to pocket-id \(Pocket ID denied access: your account is not in a group allowed to use this client/);
    assert.equal(t.agent.session(t.stack.provider)!.snapshot().state, 'signed-out');
    assert.equal(await storedRefreshToken(t.stack), undefined);
  });
});
