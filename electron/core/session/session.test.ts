import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../tests/support/clock.js';
import { OidcError, type TokenSet } from '../oidc/oidc.js';
import { secretKeys, tokenOwner, type ProviderConfig } from './providers.js';
import { MemorySecretStore, type SecretStore } from './secret-store.js';
import { Session, type SessionOidc } from './session.js';

const ISSUER = 'https://id.example.com';
const MIN = 60_000;
const HOUR = 60 * MIN;
const provider: ProviderConfig = { name: 'pocket-id', issuer: ISSUER, clientId: 'c', confidential: false, scopes: ['openid'], callbackPort: 8000 };

/** An ID token as Pocket ID would issue it at `issuedAt` on Pocket ID's clock (unsigned: the session only reads claims). */
function token(issuedAt: number, refreshToken: string, ttlMs = HOUR): TokenSet {
  const iat = Math.floor(issuedAt / 1000);
  const claims = { iss: ISSUER, sub: 'alice', aud: ['c'], iat, exp: iat + ttlMs / 1000 };
  const idToken = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  return { idToken, refreshToken, claims, issuedAt: iat * 1000, expiresAt: (iat + ttlMs / 1000) * 1000 };
}

type Answer = 'network' | 'hang' | ((sent: string) => TokenSet);

/** A provider that answers refreshes as the test scripts them, and records what it was sent and when. */
class ScriptedProvider implements Partial<SessionOidc> {
  calls: { at: number; refreshToken: string }[] = [];
  pending = 0;
  next: Answer = 'network';
  private n = 0;
  constructor(private readonly clock: ManualClock, private readonly providerClockOffset = 0) {}

  /** Fresh tokens as Pocket ID issues them: iat is Pocket ID's now (this clock minus the offset). */
  fresh = (): TokenSet => token(this.clock.now() - this.providerClockOffset, `rt${++this.n}`);

  refresh = async (refreshToken: string): Promise<TokenSet> => {
    this.calls.push({ at: this.clock.now(), refreshToken });
    const answer = this.next;
    if (answer === 'hang') {
      this.pending++;
      return new Promise<TokenSet>(() => {});
    }
    if (answer === 'network') throw new OidcError('Refreshing the session failed: cannot reach the provider (ECONNREFUSED).', 'network');
    return answer(refreshToken);
  };
}

/** Lets the session's promise chains (store writes, refresh outcomes) settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function resumed(opts: { clock: ManualClock; scripted: ScriptedProvider; store?: SecretStore; held?: TokenSet; onDemandWaitMs?: number }) {
  const store = opts.store ?? new MemorySecretStore();
  const held = opts.held ?? token(opts.clock.now(), 'rt0');
  await store.set(secretKeys.refreshToken(provider.name), held.refreshToken!);
  await store.set(secretKeys.idToken(provider.name), held.idToken);
  const session = new Session(provider, { store, clock: opts.clock, oidc: opts.scripted as unknown as SessionOidc, onDemandWaitMs: opts.onDemandWaitMs });
  await session.resume();
  return { session, store, held };
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
  const memory = new MemorySecretStore();
  let diskFull = false;
  const store: SecretStore = {
    kind: 'memory',
    describe: () => 'memory',
    get: (k) => memory.get(k),
    set: async (k, v) => {
      if (diskFull) throw new Error('ENOSPC: no space left on device');
      await memory.set(k, v);
    },
    delete: (k) => memory.delete(k),
  };
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
  const memory = new MemorySecretStore();
  const store: SecretStore = {
    kind: 'memory',
    describe: () => 'memory',
    get: (k) => memory.get(k),
    set: async (k, v) => {
      if (k === secretKeys.refreshToken(provider.name) && v !== 'rt0') throw new Error('the keychain is locked');
      await memory.set(k, v);
    },
    delete: (k) => memory.delete(k),
  };
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
