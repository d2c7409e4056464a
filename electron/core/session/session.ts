import { EventEmitter } from 'node:events';
import type { DeviceAuthorizationResponse } from 'openid-client';
import type { Clock } from '../platform/clock.js';
import { PocketKubeError } from '../platform/errors.js';
import {
  canHandOut,
  credentialExpiry,
  DEFAULT_EXPIRY_POLICY,
  estimateSkew,
  expiryState,
  minHandoutFor,
  onLocalClock,
  refreshDueAt,
  relativeTime,
  retryDelay,
  RETRY_START_MS,
  skewWords,
  SKEW_NOISE_MS,
  type ExpiryPolicy,
  type ExpiryState,
  type TokenTimes,
} from '../../shared/expiry.js';
import { LoopbackListener } from '../oidc/loopback.js';
import { OidcClient, OidcError, type IdClaims, type TokenSet } from '../oidc/oidc.js';
import { secretKeys, tokenOwner, type ProviderConfig } from './providers.js';
import type { SecretStore } from './secret-store.js';
import type { Identity, RefreshRecord, SessionSnapshot } from '../../shared/api.js';
export type { Identity, RefreshRecord, SessionSnapshot };

export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Why a credential could not be given, as a code every client (helper, CLI, tray, window) can act on. */
export type SessionErrorCode = 'signed_out' | 'offline' | 'sign_in_failed' | 'busy';

function sessionError(code: SessionErrorCode, message: string, needsSignIn: boolean): PocketKubeError {
  return new PocketKubeError(code, message, { needsSignIn });
}

export interface Credential {
  token: string;
  expiresAt: number;
  /** What kubectl is told: before the real expiry by the policy's margin. */
  expirationTimestamp: string;
}

export interface LoginHandle {
  method: 'browser' | 'device';
  url: string;
  userCode?: string;
  expiresAt?: string;
  done: Promise<Identity>;
}

/** The provider as the session uses it: OidcClient, or a scripted one in unit tests. */
export type SessionOidc = Pick<OidcClient, 'refresh' | 'authorizationRequest' | 'exchangeCode' | 'startDevice' | 'pollDevice' | 'endSession'>;

export interface SessionDeps {
  store: SecretStore;
  clock: Clock;
  policy?: ExpiryPolicy;
  log?: Logger;
  clientSecret?: string;
  /** How long the loopback listener waits for the browser. */
  loginTimeoutMs?: number;
  /** Default: openid-client against the provider's issuer. */
  oidc?: SessionOidc;
  /** How long kubectl may wait on a refresh while the token it has still has time left. Default 2 s. */
  onDemandWaitMs?: number;
}

const ON_DEMAND_WAIT_MS = 2_000;

/**
 * Rotated refresh tokens that could not be saved, per store and provider. A session that replaces this one
 * (a provider reload) resumes from here rather than from the stored token, which Pocket ID has already
 * rotated away: using that one would revoke the whole session.
 */
const unsavedRefreshTokens = new WeakMap<SecretStore, Map<string, string>>();
function unsavedFor(store: SecretStore): Map<string, string> {
  let m = unsavedRefreshTokens.get(store);
  if (!m) unsavedRefreshTokens.set(store, (m = new Map()));
  return m;
}

function identityOf(claims: IdClaims): Identity {
  const groups = claims.groups;
  return {
    sub: claims.sub,
    name: typeof claims.name === 'string' ? claims.name : undefined,
    preferredUsername: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
    email: typeof claims.email === 'string' ? claims.email : undefined,
    emailVerified: typeof claims.email_verified === 'boolean' ? claims.email_verified : undefined,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : typeof groups === 'string' ? [groups] : [],
    picture: typeof claims.picture === 'string' ? claims.picture : undefined,
  };
}

/** True when `work` is still running after `ms` (at once when `ms` is not positive); rejects if it fails before. */
async function lateAfter(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  const settled = work.then(() => false as const);
  // Once kubectl has its answer the work's outcome is the session's (logged, rescheduled), not kubectl's.
  settled.catch(() => {});
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

function decodeClaims(idToken: string): IdClaims | undefined {
  try {
    const payload = idToken.split('.')[1];
    if (!payload) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as IdClaims;
    return typeof claims.exp === 'number' && typeof claims.sub === 'string' ? claims : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One provider's session: sign-in, the ID token, and the refresh token. This object is the only thing in
 * PocketKube that refreshes, and it runs at most one refresh at a time (Pocket ID revokes the whole session
 * when a rotated refresh token is used twice).
 */
export class Session extends EventEmitter {
  readonly oidc: SessionOidc;
  private readonly policy: ExpiryPolicy;
  private readonly log: Logger;
  private tokens?: TokenSet;
  private refreshToken?: string;
  private signedOutReason?: string = 'not signed in yet';
  private refreshing?: Promise<void>;
  /** While resume() reads the stored session: kubectl waits for it (bounded) instead of hearing "not signed in". */
  private readingStored?: Promise<void>;
  private readNoticeFor?: Promise<void>;
  /** When the refresh in flight started, on the monotonic clock: kubectl's wait is bounded from there. */
  private refreshStartedAt?: number;
  private slowNoticeFor?: number;
  private login?: LoginHandle & { cancel: () => void };
  private loginStarting?: Promise<LoginHandle>;
  private cancelTimer?: () => void;
  /** Failed background refreshes in a row: the retry delay grows with these, never with kubectl's attempts. */
  private backgroundFailures = 0;
  /** This machine's clock minus the provider's (ms), from the last token's iat when it arrived. */
  private skewMs = 0;
  private skewMeasuredAt?: number;
  private readonly onDemandWaitMs: number;
  /** Pocket ID (or its proxy) asked, with `Retry-After`, not to be asked again before this time (local clock). */
  private notBefore?: number;
  /** Resumed with a skew from the last run: the clock may have been fixed since, so refresh before trusting it. */
  private skewUnconfirmed = false;
  private lastRefresh?: RefreshRecord;
  private nextRefreshAt?: number;
  private signInNeededAnnounced = false;
  private stopped = false;
  /** Bumped by every sign-in and sign-out: work started under an older generation must not touch state. */
  private generation = 0;

  constructor(
    readonly provider: ProviderConfig,
    private readonly deps: SessionDeps,
  ) {
    super();
    this.policy = deps.policy ?? DEFAULT_EXPIRY_POLICY;
    this.log = deps.log ?? (() => {});
    this.oidc = deps.oidc ?? new OidcClient(provider, deps.clientSecret);
    this.onDemandWaitMs = deps.onDemandWaitMs ?? ON_DEMAND_WAIT_MS;
  }

  get name(): string {
    return this.provider.name;
  }

  get redirectUri(): string {
    return `http://localhost:${this.provider.callbackPort}`;
  }

  get signedIn(): boolean {
    return Boolean(this.refreshToken || this.tokens);
  }

  /** After a restart: pick up the stored session without a browser. */
  async resume(): Promise<void> {
    const reading = this.readStoredSession();
    this.readingStored = reading.then(
      () => undefined,
      () => undefined,
    );
    let mustRefresh: boolean;
    try {
      mustRefresh = await reading;
    } finally {
      this.readingStored = undefined;
    }
    if (!mustRefresh) return;
    this.log('info', `${this.name}: resuming the stored session with a refresh`);
    await this.refresh('resume').catch(() => {});
  }

  /** Takes the stored session into memory; true when it must be refreshed before use. */
  private async readStoredSession(): Promise<boolean> {
    const [stored, idToken, skew, owner] = await Promise.all([
      this.deps.store.get(secretKeys.refreshToken(this.name)),
      this.deps.store.get(secretKeys.idToken(this.name)),
      this.deps.store.get(secretKeys.clockSkew(this.name)),
      this.deps.store.get(secretKeys.tokenOwner(this.name)),
    ]);
    if (this.stopped) return false; // replaced or stopped while reading: the new owner resumes instead
    // A rotated token this process could not save is newer than the stored one, which is spent.
    const unsaved = unsavedFor(this.deps.store).get(this.name);
    const refreshToken = unsaved ?? stored;
    if (!refreshToken) {
      this.changed();
      return false;
    }
    if (!this.issuedToUs(owner, idToken)) {
      // The provider was re-pointed (another issuer or client id under this name): its tokens must not go there.
      await this.clear(`the stored session was issued by another issuer or client than ${this.provider.issuer} (client ${this.provider.clientId}), so it was dropped`);
      this.log('warn', `${this.name}: ${this.signedOutReason}; run \`pocketkube login ${this.name}\`.`);
      return false;
    }
    this.refreshToken = refreshToken;
    this.signedOutReason = undefined;
    if (unsaved) await this.saveRefreshToken(unsaved);
    const claims = idToken ? decodeClaims(idToken) : undefined;
    if (idToken && claims && claims.iss === this.provider.issuer) {
      this.tokens = { idToken, claims, issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 };
    }
    // A clock found off Pocket ID's last time may have been fixed since: measure again with a refresh.
    const lastSkew = Number(skew) || 0;
    const clockWasOff = Math.abs(lastSkew) >= SKEW_NOISE_MS;
    if (clockWasOff) {
      // Until a fresh token measures it, the last skew is the best guess, and kubectl waits for the measurement.
      this.skewMs = lastSkew;
      this.skewUnconfirmed = true;
    }
    if (this.tokens && !clockWasOff && canHandOut(this.tokens, this.deps.clock.now(), this.policy)) {
      this.log('info', `${this.name}: session resumed; ID token ${relativeTime(this.tokens.expiresAt, this.deps.clock.now())}`);
      this.schedule();
      this.changed();
      return false;
    }
    return true;
  }

  /** Whether the stored tokens were issued to this provider's issuer and client (sessions stored before the owner was, by their ID token). */
  private issuedToUs(owner: string | undefined, idToken: string | undefined): boolean {
    if (owner !== undefined) return owner === tokenOwner(this.provider);
    const claims = idToken ? decodeClaims(idToken) : undefined;
    const aud = claims ? [claims.aud].flat() : [];
    return claims?.iss === this.provider.issuer && aud.includes(this.provider.clientId);
  }

  /** The credential for kubectl. Refreshes first (once, shared by all callers) when the token is too close to expiry. */
  async credential(): Promise<Credential> {
    if (!this.signedIn && this.readingStored) await this.waitForStoredSession(this.readingStored);
    if (!this.signedIn) throw this.signedOutError();
    const now = this.deps.clock.now();
    if (!this.tokens || this.skewUnconfirmed || !canHandOut(this.local(this.tokens), now, this.policy)) {
      const held = this.tokens;
      const refreshing = this.refresh('on-demand');
      try {
        if (held && this.hasTimeLeft(held)) {
          // kubectl waits at most a moment on a slow provider while the token it has is still good; the
          // refresh goes on (with its own timeout) and the next kubectl gets the new token.
          const late = await this.withinOnDemandWait(refreshing);
          if (late) {
            if (this.slowNoticeFor !== this.refreshStartedAt) {
              this.slowNoticeFor = this.refreshStartedAt; // once per refresh, however many kubectl runs ask
              this.log('warn', `${this.name}: Pocket ID is slow to answer the refresh; kubectl gets the current token (expires ${relativeTime(this.local(held).expiresAt, this.deps.clock.now())}) meanwhile.`);
            }
            return this.toCredential(held);
          }
        } else await refreshing;
      } catch (err) {
        // Still valid but the provider is unreachable: hand out what is left rather than fail kubectl.
        const t = this.tokens;
        if (err instanceof PocketKubeError && err.code === 'offline' && t && this.hasTimeLeft(t)) {
          return this.toCredential(t);
        }
        throw err;
      }
    }
    if (!this.tokens) throw this.signedOutError();
    return this.toCredential(this.tokens);
  }

  /** True when the refresh is still running after the on-demand wait (counted from when it started). */
  private withinOnDemandWait(refreshing: Promise<void>): Promise<boolean> {
    const waited = performance.now() - (this.refreshStartedAt ?? performance.now());
    return lateAfter(refreshing, this.onDemandWaitMs - waited);
  }

  /**
   * kubectl asked while resume() is still reading the stored session (the agent just started): it waits up to
   * the on-demand wait, counted from its request, rather than hear "not signed in" about a session about to
   * resume. A store that has not answered by then gets a "try again" answer, which asks for no sign-in.
   */
  private async waitForStoredSession(reading: Promise<void>): Promise<void> {
    if (this.readNoticeFor !== reading) {
      this.readNoticeFor = reading; // once per resume, however many kubectl runs ask
      this.log('info', `${this.name}: kubectl asked for a token while the stored session is being read; it waits for it.`);
    }
    if (!(await lateAfter(reading, this.onDemandWaitMs))) return;
    if (this.signedIn || !this.readingStored) return;
    const where = { file: 'the secrets file', 'os-keychain': 'the OS keychain', memory: 'the secret store' }[this.deps.store.kind];
    throw sessionError(
      'busy',
      `PocketKube: the stored ${this.name} session is still being read from ${where} (no answer in ${Math.round(this.onDemandWaitMs / 100) / 10} s); run kubectl again in a moment, or see \`pocketkube status\`.`,
      false,
    );
  }

  private hasTimeLeft(t: TokenTimes): boolean {
    return this.local(t).expiresAt > this.deps.clock.now();
  }

  /** The token's times on this machine's clock (see onLocalClock). */
  private local(t: TokenTimes): TokenTimes {
    return onLocalClock(t, this.skewMs);
  }

  /**
   * The credential exactly as credential() would hand it out now without a refresh, and until when on this
   * machine's clock: what the agent may cache for kubectl's helper. Nothing while the clock's skew is unconfirmed.
   */
  credentialAsIs(): (Credential & { handOutUntil: number }) | undefined {
    const t = this.tokens;
    if (!this.signedIn || !t || this.skewUnconfirmed) return undefined;
    const local = this.local(t);
    if (!canHandOut(local, this.deps.clock.now(), this.policy)) return undefined;
    return { ...this.toCredential(t), handOutUntil: local.expiresAt - minHandoutFor(local, this.policy) };
  }

  private toCredential(t: TokenSet): Credential {
    // kubectl compares expirationTimestamp with this machine's clock, so it is given in local time.
    const local = this.local(t);
    // Never promise kubectl more than the token has; never less than zero seconds from now.
    const stamp = Math.max(credentialExpiry(local, this.policy).getTime(), Math.min(local.expiresAt, this.deps.clock.now()));
    return { token: t.idToken, expiresAt: local.expiresAt, expirationTimestamp: new Date(Math.floor(stamp / 1000) * 1000).toISOString() };
  }

  private signedOutError(): PocketKubeError {
    if (!this.signInNeededAnnounced) {
      this.signInNeededAnnounced = true;
      // One prompt per signed-out period, however many kubectl runs ask.
      this.emit('sign-in-needed', this.name);
    }
    return sessionError(
      'signed_out',
      `PocketKube: not signed in to ${this.name} (${this.signedOutReason ?? 'signed out'}). Run \`pocketkube login ${this.name}\` or use Sign in in the PocketKube tray.`,
      true,
    );
  }

  /** Exactly one refresh in flight per session: every caller shares it. */
  refresh(trigger: RefreshRecord['trigger']): Promise<void> {
    if (this.stopped) return Promise.reject(sessionError('busy', `PocketKube: the ${this.name} session is being restarted; try again.`, false));
    if (!this.refreshing && trigger === 'on-demand' && this.notBefore !== undefined && this.deps.clock.now() < this.notBefore) {
      // kubectl asking again does not hammer a Pocket ID that said when to come back; the planned try goes on.
      const now = this.deps.clock.now();
      return Promise.reject(this.offlineError(`Pocket ID asked not to be asked again for ${relativeTime(this.notBefore, now).replace(/^in /, '')} (Retry-After)`));
    }
    if (!this.refreshing) {
      this.refreshStartedAt = performance.now();
      this.refreshing = this.runRefresh(trigger).finally(() => {
        this.refreshing = undefined;
        this.refreshStartedAt = undefined;
      });
    }
    return this.refreshing;
  }

  private async runRefresh(trigger: RefreshRecord['trigger']): Promise<void> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) throw this.signedOutError();
    let next: TokenSet;
    try {
      next = await this.oidc.refresh(refreshToken);
      if (this.tokens && next.claims.sub !== this.tokens.claims.sub) {
        throw new OidcError('Refreshing the session failed: Pocket ID returned a token for another user.', 'rejected');
      }
    } catch (err) {
      const e = err instanceof OidcError ? err : new OidcError(String(err), 'network');
      if (this.refreshToken !== refreshToken) return; // signed out or in again meanwhile
      if (e.kind === 'rejected') {
        this.lastRefresh = { at: this.isoNow(), trigger, result: 'signed-out', message: e.message };
        this.log('warn', `${this.name}: ${e.message} Signed out; sign in again.`);
        await this.clear(e.message.replace(/^Refreshing the session failed: /, '').replace(/\.$/, ''));
        throw this.signedOutError();
      }
      this.lastRefresh = { at: this.isoNow(), trigger, result: 'retrying', message: e.message };
      this.scheduleRetry(trigger, e.retryAfterMs);
      const now = this.deps.clock.now();
      const asked = e.retryAfterMs ? ` (it asked to wait ${relativeTime(now + e.retryAfterMs, now).replace(/^in /, '')})` : '';
      this.log('warn', `${this.name}: ${e.message.replace(/\.$/, '')}${asked}; retrying ${relativeTime(this.nextRefreshAt ?? now, now)}.`);
      this.changed();
      throw this.offlineError(`${e.message.replace(/\.$/, '')}${asked}`);
    }
    if (this.refreshToken !== refreshToken) return;
    await this.adopt(next, trigger);
  }

  /** Stores the rotated refresh token durably first, then uses the new tokens. */
  private async adopt(next: TokenSet, trigger: RefreshRecord['trigger'] | 'sign-in'): Promise<void> {
    const generation = this.generation;
    // The token just arrived, so its iat is "now" at Pocket ID: the difference is the clocks' skew.
    const receivedAt = this.deps.clock.now();
    const skewMs = estimateSkew(next.issuedAt, receivedAt);
    if (next.refreshToken) this.refreshToken = next.refreshToken;
    const saved = next.refreshToken ? await this.saveRefreshToken(next.refreshToken) : true;
    if (generation !== this.generation) return; // signed out (or in again) while saving: leave it so
    if (saved) {
      try {
        await this.deps.store.set(secretKeys.idToken(this.name), next.idToken);
        await this.deps.store.set(secretKeys.clockSkew(this.name), String(skewMs));
      } catch (err) {
        this.log('warn', `${this.name}: could not save the ID token (${(err as Error).message}); the next start refreshes instead.`);
      }
    }
    if (generation !== this.generation) return;
    this.tokens = next;
    if (Math.abs(skewMs - this.skewMs) >= SKEW_NOISE_MS) {
      this.log('warn', `${this.name}: this machine's clock is ${skewWords(skewMs)} Pocket ID's; refreshes follow the token's lifetime instead.`);
    }
    this.skewMs = skewMs;
    this.skewMeasuredAt = receivedAt;
    this.skewUnconfirmed = false;
    this.signedOutReason = undefined;
    this.signInNeededAnnounced = false;
    this.backgroundFailures = 0;
    this.notBefore = undefined;
    if (trigger !== 'sign-in') {
      this.lastRefresh = { at: this.isoNow(), trigger, result: 'ok' };
      this.log('info', `${this.name}: refreshed (${trigger}); ID token ${relativeTime(next.expiresAt, this.deps.clock.now())}`);
    }
    this.schedule();
    this.changed();
    this.emit(trigger === 'sign-in' ? 'signed-in' : 'refreshed', this.name);
  }

  /**
   * Saves a rotated refresh token before anything uses it. If that fails, the token stays in memory (and in
   * the per-store record a reloaded session resumes from), and the stored one, now spent, is removed: a restart
   * then asks for a sign-in instead of sending a spent token, which would revoke the session at Pocket ID.
   */
  private async saveRefreshToken(token: string): Promise<boolean> {
    const unsaved = unsavedFor(this.deps.store);
    const generation = this.generation;
    try {
      await this.deps.store.set(secretKeys.tokenOwner(this.name), tokenOwner(this.provider));
      // Signed out (or in again) while the owner was written: the sign-out's deletes are queued behind that
      // write, and this token must not be written after them (a restart would resume a signed-out session).
      if (generation !== this.generation) return false;
      await this.deps.store.set(secretKeys.refreshToken(this.name), token);
      if (unsaved.get(this.name) === token) unsaved.delete(this.name);
      return true;
    } catch (err) {
      unsaved.set(this.name, token);
      this.log('error', `${this.name}: could not save the rotated refresh token (${(err as Error).message}); the session is kept in memory until the agent stops.`);
      await this.deps.store.delete(secretKeys.refreshToken(this.name)).catch(() => {});
      return false;
    }
  }

  private schedule(): void {
    if (!this.tokens) return;
    // A due time already past must not become a refresh loop; times are on this machine's clock.
    this.scheduleAt(Math.max(refreshDueAt(this.local(this.tokens), this.policy), this.deps.clock.now() + RETRY_START_MS));
  }

  /** kubectl's one line when Pocket ID cannot be asked now: what failed, when the next try is, what kubectl gets meanwhile. */
  private offlineError(what: string): PocketKubeError {
    const now = this.deps.clock.now();
    const t = this.tokens;
    const meanwhile = !t
      ? 'and kubectl gets a token once Pocket ID answers'
      : this.hasTimeLeft(t)
        ? 'and kubectl keeps the current token while it is valid'
        : `and kubectl gets a new token once Pocket ID answers (the current one expired ${relativeTime(this.local(t).expiresAt, now)})`;
    return sessionError('offline', `PocketKube: ${what}; retrying ${relativeTime(this.nextRefreshAt ?? now, now)}, ${meanwhile}.`, false);
  }

  /**
   * After a failed refresh. A background failure pushes the next try out (doubling, but only a few seconds
   * when the token is nearly out); kubectl's on-demand failures leave the background schedule as it is.
   */
  private scheduleRetry(trigger: RefreshRecord['trigger'], retryAfterMs?: number): void {
    const now = this.deps.clock.now();
    const msLeft = this.tokens ? this.local(this.tokens).expiresAt - now : 0;
    // A `Retry-After` (429, 503) is honoured: no try, background or kubectl's, before it has passed.
    if (retryAfterMs) this.notBefore = now + retryAfterMs;
    const earliest = this.notBefore !== undefined && this.notBefore > now ? this.notBefore : now;
    if (trigger === 'background') this.backgroundFailures++;
    else if (this.cancelTimer && this.nextRefreshAt !== undefined && this.nextRefreshAt > now) {
      // Keep the background try already planned, unless the token's time left calls for an earlier one. One
      // planned in the past is a timer a sleep delayed (Node's timers stop while asleep): plan a retry instead.
      if (this.nextRefreshAt - now <= retryDelay(this.backgroundFailures, msLeft) && this.nextRefreshAt >= earliest) return;
    }
    this.scheduleAt(Math.max(now + retryDelay(Math.max(1, this.backgroundFailures), msLeft), earliest));
  }

  private scheduleAt(at: number): void {
    this.cancelTimer?.();
    if (this.stopped) return;
    this.nextRefreshAt = at;
    this.cancelTimer = this.deps.clock.setTimer(at - this.deps.clock.now(), () => {
      this.cancelTimer = undefined;
      this.refresh('background').catch(() => {});
    });
  }

  /** Re-checks expiry at once, e.g. after the laptop wakes or the clock jumps. */
  recheck(): void {
    if (!this.refreshToken || !this.tokens) return;
    if (this.deps.clock.now() >= refreshDueAt(this.local(this.tokens), this.policy)) this.refresh('background').catch(() => {});
    else this.schedule();
  }

  /** The sign-in under way, if any. */
  pendingLogin(): Promise<Identity> | undefined {
    return this.login?.done;
  }

  /** Starts a sign-in, or returns the one already under way: never two prompts at once. */
  async beginLogin(opts: { device?: boolean } = {}): Promise<LoginHandle> {
    if (this.login) return this.login;
    if (!this.loginStarting) {
      this.loginStarting = (opts.device ? this.beginDeviceLogin() : this.beginBrowserLogin()).finally(() => {
        this.loginStarting = undefined;
      });
    }
    return this.loginStarting;
  }

  private async beginBrowserLogin(): Promise<LoginHandle> {
    const req = await this.oidc.authorizationRequest(this.redirectUri);
    const listener = await LoopbackListener.start(this.provider.callbackPort, req.state, this.deps.loginTimeoutMs);
    const done = (async () => {
      try {
        const cb = await listener.result;
        const tokens = await this.oidc.exchangeCode(cb.url, req);
        await this.signInWith(tokens);
        const who = identityOf(tokens.claims);
        listener.complete(true, `You are signed in to ${this.name} as ${who.name ?? who.email ?? who.sub}. You can close this tab.`);
        return who;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        listener.complete(false, message);
        throw sessionError('sign_in_failed', message, true);
      } finally {
        this.login = undefined;
        this.changed();
      }
    })();
    done.catch(() => {});
    // The browser gets a one-time local link that redirects to the authorization URL (see LoopbackListener.startUrl).
    this.login = { method: 'browser', url: listener.startUrl(req.url.href), done, cancel: () => listener.fail(sessionError('sign_in_failed', 'Sign-in cancelled.', true)) };
    this.changed();
    return this.login;
  }

  private async beginDeviceLogin(): Promise<LoginHandle> {
    const start: DeviceAuthorizationResponse = await this.oidc.startDevice();
    const abort = new AbortController();
    const expiresAt = new Date(this.deps.clock.now() + start.expires_in * 1000).toISOString();
    const done = (async () => {
      try {
        const tokens = await this.oidc.pollDevice(start, abort.signal);
        await this.signInWith(tokens);
        return identityOf(tokens.claims);
      } catch (err) {
        throw sessionError('sign_in_failed', err instanceof Error ? err.message : String(err), true);
      } finally {
        this.login = undefined;
        this.changed();
      }
    })();
    done.catch(() => {});
    this.login = {
      method: 'device',
      url: start.verification_uri_complete ?? start.verification_uri,
      userCode: start.user_code,
      expiresAt,
      done,
      cancel: () => abort.abort(),
    };
    this.changed();
    return this.login;
  }

  private async signInWith(tokens: TokenSet): Promise<void> {
    if (!tokens.refreshToken) {
      this.log('warn', `${this.name}: Pocket ID sent no refresh token; the session ends when the ID token expires.`);
    }
    if (this.stopped) throw sessionError('sign_in_failed', 'PocketKube restarted this session during the sign-in; sign in again.', true);
    // A sign-in replaces whatever session there was; a refresh still in flight for the old one is ignored.
    this.generation++;
    this.refreshToken = undefined;
    await this.adopt(tokens, 'sign-in');
    this.log('info', `${this.name}: signed in as ${identityOf(tokens.claims).email ?? tokens.claims.sub}`);
  }

  async logout(reason = 'you signed out'): Promise<void> {
    const idToken = this.tokens?.idToken;
    this.login?.cancel();
    await this.clear(reason);
    if (idToken) {
      // Pocket ID revokes the refresh session tied to the hint; best effort, we are signed out either way.
      await this.oidc.endSession(idToken).catch((err: Error) => this.log('warn', `${this.name}: end-session at the provider failed (${err.message})`));
    }
    this.log('info', `${this.name}: signed out`);
  }

  private async clear(reason: string): Promise<void> {
    this.generation++;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.nextRefreshAt = undefined;
    this.tokens = undefined;
    this.refreshToken = undefined;
    this.signedOutReason = reason;
    unsavedFor(this.deps.store).delete(this.name);
    await Promise.all(secretKeys.session(this.name).map((key) => this.deps.store.delete(key))).catch((err: Error) => this.log('error', `${this.name}: could not remove the stored session (${err.message})`));
    this.changed();
    this.emit('signed-out', this.name, reason);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.login?.cancel();
  }

  /** Stops, then waits for a refresh in flight so its rotated token is stored before anyone else uses the store. */
  async quiesce(): Promise<void> {
    this.stop();
    await this.refreshing?.catch(() => {});
    // One more try to save a rotated token that could not be saved, so the next start can resume from it.
    const unsaved = unsavedFor(this.deps.store).get(this.name);
    if (unsaved && unsaved === this.refreshToken) await this.saveRefreshToken(unsaved);
  }

  private isoNow(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private changed(): void {
    this.emit('change', this.name);
  }

  snapshot(): SessionSnapshot {
    const now = this.deps.clock.now();
    const t = this.tokens;
    const snap: SessionSnapshot = {
      provider: this.name,
      issuer: this.provider.issuer,
      clientId: this.provider.clientId,
      confidential: this.provider.confidential,
      scopes: this.provider.scopes,
      redirectUri: this.redirectUri,
      state: this.signedIn ? 'signed-in' : 'signed-out',
    };
    if (!this.signedIn) snap.signedOutReason = this.signedOutReason;
    if (this.login) {
      snap.signingIn = { method: this.login.method, url: this.login.url, userCode: this.login.userCode, expiresAt: this.login.expiresAt };
    }
    if (t) {
      const local = this.local(t);
      snap.identity = identityOf(t.claims);
      snap.claims = { ...t.claims };
      snap.idToken = {
        issuedAt: new Date(local.issuedAt).toISOString(),
        expiresAt: new Date(local.expiresAt).toISOString(),
        credentialExpiresAt: this.toCredential(t).expirationTimestamp,
        state: expiryState(local, now, this.policy),
        secondsLeft: Math.max(0, Math.floor((local.expiresAt - now) / 1000)),
        expiresIn: relativeTime(local.expiresAt, now),
      };
    }
    if (this.skewMeasuredAt !== undefined && this.signedIn) {
      snap.clock = {
        skewSeconds: Math.round(this.skewMs / 1000),
        measuredAt: new Date(this.skewMeasuredAt).toISOString(),
        words: `this machine's clock is ${skewWords(this.skewMs)} Pocket ID's`,
      };
    }
    if (this.nextRefreshAt && this.signedIn) snap.nextRefreshAt = new Date(this.nextRefreshAt).toISOString();
    if (this.lastRefresh) snap.lastRefresh = this.lastRefresh;
    return snap;
  }
}
