/**
 * One JWT authenticator, as k8s.io/apiserver/plugin/pkg/authenticator/token/oidc with go-oidc v2 verifies:
 * OIDC discovery with an exact issuer match (retried until it works), RS256 and friends over the JWKS
 * (fetched again when no cached key verifies), zero leeway on `exp`, one minute on `nbf`, the audience check.
 */
import { compactVerify, importJWK, type JWK } from 'jose';
import { decodeClaims, decodeRawUrl, untrustedIssuer, userFromClaims } from './claims.js';
import type { NormalizedJwt } from './config.js';
import { fetchJson } from './fetch-json.js';
import { goQuoteSlice, goTime, isRecord, q } from './messages.js';
import type { KubeApiServerStats, UserInfo } from './types.js';

const NBF_LEEWAY_MS = 60_000;

export type AuthResult = { ok: true; user: UserInfo } | { ok: false; error: string };

export interface AuthnDeps {
  clock: () => number;
  log: (line: string) => void;
  stats: KubeApiServerStats;
  fetchTimeoutMs: number;
  initRetryMs: number;
}

export class JwtAuthenticator {
  private ready = false;
  private closed = false;
  private jwksUri = '';
  private keys: JWK[] = [];
  private initInFlight: Promise<void> | null = null;
  private keysInFlight: Promise<JWK[]> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly imported = new WeakMap<JWK, Map<string, CryptoKey | Uint8Array>>();

  constructor(readonly cfg: NormalizedJwt, private readonly deps: AuthnDeps) {}

  start(): void {
    void this.attemptInit();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** oidc.NewProvider: discovery, exact issuer match, jwks_uri. Retried every initRetryMs until it works. */
  private attemptInit(): Promise<void> {
    if (this.initInFlight) return this.initInFlight;
    this.initInFlight = (async () => {
      try {
        const wellKnown = this.cfg.discoveryUrl ?? `${this.cfg.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`;
        this.deps.stats.discoveryFetches++;
        const doc = await fetchJson(wellKnown, this.cfg.caPem, this.deps.fetchTimeoutMs);
        if (!isRecord(doc)) throw new Error('oidc: failed to decode provider discovery object');
        if (doc.issuer !== this.cfg.issuerUrl) {
          throw new Error(`oidc: issuer did not match the issuer returned by provider, expected ${q(this.cfg.issuerUrl)} got ${q(doc.issuer ?? '')}`);
        }
        this.jwksUri = typeof doc.jwks_uri === 'string' ? doc.jwks_uri : '';
        this.ready = true;
      } catch (e) {
        this.deps.log(`oidc authenticator: initializing plugin: ${(e as Error).message}`);
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            void this.attemptInit();
          }, this.deps.initRetryMs);
          this.retryTimer.unref();
        }
      } finally {
        this.initInFlight = null;
      }
    })();
    return this.initInFlight;
  }

  /** null: not this authenticator's token (wrong `iss`), so it is skipped. */
  async authenticate(token: string): Promise<AuthResult | null> {
    if (untrustedIssuer(token) !== this.cfg.issuerUrl) return null;
    // kube-apiserver starts discovery at boot and fails tokens until it is done; we let a token that
    // arrives during the first (in-flight) attempt wait for it instead of racing the start-up.
    if (!this.ready && this.initInFlight) await this.initInFlight;
    if (!this.ready) return { ok: false, error: 'oidc: authenticator not initialized' };
    let claims: Record<string, unknown>;
    try {
      claims = await this.verify(token);
    } catch (e) {
      return { ok: false, error: `oidc: verify token: ${(e as Error).message}` };
    }
    try {
      return { ok: true, user: userFromClaims(this.cfg, claims) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  /** go-oidc v2 IDTokenVerifier.Verify, then kube's multi-audience check. */
  private async verify(token: string): Promise<Record<string, unknown>> {
    const parts = token.split('.');
    const { claims, aud } = decodeClaims(parts);

    const iss = (claims.iss as string | undefined) ?? '';
    if (iss !== this.cfg.issuerUrl) {
      throw new Error(`oidc: id token issued by a different provider, expected ${q(this.cfg.issuerUrl)} got ${q(iss)}`);
    }
    const single = new Set(this.cfg.audiences).size === 1;
    if (single && !aud.includes(this.cfg.audiences[0]!)) {
      throw new Error(`oidc: expected audience ${q(this.cfg.audiences[0])} got ${goQuoteSlice(aud)}`);
    }
    const now = this.deps.clock();
    const expMs = Math.trunc((claims.exp as number | undefined) ?? 0) * 1000;
    if (expMs < now) throw new Error(`oidc: token is expired (Token Expiry: ${goTime(expMs)})`);
    if (typeof claims.nbf === 'number') {
      const nbfMs = Math.trunc(claims.nbf) * 1000;
      if (now + NBF_LEEWAY_MS < nbfMs) {
        throw new Error(`oidc: current time ${goTime(now)} before the nbf (not before) time: ${goTime(nbfMs)}`);
      }
    }

    if (parts.length !== 3) throw new Error('oidc: malformed jwt: square/go-jose: compact JWS format must have three parts');
    let header: Record<string, unknown>;
    try {
      const h: unknown = JSON.parse(decodeRawUrl(parts[0]!).toString('utf8'));
      if (!isRecord(h)) throw new Error('header is not an object');
      header = h;
    } catch (e) {
      throw new Error(`oidc: malformed jwt: ${(e as Error).message}`);
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (!this.cfg.signingAlgs.includes(alg)) {
      throw new Error(`oidc: id token signed with unsupported algorithm, expected ${goQuoteSlice(this.cfg.signingAlgs)} got ${q(alg)}`);
    }
    const kid = typeof header.kid === 'string' ? header.kid : '';
    await this.verifySignature(token, alg, kid);

    if (!single) {
      const set = new Set(this.cfg.audiences);
      if (!aud.some((a) => set.has(a))) {
        throw new Error(`oidc: expected audience in ${goQuoteSlice([...set].sort())} got ${goQuoteSlice(aud)}`);
      }
    }
    return claims;
  }

  /** go-oidc RemoteKeySet: try cached keys; if none verifies (e.g. unknown kid), fetch the JWKS once more. */
  private async verifySignature(token: string, alg: string, kid: string): Promise<void> {
    if (await this.tryKeys(token, alg, kid, this.keys)) return;
    let keys: JWK[];
    try {
      keys = await this.refreshKeys();
    } catch (e) {
      throw new Error(`failed to verify signature: fetching keys oidc: get keys failed: ${(e as Error).message}`);
    }
    if (await this.tryKeys(token, alg, kid, keys)) return;
    throw new Error('failed to verify signature: failed to verify id token signature');
  }

  private async tryKeys(token: string, alg: string, kid: string, keys: JWK[]): Promise<boolean> {
    for (const jwk of keys) {
      if (kid !== '' && jwk.kid !== kid) continue;
      let perAlg = this.imported.get(jwk);
      if (!perAlg) {
        perAlg = new Map();
        this.imported.set(jwk, perAlg);
      }
      let key = perAlg.get(alg);
      if (!key) {
        try {
          const { use: _use, key_ops: _ops, ext: _ext, ...bare } = jwk;
          key = await importJWK({ ...bare, alg }, alg);
          perAlg.set(alg, key);
        } catch {
          continue;
        }
      }
      try {
        await compactVerify(token, key, { algorithms: [alg] });
        return true;
      } catch {
        /* try the next key */
      }
    }
    return false;
  }

  private refreshKeys(): Promise<JWK[]> {
    if (this.keysInFlight) return this.keysInFlight;
    this.keysInFlight = (async () => {
      try {
        if (!this.jwksUri) throw new Error('no jwks_uri in discovery document');
        this.deps.stats.jwksFetches++;
        const doc = await fetchJson(this.jwksUri, this.cfg.caPem, this.deps.fetchTimeoutMs);
        if (!isRecord(doc) || !Array.isArray(doc.keys)) throw new Error('oidc: failed to decode keys');
        this.keys = doc.keys.filter(isRecord) as JWK[];
        return this.keys;
      } finally {
        this.keysInFlight = null;
      }
    })();
    return this.keysInFlight;
  }
}
