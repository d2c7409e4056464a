import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../platform/clock.js';
import { ManualClock } from '../../../tests/support/clock.js';
import { LaptopClock } from '../../../tests/support/monotonic-clock.js';
import { OidcError, type TokenSet } from '../oidc/oidc.js';
import type { PocketKubeError } from '../platform/errors.js';
import { secretKeys, tokenOwner, type ProviderConfig } from './providers.js';
import { MemorySecretStore, type SecretStore } from './secret-store.js';
import { Session, type Logger, type SessionOidc } from './session.js';

const ISSUER = 'https://id.example.com';
const MIN = 60_000;
const HOUR = 60 * MIN;
const provider: ProviderConfig = { name: 'pocket-id', issuer: ISSUER, clientId: 'c', confidential: false, scopes: ['openid'], callbackPort: 8000 };

/** An ID token as Pocket ID would issue it at `issuedAt` on Pocket ID's clock (unsigned: the session only reads claims). */
function token(issuedAt: number, refreshToken: string, ttlMs = HOUR, claimed: { sub?: string; iss?: string } = {}): TokenSet {
  const iat = Math.floor(issuedAt / 1000);
  const claims = { iss: claimed.iss ?? ISSUER, sub: claimed.sub ?? 'alice', aud: ['c'], iat, exp: iat + ttlMs / 1000 };
  const idToken = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  return { idToken, refreshToken, claims, issuedAt: iat * 1000, expiresAt: (iat + ttlMs / 1000) * 1000 };
}

/** `held`: the answer waits until the test calls release(). */
type Answer = 'network' | 'hang' | 'held' | ((sent: string) => TokenSet);

/** A provider that answers refreshes as the test scripts them, and records what it was sent and when. */
class ScriptedProvider implements Partial<SessionOidc> {
  calls: { at: number; refreshToken: string }[] = [];
  /** The ID token hints sign-outs sent to the end-session endpoint. */
  endSessions: string[] = [];
  pending = 0;
  next: Answer = 'network';
  private n = 0;
  private held: ((answer: () => TokenSet) => void)[] = [];
  constructor(private readonly clock: Pick<Clock, 'now'>, private readonly providerClockOffset = 0) {}

  /** Fresh tokens as Pocket ID issues them: iat is Pocket ID's now (this clock minus the offset). */
  fresh = (ttlMs = HOUR): TokenSet => token(this.clock.now() - this.providerClockOffset, `rt${++this.n}`, ttlMs);

  refresh = async (refreshToken: string): Promise<TokenSet> => {
    this.calls.push({ at: this.clock.now(), refreshToken });
    const answer = this.next;
    if (answer === 'hang') {
      this.pending++;
      return new Promise<TokenSet>(() => {});
    }
    if (answer === 'held') {
      return new Promise<TokenSet>((resolve, reject) =>
        this.held.push((make) => {
          try {
            resolve(make());
          } catch (err) {
            reject(err as Error);
          }
        }),
      );
    }
    if (answer === 'network') throw new OidcError('Refreshing the session failed: cannot reach the provider (ECONNREFUSED).', 'network');
    return answer(refreshToken);
  };

  /** Answers the oldest held refresh now. */
  release(make: () => TokenSet): void {
    const answer = this.held.shift();
    assert.ok(answer, 'a refresh is held at the provider');
    answer(make);
  }

  endSession = async (idTokenHint: string): Promise<void> => {
    this.endSessions.push(idTokenHint);
  };
}

/** Lets the session's promise chains (store writes, refresh outcomes) settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function resumed(opts: { clock: Clock; scripted: ScriptedProvider; store?: SecretStore; held?: TokenSet; onDemandWaitMs?: number; log?: Logger }) {
  const store = opts.store ?? new MemorySecretStore();
  const held = opts.held ?? token(opts.clock.now(), 'rt0');
  await store.set(secretKeys.refreshToken(provider.name), held.refreshToken!);
  await store.set(secretKeys.idToken(provider.name), held.idToken);
  const session = new Session(provider, { store, clock: opts.clock, oidc: opts.scripted as unknown as SessionOidc, onDemandWaitMs: opts.onDemandWaitMs, log: opts.log });
  await session.resume();
  return { session, store, held };
}

/** A memory store whose writes fail while `failure` names a reason (a full disk, a locked keychain). */
function failingStore(failure: (key: string, value: string) => string | undefined): { store: SecretStore; memory: MemorySecretStore } {
  const memory = new MemorySecretStore();
  const store: SecretStore = {
    kind: 'memory',
    describe: () => 'memory',
    get: (k) => memory.get(k),
    set: async (k, v) => {
      const why = failure(k, v);
      if (why) throw new Error(why);
      await memory.set(k, v);
    },
    delete: (k) => memory.delete(k),
  };
  return { store, memory };
}

test('kubectl asking during an outage does not push the background retry later', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const { session, held } = await resumed({ clock, scripted });
  clock.advance(held.expiresAt - 5 * MIN - clock.now()); // the background refresh comes due and fails
  await settle();
  // The laptop wakes 50 s before expiry; kubectl runs five times while Pocket ID is still down.
  clock.jump(held.expiresAt - 50_000 - clock.now());
  for (let i = 0; i < 5; i++) {
    const cred = await session.credential();
    assert.equal(cred.token, held.idToken, 'kubectl gets the token that is still valid');
  }
  const retryIn = Date.parse(session.snapshot().nextRefreshAt!) - clock.now();
  assert.ok(retryIn <= 2_000, `the next background try is at most 2 s away, not pushed out by kubectl's attempts (it is ${retryIn} ms)`);
});

test('the background retry interval shrinks to a few seconds in the last minutes before expiry', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const { held } = await resumed({ clock, scripted });
  // Pocket ID is down from the refresh point to expiry; time passes a second at a time.
  clock.advance(held.expiresAt - 5 * MIN - clock.now());
  await settle();
  for (let i = 0; i < 5 * 60 && clock.now() < held.expiresAt; i++) {
    clock.advance(1_000);
    await settle();
  }
  const lastMinutes = scripted.calls.filter((c) => held.expiresAt - c.at <= 2 * MIN && c.at < held.expiresAt);
  assert.ok(lastMinutes.length >= 2, `several tries in the last two minutes (${lastMinutes.length})`);
  const gaps = lastMinutes.slice(1).map((c, i) => c.at - lastMinutes[i]!.at);
  assert.ok(Math.max(...gaps) <= 5_000, `tries at most 5 s apart in the last two minutes (gaps ${gaps.join(', ')} ms)`);
  assert.ok(scripted.calls.length <= 100, `bounded: ${scripted.calls.length} tries in five minutes`);
});

test('when Pocket ID hangs, kubectl gets the still-valid token after the on-demand wait and the refresh goes on', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const { session, held } = await resumed({ clock, scripted, onDemandWaitMs: 50 });
  clock.jump(held.expiresAt - 30_000 - clock.now()); // below the hand-out floor: a refresh is needed
  scripted.next = 'hang';
  let bound: NodeJS.Timeout | undefined;
  const cred = await Promise.race([
    session.credential(),
    new Promise<never>((_, reject) => {
      bound = setTimeout(() => reject(new Error('credential() waited on the hung refresh')), 5_000);
    }),
  ]).finally(() => clearTimeout(bound));
  assert.equal(cred.token, held.idToken);
  assert.equal(scripted.pending, 1, 'the refresh is still in flight at Pocket ID');
  // A second kubectl joins the refresh in flight (no second request) and also gets the valid token.
  assert.equal((await session.credential()).token, held.idToken);
  assert.equal(scripted.calls.length, 1);
});

test('a reloaded session resumes from a rotated refresh token that could not be saved, not from the spent one', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  let diskFull = false;
  const { store } = failingStore(() => (diskFull ? 'ENOSPC: no space left on device' : undefined));
  const { session: first } = await resumed({ clock, scripted, store });
  scripted.next = () => scripted.fresh();
  diskFull = true;
  await first.refresh('manual');
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0']);
  await first.quiesce();
  // The provider is reloaded (settings changed): a new session on the same store.
  const second = new Session(provider, { store, clock, oidc: scripted as unknown as SessionOidc });
  await second.resume();
  await second.refresh('manual');
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0', 'rt1'], 'the second refresh sends the rotated token');
});

test('a rotated refresh token that could not be saved leaves no spent token behind for the next start', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const { store, memory } = failingStore((k, v) => (k === secretKeys.refreshToken(provider.name) && v !== 'rt0' ? 'the keychain is locked' : undefined));
  const { session } = await resumed({ clock, scripted, store });
  scripted.next = () => scripted.fresh();
  await session.refresh('manual');
  assert.equal(await memory.get(secretKeys.refreshToken(provider.name)), undefined, 'rt0, now spent, is not kept to be sent again');
  assert.equal(session.snapshot().state, 'signed-in', 'the session goes on in memory');
});

test('a clock 57 min ahead of Pocket ID refreshes once per token, not in a loop', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock, 57 * MIN);
  scripted.next = () => scripted.fresh();
  const { session } = await resumed({ clock, scripted, held: scripted.fresh() });
  for (let i = 0; i < 10 * 60; i++) {
    clock.advance(1_000);
    await settle();
  }
  assert.equal(scripted.calls.length, 1, `one refresh in ten minutes (measured before: a rotation every 2 s), not ${scripted.calls.length}`);
  const snap = session.snapshot();
  assert.ok(Math.abs(snap.clock!.skewSeconds - 57 * 60) <= 1, `skew ${snap.clock!.skewSeconds} s (iat has whole seconds)`);
  assert.match(snap.clock!.words, /57 min ahead of Pocket ID's/);
  assert.ok(snap.idToken!.secondsLeft > 49 * 60, `the token's full hour counts from its arrival here (${snap.idToken!.secondsLeft} s left)`);
});

test('the next refresh is planned from the token lifetime when the clock is behind Pocket ID', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock, -57 * MIN);
  scripted.next = () => scripted.fresh();
  const { session } = await resumed({ clock, scripted });
  await session.refresh('manual');
  const due = Date.parse(session.snapshot().nextRefreshAt!) - clock.now();
  assert.ok(Math.abs(due - 55 * MIN) < 2_000, `refresh 55 min after arrival on this clock, not 112 min (${Math.round(due / 1000)} s)`);
});

test("kubectl's expirationTimestamp is on this machine's clock, whatever Pocket ID's says", async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock, 57 * MIN);
  scripted.next = () => scripted.fresh();
  const { session } = await resumed({ clock, scripted });
  await session.refresh('manual');
  const cred = await session.credential();
  const left = Date.parse(cred.expirationTimestamp) - clock.now();
  assert.ok(left > 59 * MIN && left <= HOUR - 30_000, `kubectl is told about 59.5 min from now on its clock (${Math.round(left / 1000)} s)`);
});

test('a session resumed after a run with a skewed clock measures again before kubectl trusts the stored token', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const store = new MemorySecretStore();
  await store.set(secretKeys.clockSkew(provider.name), String(57 * MIN));
  scripted.next = () => scripted.fresh();
  const { session } = await resumed({ clock, scripted, store });
  await session.credential();
  assert.equal(scripted.calls.length, 1, 'one refresh at resume measures the clock afresh');
  assert.equal(session.snapshot().clock?.skewSeconds, 0, 'the clock was fixed in the meantime');
});

test('a provider re-pointed to another issuer or client id drops the stored tokens instead of sending them there', async () => {
  for (const repointed of [{ issuer: 'https://evil.example.net' }, { clientId: 'another-client' }]) {
    const clock = new ManualClock();
    const scripted = new ScriptedProvider(clock);
    scripted.next = () => scripted.fresh();
    const store = new MemorySecretStore();
    // Signed in to the first issuer: the refresh stores the rotated token with its owner.
    const first = await resumed({ clock, scripted, store, held: token(clock.now() - 2 * HOUR, 'rt-first') });
    await settle();
    first.session.stop();
    const sent = scripted.calls.length;
    const session = new Session({ ...provider, ...repointed }, { store, clock, oidc: scripted as unknown as SessionOidc });
    await session.resume();
    clock.advance(2 * HOUR);
    await settle();
    await assert.rejects(session.credential(), /another issuer or client/);
    assert.equal(scripted.calls.length, sent, `no refresh token went to ${JSON.stringify(repointed)}`);
    for (const key of secretKeys.session(provider.name)) assert.equal(await store.get(key), undefined, `${key} was dropped`);
    session.stop();
  }
});

test('a session stored before owners were recorded resumes when its ID token names this issuer and client, and its refresh records the owner', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  scripted.next = () => scripted.fresh();
  const { session, store } = await resumed({ clock, scripted, held: token(clock.now() - 2 * HOUR, 'rt-legacy') });
  await settle();
  assert.equal(session.signedIn, true);
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt-legacy']);
  assert.equal(await store.get(secretKeys.tokenOwner(provider.name)), tokenOwner(provider));
  session.stop();
});

/**
 * A clock like Node's: now() is the wall clock, and timers count running time (CLOCK_MONOTONIC), which stops
 * while the laptop sleeps and ignores a wall-clock jump. advance() fires each timer at its own due time and
 * lets the session's promise chains settle after each; it fires at most `maxTimers`, so a refresh loop shows
 * as a count rather than a hang.
 */
class SleepingClock extends LaptopClock {
  async advance(ms: number, maxTimers = 1_000): Promise<void> {
    const end = this.monotonicNow() + ms;
    for (let fired = 0; fired < maxTimers; fired++) {
      await settle();
      if (!this.fireNextDue(end)) break;
    }
    this.passUntil(end);
    await settle();
  }
}

/** A sleeping clock and a scripted provider on it: answering with fresh tokens, or (by default) unreachable. */
function onSleepingClock(answering = false): { clock: SleepingClock; scripted: ScriptedProvider } {
  const clock = new SleepingClock();
  const scripted = new ScriptedProvider(clock);
  if (answering) scripted.next = () => scripted.fresh();
  return { clock, scripted };
}

/**
 * A store that applies writes one at a time, in order, as the file and keychain stores do; hold() makes the
 * next write of a key wait, so a test can act while it is under way.
 */
class SerializedStore implements SecretStore {
  readonly kind = 'memory' as const;
  readonly data = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private gates = new Map<string, { gate: Promise<void>; reached: () => void }>();

  describe(): string {
    return 'memory, one write at a time';
  }

  async get(key: string): Promise<string | undefined> {
    await this.queue;
    return this.data.get(key);
  }

  set(key: string, value: string): Promise<void> {
    return this.write(key, () => this.data.set(key, value));
  }

  delete(key: string): Promise<void> {
    return this.write(key, () => this.data.delete(key));
  }

  hold(key: string): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const wasReached = new Promise<void>((resolve) => (reached = resolve));
    this.gates.set(key, { gate, reached });
    return { reached: wasReached, release };
  }

  private write(key: string, apply: () => void): Promise<void> {
    const held = this.gates.get(key);
    this.gates.delete(key);
    held?.reached();
    const run = this.queue.then(async () => {
      await held?.gate;
      apply();
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const RT_KEY = secretKeys.refreshToken(provider.name);

/** The provider's session entries left in the store. */
async function storedSession(store: SecretStore): Promise<Record<string, string>> {
  const left: Record<string, string> = {};
  for (const key of secretKeys.session(provider.name)) {
    const value = await store.get(key);
    if (value !== undefined) left[key] = value;
  }
  return left;
}

function recordingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level}: ${message}`), lines };
}

const notSignedIn = (reason: string) => `PocketKube: not signed in to pocket-id (${reason}). Run \`pocketkube login pocket-id\` or use Sign in in the PocketKube tray.`;

test('while Pocket ID is unreachable, kubectl gets the token that is still valid, with its real expiry', async () => {
  const { clock, scripted } = onSleepingClock();
  const { session, held } = await resumed({ clock, scripted });
  clock.sleep(held.expiresAt - 50_000 - clock.now()); // 50 s left: under the 60 s floor, so kubectl's call refreshes first
  const cred = await session.credential();
  assert.deepEqual(scripted.calls, [{ at: clock.now(), refreshToken: 'rt0' }], 'the refresh was tried first');
  assert.equal(cred.token, held.idToken);
  assert.equal(cred.expiresAt, held.expiresAt);
  assert.equal(cred.expirationTimestamp, iso(held.expiresAt - 30_000), 'kubectl asks again 30 s before the real expiry');
  assert.equal(session.snapshot().state, 'signed-in');
  session.stop();
});

test('once the token has expired and Pocket ID is unreachable, kubectl is refused with one sentence and the session is kept', async () => {
  const { clock, scripted } = onSleepingClock();
  const { session, store, held } = await resumed({ clock, scripted });
  clock.sleep(held.expiresAt + 10_000 - clock.now()); // the laptop wakes 10 s after expiry, Pocket ID still down
  await assert.rejects(session.credential(), {
    code: 'offline',
    needsSignIn: false,
    message: 'PocketKube: Refreshing the session failed: cannot reach the provider (ECONNREFUSED); retrying in 2 s, and kubectl gets a new token once Pocket ID answers (the current one expired 10 s ago).',
  });
  assert.deepEqual(scripted.calls, [{ at: clock.now(), refreshToken: 'rt0' }]);
  const snap = session.snapshot();
  assert.equal(snap.state, 'signed-in', 'an outage is no reason to sign out');
  assert.equal(snap.nextRefreshAt, iso(clock.now() + 2_000), 'the retry is planned in 2 s, not left at the refresh time the sleep skipped');
  assert.equal(await store.get(RT_KEY), 'rt0', 'the refresh token is kept for when Pocket ID is back');
  session.stop();
});

test('a refresh answer that fails validation signs the session out with its reason and is never sent again', async () => {
  const { clock, scripted } = onSleepingClock();
  const { session, store, held } = await resumed({ clock, scripted });
  // As OidcClient.refresh reports an ID token that fails its checks: Pocket ID answered 200, so the refresh token is spent.
  const reason = 'unexpected JWT "iat" (issued at) claim value, timestamp is <= now() + clockTolerance (check the issuer URL and client id)';
  scripted.next = () => {
    throw new OidcError(`Refreshing the session failed: ${reason}.`, 'rejected', 'unusable_answer');
  };
  await clock.advance(held.expiresAt - 5 * MIN - clock.now()); // the background refresh comes due
  assert.deepEqual(scripted.calls, [{ at: held.expiresAt - 5 * MIN, refreshToken: 'rt0' }]);
  const snap = session.snapshot();
  assert.equal(snap.state, 'signed-out');
  assert.equal(snap.signedOutReason, reason);
  assert.deepEqual(snap.lastRefresh, { at: iso(held.expiresAt - 5 * MIN), trigger: 'background', result: 'signed-out', message: `Refreshing the session failed: ${reason}.` });
  await assert.rejects(session.credential(), { code: 'signed_out', needsSignIn: true, message: notSignedIn(reason) });
  assert.deepEqual(await storedSession(store), {});
  await clock.advance(HOUR);
  assert.equal(scripted.calls.length, 1, 'no retry with the spent refresh token');
});

test('a refresh that returns a token for another user is refused and signs the session out, keeping neither token', async () => {
  const { clock, scripted } = onSleepingClock();
  const { log, lines } = recordingLog();
  const { session, store } = await resumed({ clock, scripted, log });
  scripted.next = () => token(clock.now(), 'rt-mallory', HOUR, { sub: 'mallory' });
  await assert.rejects(session.refresh('manual'), { code: 'signed_out' });
  assert.equal(session.snapshot().state, 'signed-out');
  assert.equal(session.snapshot().signedOutReason, 'Pocket ID returned a token for another user');
  await assert.rejects(session.credential(), { code: 'signed_out', message: notSignedIn('Pocket ID returned a token for another user') });
  assert.deepEqual(await storedSession(store), {});
  assert.ok(!lines.some((l) => l.includes('rt-mallory')), 'the other refresh token is in no log');
});

test('signing out while a refresh is in flight wins: the answer that lands later is dropped', async () => {
  const { clock, scripted } = onSleepingClock();
  const { session, store, held } = await resumed({ clock, scripted });
  scripted.next = 'held';
  const refreshing = session.refresh('manual');
  await settle();
  await session.logout();
  scripted.release(() => scripted.fresh());
  await refreshing;
  assert.equal(session.snapshot().state, 'signed-out');
  assert.equal(session.snapshot().signedOutReason, 'you signed out');
  await assert.rejects(session.credential(), { code: 'signed_out' });
  assert.deepEqual(await storedSession(store), {});
  assert.deepEqual(scripted.endSessions, [held.idToken], 'Pocket ID is told to end the session');
  assert.equal(clock.pendingTimers(), 0, 'no refresh is planned');
});

for (const [what, key] of [
  ['its owner', secretKeys.tokenOwner(provider.name)],
  ['the token itself', RT_KEY],
] as const) {
  test(`signing out while the rotated refresh token is being saved (${what} being written) leaves nothing stored and nothing signed in`, async () => {
    const { clock, scripted } = onSleepingClock(true);
    const store = new SerializedStore();
    const { session } = await resumed({ clock, scripted, store });
    const write = store.hold(key);
    const refreshing = session.refresh('manual');
    await write.reached;
    const signingOut = session.logout();
    write.release();
    await Promise.all([refreshing, signingOut]);
    assert.equal(session.snapshot().state, 'signed-out');
    await assert.rejects(session.credential(), { code: 'signed_out' });
    assert.deepEqual(await storedSession(store), {}, 'a restart must not resume the session the user signed out of');
    assert.equal(clock.pendingTimers(), 0);
  });
}

/** A refresh held at Pocket ID while the agent reloads the provider: the old session is quiesced, then a new one resumes. */
async function reloadDuringRefresh(next: ProviderConfig) {
  const { clock, scripted } = onSleepingClock();
  const store = new MemorySecretStore();
  const { session: old, held } = await resumed({ clock, scripted, store });
  scripted.next = 'held';
  old.refresh('background').catch(() => {});
  await settle();
  // As Agent.doReloadProviders does it.
  const reload = (async () => {
    await old.quiesce();
    const session = new Session(next, { store, clock, oidc: scripted as unknown as SessionOidc });
    await session.resume();
    return session;
  })();
  await settle(); // Pocket ID takes its time to answer
  scripted.release(() => scripted.fresh());
  return { clock, scripted, store, held, session: await reload };
}

test('a provider reloaded during a refresh waits for it, and the new session refreshes with the rotated token', async () => {
  const { scripted, session } = await reloadDuringRefresh(provider);
  scripted.next = () => scripted.fresh();
  await session.refresh('manual');
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0', 'rt1'], 'rt0 was spent by the first refresh');
  session.stop();
});

test('a provider re-pointed during a refresh drops the rotated token once it lands, and sends it nowhere', async () => {
  const elsewhere = { ...provider, issuer: 'https://elsewhere.example.net' };
  const { scripted, store, session } = await reloadDuringRefresh(elsewhere);
  await assert.rejects(session.credential(), /issued by another issuer or client than https:\/\/elsewhere\.example\.net/);
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0']);
  assert.deepEqual(await storedSession(store), {}, 'no token of the old issuer is left under this name');
});

test('a provider removed during a refresh keeps nothing of the answer that lands afterwards', async () => {
  const { clock, scripted } = onSleepingClock();
  const { session, store, held } = await resumed({ clock, scripted });
  scripted.next = 'held';
  session.refresh('background').catch(() => {});
  await settle();
  // As Agent.removeProvider does it: sign out, then the reload quiesces the session.
  await session.logout('provider removed');
  const quiesced = session.quiesce();
  scripted.release(() => scripted.fresh());
  await quiesced;
  assert.deepEqual(await storedSession(store), {});
  assert.equal(session.snapshot().signedOutReason, 'provider removed');
  assert.deepEqual(scripted.endSessions, [held.idToken]);
});

test('a rotated refresh token that could not be saved is used for the next refresh, and saved when the agent stops', async () => {
  const { clock, scripted } = onSleepingClock();
  let locked = false;
  const { store, memory } = failingStore((k) => (locked && k === RT_KEY ? 'the keychain is locked' : undefined));
  const { log, lines } = recordingLog();
  const { session } = await resumed({ clock, scripted, store, log });
  scripted.next = () => scripted.fresh();
  locked = true;
  await session.refresh('manual');
  await session.refresh('manual');
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0', 'rt1'], 'the second refresh sends the token held in memory');
  const errors = lines.filter((l) => l.startsWith('error:'));
  assert.deepEqual(errors, Array(2).fill('error: pocket-id: could not save the rotated refresh token (the keychain is locked); the session is kept in memory until the agent stops.'));
  assert.ok(!lines.some((l) => /rt\d/.test(l)), 'no refresh token in the log');
  locked = false;
  await session.quiesce();
  assert.equal(await memory.get(RT_KEY), 'rt2', 'the newest token is saved when the agent stops');
});

test('a resume whose stored ID token has expired refreshes once with the stored refresh token and hands out the new token', async () => {
  const { clock, scripted } = onSleepingClock(true);
  const now = clock.now();
  const { session, store, held } = await resumed({ clock, scripted, held: token(now - 70 * MIN, 'rt0') });
  assert.deepEqual(scripted.calls, [{ at: now, refreshToken: 'rt0' }], 'refreshed during the resume');
  const snap = session.snapshot();
  assert.deepEqual(snap.lastRefresh, { at: iso(now), trigger: 'resume', result: 'ok' });
  assert.equal(snap.nextRefreshAt, iso(now + 55 * MIN));
  const cred = await session.credential();
  assert.notEqual(cred.token, held.idToken);
  assert.equal(cred.expiresAt, now + HOUR);
  assert.equal(await store.get(RT_KEY), 'rt1');
  assert.equal(await store.get(secretKeys.idToken(provider.name)), cred.token);
  assert.equal(scripted.calls.length, 1);
  session.stop();
});

test('a stored session with no recorded owner whose ID token names another issuer is dropped with one sentence, its refresh token sent nowhere', async () => {
  const { clock, scripted } = onSleepingClock(true);
  const { log, lines } = recordingLog();
  const { session, store } = await resumed({ clock, scripted, log, held: token(clock.now(), 'rt-old', HOUR, { iss: 'https://old-id.example.org' }) });
  const reason = 'the stored session was issued by another issuer or client than https://id.example.com (client c), so it was dropped';
  assert.deepEqual(lines, [`warn: pocket-id: ${reason}; run \`pocketkube login pocket-id\`.`]);
  assert.equal(scripted.calls.length, 0);
  assert.deepEqual(await storedSession(store), {});
  await assert.rejects(session.credential(), { code: 'signed_out', message: notSignedIn(reason) });
});

test('a stored ID token naming another issuer is never handed out, even beside our refresh token: the resume refreshes', async () => {
  const { clock, scripted } = onSleepingClock(true);
  const store = new MemorySecretStore();
  await store.set(secretKeys.tokenOwner(provider.name), tokenOwner(provider));
  const stray = token(clock.now(), 'rt0', HOUR, { iss: 'https://old-id.example.org' });
  const { session } = await resumed({ clock, scripted, store, held: stray });
  assert.deepEqual(scripted.calls, [{ at: clock.now(), refreshToken: 'rt0' }]);
  const cred = await session.credential();
  assert.notEqual(cred.token, stray.idToken);
  assert.equal(JSON.parse(Buffer.from(cred.token.split('.')[1]!, 'base64url').toString()).iss, ISSUER);
  session.stop();
});

test('after a sleep past the refresh time, recheck refreshes at once', async () => {
  const { clock, scripted } = onSleepingClock(true);
  const { session, held } = await resumed({ clock, scripted });
  clock.sleep(58 * MIN); // timers do not run while asleep
  assert.equal(scripted.calls.length, 0);
  session.recheck();
  assert.deepEqual(scripted.calls, [{ at: held.issuedAt + 58 * MIN, refreshToken: 'rt0' }]);
  await settle();
  assert.equal(session.snapshot().nextRefreshAt, iso(held.issuedAt + (58 + 55) * MIN));
  session.stop();
});

test('after a sleep or a wall-clock jump that leaves the refresh ahead, recheck plans it for its time instead of waiting out the old timer', async () => {
  const { clock, scripted } = onSleepingClock(true);
  const { session, held } = await resumed({ clock, scripted });
  clock.sleep(50 * MIN); // the timer still counts 55 min of running time
  session.recheck();
  assert.equal(scripted.calls.length, 0, 'not due yet');
  await clock.advance(5 * MIN);
  assert.deepEqual(scripted.calls, [{ at: held.issuedAt + 55 * MIN, refreshToken: 'rt0' }], 'refreshed 5 min before expiry, not 45 min after it');
  session.stop();
});

test('a provider handing out tokens that expire at once is asked every 2 s, not in a loop', async () => {
  const { clock, scripted } = onSleepingClock();
  scripted.next = () => scripted.fresh(0);
  const { session } = await resumed({ clock, scripted, held: token(clock.now(), 'rt0', 0) });
  await clock.advance(20_000);
  const gaps = scripted.calls.map((c, i) => c.at - (scripted.calls[i - 1]?.at ?? clock.now() - 20_000));
  assert.deepEqual(gaps, Array(10).fill(2_000), `ten refreshes in 20 s, each 2 s after the last (${scripted.calls.length} made)`);
  session.stop();
});

/** Pocket ID down when the agent starts with an expired ID token: the resume's refresh fails, and so does every retry. */
async function outageAtResume() {
  const { clock, scripted } = onSleepingClock();
  const started = clock.now();
  const { session } = await resumed({ clock, scripted, held: token(started - 2 * HOUR, 'rt0') });
  const gaps = () => scripted.calls.slice(1).map((c, i) => c.at - scripted.calls[i]!.at);
  return { clock, scripted, session, started, gaps };
}

test('a failed refresh is retried 2 s later, then at doubling intervals', async () => {
  const { clock, session, gaps } = await outageAtResume();
  await clock.advance(64_000);
  assert.deepEqual(gaps(), [2_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
  assert.equal(session.snapshot().state, 'signed-in');
  session.stop();
});

test('the retry interval stops doubling at 60 s', async () => {
  const { clock, session, gaps } = await outageAtResume();
  await clock.advance(64_000 + 5 * 60_000);
  assert.deepEqual(gaps().slice(5), [32_000, 60_000, 60_000, 60_000, 60_000, 60_000]);
  session.stop();
});

test('once Pocket ID answers again, the next refresh is planned normally and a later outage starts over at 2 s', async () => {
  const { clock, scripted, session, started } = await outageAtResume();
  await clock.advance(64_000); // six retries: the next is 60 s away
  scripted.next = () => scripted.fresh();
  await clock.advance(60_000);
  const back = started + 124_000;
  assert.deepEqual(scripted.calls.at(-1), { at: back, refreshToken: 'rt0' });
  assert.deepEqual(session.snapshot().lastRefresh, { at: iso(back), trigger: 'background', result: 'ok' });
  assert.equal(session.snapshot().nextRefreshAt, iso(back + 55 * MIN));
  scripted.next = 'network';
  await clock.advance(55 * MIN + 2_000);
  assert.deepEqual(scripted.calls.slice(-2), [
    { at: back + 55 * MIN, refreshToken: 'rt1' },
    { at: back + 55 * MIN + 2_000, refreshToken: 'rt1' },
  ]);
  session.stop();
});

/** A memory store whose reads wait until the test opens it: a secrets file on a slow disk, a keychain waiting for its password. */
class SlowReadingStore extends MemorySecretStore {
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  override async get(key: string): Promise<string | undefined> {
    await this.gate;
    return super.get(key);
  }
  answer(): void {
    this.open();
  }
}

/** A session over a slow-reading store holding `held` (or nothing), resuming as the agent starts it; the store has not answered yet. */
async function resumingFromSlowStore(opts: { clock: Clock; scripted: ScriptedProvider; held?: TokenSet; onDemandWaitMs?: number }) {
  const store = new SlowReadingStore();
  if (opts.held) {
    await store.set(secretKeys.refreshToken(provider.name), opts.held.refreshToken!);
    await store.set(secretKeys.idToken(provider.name), opts.held.idToken);
  }
  const session = new Session(provider, { store, clock: opts.clock, oidc: opts.scripted as unknown as SessionOidc, onDemandWaitMs: opts.onDemandWaitMs });
  const signInAsked: string[] = [];
  session.on('sign-in-needed', (name: string) => signInAsked.push(name));
  const resuming = session.resume();
  return { store, session, resuming, signInAsked };
}

/** The credential's outcome, watched without awaiting it: `answered` stays false while kubectl waits. */
function asking(session: Session) {
  const watch = { answered: false, answer: session.credential() };
  watch.answer.then(
    () => (watch.answered = true),
    () => (watch.answered = true),
  );
  return watch;
}

test('kubectl asking while the stored session is still being read waits for it and gets the stored token, not "not signed in"', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const held = token(clock.now(), 'rt0');
  const { store, session, resuming, signInAsked } = await resumingFromSlowStore({ clock, scripted, held });
  const kubectl = asking(session);
  await settle();
  assert.equal(kubectl.answered, false, 'kubectl waits while the store is read');
  store.answer();
  assert.equal((await kubectl.answer).token, held.idToken);
  await resuming;
  assert.deepEqual(scripted.calls, [], 'the stored ID token was good: no refresh');
  assert.deepEqual(signInAsked, [], 'no sign-in was asked for');
  session.stop();
});

test('kubectl asking while the stored session is being read, with the stored ID token expired, gets the token the resume refreshes', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  scripted.next = 'held';
  const { store, session, resuming } = await resumingFromSlowStore({ clock, scripted, held: token(clock.now() - 2 * HOUR, 'rt0') });
  const kubectl = asking(session);
  store.answer();
  await settle();
  assert.equal(kubectl.answered, false, 'kubectl waits on through the refresh');
  const fresh = scripted.fresh();
  scripted.release(() => fresh);
  assert.equal((await kubectl.answer).token, fresh.idToken);
  await resuming;
  assert.deepEqual(scripted.calls.map((c) => c.refreshToken), ['rt0'], 'one refresh, shared by the resume and kubectl');
  session.stop();
});

test('a store that does not answer within the on-demand wait: kubectl hears "try again" (no sign-in asked), and the next kubectl gets the token', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const held = token(clock.now(), 'rt0');
  const { store, session, resuming, signInAsked } = await resumingFromSlowStore({ clock, scripted, held, onDemandWaitMs: 50 });
  await assert.rejects(session.credential(), {
    code: 'busy',
    needsSignIn: false,
    message: 'PocketKube: the stored pocket-id session is still being read from the secret store (no answer in 0.1 s); run kubectl again in a moment, or see `pocketkube status`.',
  });
  assert.deepEqual(signInAsked, [], 'a slow store is not a reason to sign in');
  store.answer();
  await resuming;
  assert.equal((await session.credential()).token, held.idToken);
  session.stop();
});

test('with nothing stored, kubectl asking during the read hears "not signed in" once the store has answered', async () => {
  const clock = new ManualClock();
  const scripted = new ScriptedProvider(clock);
  const { store, session, resuming, signInAsked } = await resumingFromSlowStore({ clock, scripted });
  const kubectl = asking(session);
  await settle();
  assert.equal(kubectl.answered, false);
  store.answer();
  await assert.rejects(kubectl.answer, { code: 'signed_out', needsSignIn: true });
  await resuming;
  assert.deepEqual(signInAsked, ['pocket-id']);
});

/** Pocket ID's proxy answering 503 with `Retry-After: 30` (OidcClient reads the header onto the error). */
const busyFor30s = (): TokenSet => {
  throw new OidcError('Refreshing the session failed: https://id.example.com answered HTTP 503 (service unavailable).', 'network', undefined, 503, 30_000);
};

test("a 503's Retry-After puts the next try that far out instead of 2 s; after recovery a plain outage starts at 2 s again", async () => {
  const { clock, scripted, session, started, gaps } = await outageAtResume();
  scripted.next = busyFor30s;
  await clock.advance(2_000); // the resume failed (network); this try gets the 503 with Retry-After
  await clock.advance(59_000);
  assert.deepEqual(gaps(), [2_000, 30_000], 'the try after the 503 waits the 30 s asked, not 4 s');
  scripted.next = () => scripted.fresh();
  await clock.advance(1_000); // the second Retry-After ends at +62 s
  assert.equal(scripted.calls.at(-1)!.at, started + 62_000);
  assert.equal(session.snapshot().lastRefresh?.result, 'ok');
  scripted.next = 'network';
  await clock.advance(55 * MIN + 2_000);
  assert.deepEqual(gaps().slice(-1), [2_000], 'Retry-After is forgotten once Pocket ID answers');
  session.stop();
});

test('kubectl asking while a Retry-After runs does not reach Pocket ID: a valid token is handed out, an expired one gets the line', async () => {
  const { clock, scripted } = onSleepingClock();
  const held = token(clock.now(), 'rt0');
  const { session } = await resumed({ clock, scripted, held });
  scripted.next = busyFor30s;
  await clock.advance(held.expiresAt - 5 * MIN - clock.now()); // the background refresh comes due and gets the 503
  assert.equal(scripted.calls.length, 1);
  for (let i = 0; i < 3; i++) assert.equal((await session.credential()).token, held.idToken, 'kubectl keeps the valid token');
  await clock.advance(20_000);
  assert.equal(scripted.calls.length, 1, 'kubectl asking did not send a refresh inside the Retry-After');

  const expired = token(clock.now() - 2 * HOUR, 'rt9');
  const { clock: c2, scripted: s2 } = onSleepingClock();
  const { session: late } = await resumed({ clock: c2, scripted: s2, held: expired });
  s2.next = busyFor30s;
  await c2.advance(2_000); // the resume's refresh failed (network); the retry gets the 503
  const tries = s2.calls.length;
  await assert.rejects(late.credential(), (e: PocketKubeError) => e.code === 'offline' && /asked not to be asked again for \d+ s \(Retry-After\); retrying in \d+ s, and kubectl gets a new token once Pocket ID answers/.test(e.message));
  assert.equal(s2.calls.length, tries, 'no refresh sent for kubectl');
  s2.next = () => s2.fresh();
  await c2.advance(30_000);
  assert.equal(s2.calls.length, tries + 1);
  assert.notEqual((await late.credential()).token, expired.idToken, 'the planned try after the Retry-After brought a new token');
  session.stop();
  late.stop();
});
