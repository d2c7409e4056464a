/**
 * The token authenticator in front of the JWT authenticators: tries each in turn (a token naming no known
 * issuer is "invalid bearer token"), and caches successes for the TTL keyed by an HMAC of the token, never
 * failures, like kube-apiserver's token success cache. Concurrent checks of one token share one verification.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AuthnDeps, AuthResult, JwtAuthenticator } from './jwt-authenticator.js';
import type { UserInfo } from './types.js';

/** The union of JWT authenticators behind kube-apiserver's token success cache. */
export class TokenAuthenticator {
  private readonly hmacKey = randomBytes(32);
  private readonly cache = new Map<string, { user: UserInfo; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();

  constructor(private readonly authenticators: JwtAuthenticator[], private readonly ttlMs: number, private readonly deps: AuthnDeps) {}

  async authenticate(token: string): Promise<AuthResult> {
    const key = createHmac('sha256', this.hmacKey).update(token).digest('base64url');
    const now = this.deps.clock();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) {
      this.deps.stats.tokenCacheHits++;
      return { ok: true, user: cloneUser(hit.user) };
    }
    if (hit) this.cache.delete(key);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async (): Promise<AuthResult> => {
      this.deps.stats.tokenVerifications++;
      const errors: string[] = [];
      for (const a of this.authenticators) {
        const r = await a.authenticate(token);
        if (!r) continue;
        if (r.ok) {
          if (this.ttlMs > 0) {
            if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!);
            this.cache.set(key, { user: cloneUser(r.user), expiresAt: this.deps.clock() + this.ttlMs });
          }
          return r;
        }
        errors.push(r.error);
      }
      return { ok: false, error: `[${['invalid bearer token', ...errors].join(', ')}]` };
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

function cloneUser(u: UserInfo): UserInfo {
  return {
    username: u.username,
    groups: [...u.groups],
    ...(u.uid ? { uid: u.uid } : {}),
    ...(u.extra ? { extra: Object.fromEntries(Object.entries(u.extra).map(([k, v]) => [k, [...v]])) } : {}),
  };
}
