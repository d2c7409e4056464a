import { EventEmitter } from 'node:events';
import type { DeviceAuthorizationResponse } from 'openid-client';
import type { Clock } from '../platform/clock.js';
import { PocketKubeError } from '../platform/errors.js';
import {
  canHandOut,
  credentialExpiry,
  DEFAULT_EXPIRY_POLICY,
  expiryState,
  minHandoutFor,
  refreshDueAt,
  relativeTime,
  type ExpiryPolicy,
  type ExpiryState,
} from '../../shared/expiry.js';
import { LoopbackListener } from '../oidc/loopback.js';
import { OidcClient, OidcError, type IdClaims, type TokenSet } from '../oidc/oidc.js';
import { secretKeys, type ProviderConfig } from './providers.js';
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

export interface SessionDeps {
  store: SecretStore;
  clock: Clock;
  policy?: ExpiryPolicy;
  log?: Logger;
  clientSecret?: string;
  /** How long the loopback listener waits for the browser. */
  loginTimeoutMs?: number;
}

const BACKOFF_START_MS = 2_000;
const BACKOFF_MAX_MS = 60_000;

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
  readonly oidc: OidcClient;
  private readonly policy: ExpiryPolicy;
  private readonly log: Logger;
  private tokens?: TokenSet;
  private refreshToken?: string;
  private signedOutReason?: string = 'not signed in yet';
  private refreshing?: Promise<void>;
  private login?: LoginHandle & { cancel: () => void };
  private loginStarting?: Promise<LoginHandle>;
  private cancelTimer?: () => void;
  private backoffMs = BACKOFF_START_MS;
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
    this.oidc = new OidcClient(provider, deps.clientSecret);
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
    const [refreshToken, idToken] = await Promise.all([
      this.deps.store.get(secretKeys.refreshToken(this.name)),
      this.deps.store.get(secretKeys.idToken(this.name)),
    ]);
    if (this.stopped) return; // replaced or stopped while reading: the new owner resumes instead
    if (!refreshToken) {
      this.changed();
      return;
    }
    this.refreshToken = refreshToken;
    this.signedOutReason = undefined;
    const claims = idToken ? decodeClaims(idToken) : undefined;
    if (idToken && claims && claims.iss === this.provider.issuer) {
      this.tokens = { idToken, claims, issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 };
    }
    if (this.tokens && canHandOut(this.tokens, this.deps.clock.now(), this.policy)) {
      this.log('info', `${this.name}: session resumed; ID token ${relativeTime(this.tokens.expiresAt, this.deps.clock.now())}`);
      this.schedule();
      this.changed();
      return;
    }
    this.log('info', `${this.name}: resuming the stored session with a refresh`);
    await this.refresh('resume').catch(() => {});
  }

  /** The credential for kubectl. Refreshes first (once, shared by all callers) when the token is too close to expiry. */
  async credential(): Promise<Credential> {
    if (!this.signedIn) throw this.signedOutError();
    const now = this.deps.clock.now();
    if (!this.tokens || !canHandOut(this.tokens, now, this.policy)) {
      try {
        await this.refresh('on-demand');
      } catch (err) {
        // Still valid but the provider is unreachable: hand out what is left rather than fail kubectl.
        const t = this.tokens;
        if (err instanceof PocketKubeError && err.code === 'offline' && t && t.expiresAt > this.deps.clock.now()) {
          return this.toCredential(t);
        }
        throw err;
      }
    }
    if (!this.tokens) throw this.signedOutError();
    return this.toCredential(this.tokens);
  }

  /** The credential as credential() would hand it out now without a refresh, and until when (the agent's kubectl cache). */
  credentialAsIs(): (Credential & { handOutUntil: number }) | undefined {
    const t = this.tokens;
    if (!this.signedIn || !t || !canHandOut(t, this.deps.clock.now(), this.policy)) return undefined;
    return { ...this.toCredential(t), handOutUntil: t.expiresAt - minHandoutFor(t, this.policy) };
  }

  private toCredential(t: TokenSet): Credential {
    // Never promise kubectl more than the token has; never less than zero seconds from now.
    const stamp = Math.max(credentialExpiry(t, this.policy).getTime(), Math.min(t.expiresAt, this.deps.clock.now()));
    return { token: t.idToken, expiresAt: t.expiresAt, expirationTimestamp: new Date(Math.floor(stamp / 1000) * 1000).toISOString() };
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
    if (!this.refreshing) {
      this.refreshing = this.runRefresh(trigger).finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async runRefresh(trigger: RefreshRecord['trigger']): Promise<void> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) throw this.signedOutError();
    this.cancelTimer?.();
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
      this.log('warn', `${this.name}: ${e.message} Retrying in ${Math.round(this.backoffMs / 1000)} s.`);
      this.scheduleAt(this.deps.clock.now() + this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
      this.changed();
      throw sessionError('offline', `PocketKube: ${e.message}`, false);
    }
    if (this.refreshToken !== refreshToken) return;
    await this.adopt(next, trigger);
  }

  /** Stores the rotated refresh token durably first, then uses the new tokens. */
  private async adopt(next: TokenSet, trigger: RefreshRecord['trigger'] | 'sign-in'): Promise<void> {
    const generation = this.generation;
    if (next.refreshToken) this.refreshToken = next.refreshToken;
    try {
      if (next.refreshToken) await this.deps.store.set(secretKeys.refreshToken(this.name), next.refreshToken);
      if (generation !== this.generation) return; // signed out (or in again) while saving: leave it so
      await this.deps.store.set(secretKeys.idToken(this.name), next.idToken);
    } catch (err) {
      // Losing the rotated token would log the user out at the next restart; say so, keep serving.
      this.log('error', `${this.name}: could not save the session (${(err as Error).message}); it lasts until the agent stops.`);
    }
    if (generation !== this.generation) return;
    this.tokens = next;
    this.signedOutReason = undefined;
    this.signInNeededAnnounced = false;
    this.backoffMs = BACKOFF_START_MS;
    if (trigger !== 'sign-in') {
      this.lastRefresh = { at: this.isoNow(), trigger, result: 'ok' };
      this.log('info', `${this.name}: refreshed (${trigger}); ID token ${relativeTime(next.expiresAt, this.deps.clock.now())}`);
    }
    this.schedule();
    this.changed();
    this.emit(trigger === 'sign-in' ? 'signed-in' : 'refreshed', this.name);
  }

  private schedule(): void {
    if (!this.tokens) return;
    // A due time already past (a clock ahead of Pocket ID's) must not become a refresh loop.
    this.scheduleAt(Math.max(refreshDueAt(this.tokens, this.policy), this.deps.clock.now() + BACKOFF_START_MS));
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
    if (this.deps.clock.now() >= refreshDueAt(this.tokens, this.policy)) this.refresh('background').catch(() => {});
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
    this.login = { method: 'browser', url: req.url.href, done, cancel: () => listener.fail(sessionError('sign_in_failed', 'Sign-in cancelled.', true)) };
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
    await Promise.all([
      this.deps.store.delete(secretKeys.refreshToken(this.name)),
      this.deps.store.delete(secretKeys.idToken(this.name)),
    ]).catch((err: Error) => this.log('error', `${this.name}: could not remove the stored session (${err.message})`));
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
      snap.identity = identityOf(t.claims);
      snap.claims = { ...t.claims };
      snap.idToken = {
        issuedAt: new Date(t.issuedAt).toISOString(),
        expiresAt: new Date(t.expiresAt).toISOString(),
        credentialExpiresAt: this.toCredential(t).expirationTimestamp,
        state: expiryState(t, now, this.policy),
        secondsLeft: Math.max(0, Math.floor((t.expiresAt - now) / 1000)),
        expiresIn: relativeTime(t.expiresAt, now),
      };
    }
    if (this.nextRefreshAt && this.signedIn) snap.nextRefreshAt = new Date(this.nextRefreshAt).toISOString();
    if (this.lastRefresh) snap.lastRefresh = this.lastRefresh;
    return snap;
  }
}
