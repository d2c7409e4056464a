import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { offsetFromDateHeader } from '../platform/clock.js';
import { PocketKubeError } from '../platform/errors.js';
import type { ProviderConfig } from '../session/providers.js';

/** What a successful code exchange, device grant or refresh gives the session. */
export interface TokenSet {
  idToken: string;
  refreshToken?: string;
  claims: IdClaims;
  issuedAt: number;
  expiresAt: number;
}

export interface IdClaims {
  sub: string;
  iss: string;
  exp: number;
  iat: number;
  [claim: string]: unknown;
}

/**
 * A failure talking to the provider, in words a user can act on. `kind` drives the session: 'rejected' (the
 * token endpoint said the grant is gone: sign in again), 'network' (no usable answer: retry while the token
 * is valid), 'config' (our settings or the answer do not fit). Messages never carry tokens, codes or secrets.
 */
export class OidcError extends PocketKubeError {
  override name = 'OidcError';
  constructor(
    message: string,
    readonly kind: 'rejected' | 'network' | 'config',
    /** The provider's OAuth error code (invalid_grant, access_denied...), when it sent one. */
    readonly oauthError?: string,
    /** The provider's HTTP status (not ours: the agent's answer comes from `code`). */
    readonly providerStatus?: number,
    /** How long the provider (or its proxy) asked us to wait, from a 429 or 503's `Retry-After`. */
    readonly retryAfterMs?: number,
  ) {
    super(oauthError ?? `provider_${kind}`, message);
  }
}

/** A clock offset from Pocket ID's `Date` below this many seconds is left alone (the header has whole seconds). */
const CLOCK_SKEW_IGNORED_S = 5;

/** The most a `Retry-After` may push a retry out: a bad header must not park a session for hours. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

/**
 * `Retry-After` of a 429 or 503 (RFC 9110: seconds, or an HTTP date read against `now`), in ms and at most
 * RETRY_AFTER_MAX_MS; undefined when absent, unreadable, in the past, or on another status.
 */
export function retryAfterMs(res: Pick<Response, 'status' | 'headers'> | undefined, now: number): number | undefined {
  if (!res || (res.status !== 429 && res.status !== 503)) return undefined;
  const value = res.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

const FRIENDLY: Record<string, string> = {
  access_denied:
    'Pocket ID denied access: your account is not in a group allowed to use this client (an admin can allow your group on the OIDC client)',
  invalid_state: 'Pocket ID rejected the sign-in request (invalid state); try signing in again',
  invalid_grant: 'Pocket ID ended the session (the refresh token expired, was revoked or was reused)',
  invalid_client: 'Pocket ID does not accept this client id or client secret; check them in the provider settings',
  invalid_request: 'Pocket ID rejected the request as malformed',
  invalid_scope: 'Pocket ID rejected a requested scope',
  unauthorized_client: 'this client is not allowed to use this kind of sign-in at Pocket ID',
  expired_token: 'the device code expired before the sign-in was approved',
  login_required: 'Pocket ID needs you to sign in again',
};

/**
 * The OAuth errors that mean the grant itself is gone, so only signing in again helps. Anything else (a 429, a
 * 5xx, a proxy's HTML page, a 4xx from discovery, a timeout) may pass: it is retried while the token is valid.
 */
export const GRANT_GONE = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied']);

const STATUS_WORDS: Record<number, string> = {
  404: 'not found',
  408: 'request timeout',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

/** "HTTP 503 (service unavailable) with an HTML page": what came back, without quoting the body. */
function describeAnswer(res: Response | undefined, status: number): string {
  const words = STATUS_WORDS[status] ? ` (${STATUS_WORDS[status]})` : '';
  const type = res?.headers.get('content-type') ?? '';
  const page = /html/i.test(type) ? ' with an HTML page (a proxy in front of Pocket ID?)' : '';
  return `HTTP ${status}${words}${page}`;
}

/** Duck-typed: with a private CA the answer is undici's Response, not the global one. */
function asResponse(value: unknown): Response | undefined {
  const r = value as Response | undefined;
  return typeof r?.status === 'number' && typeof r?.headers?.get === 'function' ? r : undefined;
}

export function describeOidcError(err: unknown, what: string, issuer: string, now = Date.now()): OidcError {
  if (err instanceof OidcError) return err;
  const e = err as { error?: unknown; error_description?: unknown; status?: unknown; cause?: unknown; code?: unknown; name?: string; message?: string; response?: unknown };
  // An OAuth error in a WWW-Authenticate challenge (e.g. 401 invalid_client): read it like a body error.
  if (e?.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && Array.isArray(e.cause)) {
    const challenge = (e.cause as { parameters?: Record<string, string> }[]).find((c) => typeof c.parameters?.error === 'string');
    if (challenge) return describeOidcError({ error: challenge.parameters!.error, error_description: challenge.parameters!.error_description, status: e.status, response: e.response }, what, issuer, now);
  }
  // Errors returned by the provider as OAuth error codes (token endpoint JSON or redirect parameters).
  if (typeof e?.error === 'string') {
    const code = e.error;
    const status = typeof e.status === 'number' ? e.status : undefined;
    const desc = typeof e.error_description === 'string' ? e.error_description : undefined;
    const base = FRIENDLY[code] ?? `Pocket ID answered "${code}"`;
    const gone = GRANT_GONE.has(code) && (status === undefined || status < 500);
    const message = `${what} failed: ${base}${desc && !FRIENDLY[code] ? ` (${desc})` : ''}.`;
    return new OidcError(message, gone ? 'rejected' : 'network', code, status, gone ? undefined : retryAfterMs(asResponse(e.response), now));
  }
  const response = asResponse(e?.cause) ?? asResponse(e?.response);
  const status = typeof e?.status === 'number' ? e.status : response?.status;
  if (status !== undefined) {
    // No OAuth error in the answer: whatever answered (Pocket ID busy, a proxy, a load balancer) may recover.
    return new OidcError(`${what} failed: ${issuer} answered ${describeAnswer(response, status)}.`, 'network', undefined, status, retryAfterMs(response, now));
  }
  // openid-client reports a timeout or abort as a ClientError with these codes; fetch's own as a DOMException.
  const timedOut = e?.name === 'TimeoutError' || e?.code === 'OAUTH_TIMEOUT';
  if (timedOut || e?.name === 'AbortError' || e?.code === 'OAUTH_ABORT' || e instanceof TypeError) {
    const reason = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = timedOut ? 'no answer in time' : (reason?.code ?? reason?.message ?? e.message ?? 'no answer');
    return new OidcError(`${what} failed: cannot reach ${issuer} (${detail}).`, 'network');
  }
  if (e?.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || e?.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return new OidcError(`${what} failed: ${e.message} (check the issuer URL and client id).`, 'config');
  }
  return new OidcError(`${what} failed: ${e?.message ?? String(err)}.`, 'config');
}

function tokenSetFrom(res: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): TokenSet {
  const claims = res.claims() as IdClaims | undefined;
  if (!res.id_token || !claims) throw new OidcError('Pocket ID returned no ID token; is the "openid" scope requested?', 'config');
  return {
    idToken: res.id_token,
    refreshToken: res.refresh_token,
    claims,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  };
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** All OIDC steps for one provider, through openid-client. Discovery is done once and reused. */
export class OidcClient {
  private configuration?: Promise<client.Configuration>;
  private codeRedirectUri?: string;
  /** Pocket ID's clock minus ours, from the `Date` of its latest answer. */
  private serverOffsetMs?: number;
  /** The discovered configuration with openid-client's `clockSkew` set to the offset, and that offset in s. */
  private skewed?: { cfg: client.Configuration; skewS: number };

  constructor(
    readonly provider: ProviderConfig,
    private readonly clientSecret: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {}

  /**
   * The configuration for the next request. openid-client checks an ID token's `iat` and `exp` against this
   * machine's clock (30 s tolerance): a laptop an hour ahead would see every fresh token as expired, and a
   * refresh answer that fails those checks is final (its refresh token is spent). So the configuration carries
   * openid-client's `clockSkew`, set from the `Date` header of Pocket ID's latest answer (discovery comes
   * first), and is rebuilt, without the network, when that offset moves by more than a few seconds.
   */
  async config(): Promise<client.Configuration> {
    if (!this.configuration) {
      this.configuration = this.discover();
      // A failed discovery (provider down) must not stick: the next call tries again.
      this.configuration.catch(() => (this.configuration = undefined));
    }
    const base = await this.configuration;
    const skewS = Math.round((this.serverOffsetMs ?? 0) / 1000);
    if (Math.abs(skewS) < CLOCK_SKEW_IGNORED_S) return base;
    if (!this.skewed || Math.abs(this.skewed.skewS - skewS) >= CLOCK_SKEW_IGNORED_S) this.skewed = { cfg: this.withClockSkew(base, skewS), skewS };
    return this.skewed.cfg;
  }

  /** `base` with openid-client's assumed time moved by `skewS` seconds; the same fetch, timeout and keys. */
  private withClockSkew(base: client.Configuration, skewS: number): client.Configuration {
    const metadata: client.ClientMetadata = { ...base.clientMetadata(), [client.clockSkew]: skewS };
    const cfg = new client.Configuration(base.serverMetadata(), this.provider.clientId, metadata, this.clientAuth());
    const customFetch = base[client.customFetch];
    if (customFetch) cfg[client.customFetch] = customFetch;
    cfg.timeout = base.timeout;
    if (new URL(this.provider.issuer).protocol === 'http:') client.allowInsecureRequests(cfg);
    const keys = client.getJwksCache(base);
    if (keys) client.setJwksCache(cfg, keys);
    return cfg;
  }

  private clientAuth(): client.ClientAuth {
    return this.clientSecret ? client.ClientSecretBasic(this.clientSecret) : client.None();
  }

  /** Records Pocket ID's clock from an answer's `Date` (whole seconds, so offsets under a few s are noise). */
  private noteServerDate(res: Response, sentAt: number): void {
    const offset = offsetFromDateHeader(res.headers.get('date'), sentAt, Date.now());
    if (offset !== undefined) this.serverOffsetMs = offset;
  }

  private async discover(): Promise<client.Configuration> {
    const p = this.provider;
    const url = new URL(p.issuer);
    const options: client.DiscoveryRequestOptions = { timeout: this.timeoutMs / 1000 };
    if (url.protocol === 'http:') options.execute = [client.allowInsecureRequests];
    let dispatcher: Agent | undefined;
    if (p.caFile) {
      let ca: string;
      try {
        ca = await readFile(p.caFile, 'utf8');
      } catch (err) {
        throw new OidcError(`cannot read the CA file ${p.caFile} for ${p.name} (${(err as NodeJS.ErrnoException).code}); fix --ca-file`, 'config');
      }
      dispatcher = new Agent({ connect: { ca } });
    }
    options[client.customFetch] = ((input: string, init: RequestInit) => {
      // openid-client derives redirect_uri from the callback URL, which turns the registered
      // "http://localhost:8000" into "http://localhost:8000/"; Pocket ID compares exactly.
      const body = init.body;
      if (this.codeRedirectUri && body instanceof URLSearchParams && body.get('grant_type') === 'authorization_code') {
        body.set('redirect_uri', this.codeRedirectUri);
      }
      const sentAt = Date.now();
      const answer = dispatcher ? undiciFetch(input, { ...init, dispatcher } as never) : fetch(input, init);
      return (answer as Promise<Response>).then((res) => {
        this.noteServerDate(res, sentAt);
        return res;
      });
    }) as never;
    const auth = this.clientAuth();
    try {
      const cfg = await client.discovery(url, p.clientId, this.clientSecret ? { client_secret: this.clientSecret } : undefined, auth, options);
      cfg.timeout = this.timeoutMs / 1000;
      return cfg;
    } catch (err) {
      throw describeOidcError(err, `Discovery at ${p.issuer}/.well-known/openid-configuration`, p.issuer);
    }
  }

  async authorizationRequest(redirectUri: string): Promise<AuthorizationRequest> {
    const cfg = await this.config();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: redirectUri,
      scope: this.provider.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, state, nonce, codeVerifier, redirectUri };
  }

  async exchangeCode(callbackUrl: URL, req: AuthorizationRequest): Promise<TokenSet> {
    const cfg = await this.config();
    this.codeRedirectUri = req.redirectUri;
    try {
      const res = await client.authorizationCodeGrant(cfg, callbackUrl, {
        pkceCodeVerifier: req.codeVerifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
        idTokenExpected: true,
      });
      return tokenSetFrom(res);
    } catch (err) {
      throw describeOidcError(err, 'Sign-in', this.provider.issuer);
    } finally {
      this.codeRedirectUri = undefined;
    }
  }

  async refresh(refreshToken: string): Promise<TokenSet> {
    const cfg = await this.config();
    try {
      // Ask for the same scopes again: a refresh that drops them loses the groups claim.
      const res = await client.refreshTokenGrant(cfg, refreshToken, { scope: this.provider.scopes.join(' ') });
      return tokenSetFrom(res);
    } catch (err) {
      const e = describeOidcError(err, 'Refreshing the session', this.provider.issuer);
      // Pocket ID answered 200 with tokens, so the refresh token was consumed, but the answer was unusable
      // (e.g. an ID token that fails its time checks on a wrong clock). Sending the old token again would
      // revoke the session: this is final, never retried.
      if (e.kind === 'config') throw new OidcError(e.message, 'rejected', e.oauthError ?? 'unusable_answer', e.providerStatus);
      throw e;
    }
  }

  async startDevice(): Promise<client.DeviceAuthorizationResponse> {
    const cfg = await this.config();
    try {
      return await client.initiateDeviceAuthorization(cfg, { scope: this.provider.scopes.join(' ') });
    } catch (err) {
      throw describeOidcError(err, 'Starting the device sign-in', this.provider.issuer);
    }
  }

  async pollDevice(start: client.DeviceAuthorizationResponse, signal: AbortSignal): Promise<TokenSet> {
    const cfg = await this.config();
    try {
      return tokenSetFrom(await client.pollDeviceAuthorizationGrant(cfg, start, undefined, { signal }));
    } catch (err) {
      throw describeOidcError(err, 'Device sign-in', this.provider.issuer);
    }
  }

  /**
   * Ends the session at the provider. The ID token goes in a POST body, never in a URL, where proxy and
   * access logs would keep a token kube-apiserver still accepts. Pocket ID reads the form on POST (as
   * RP-Initiated Logout requires) and revokes the refresh session tied to the hint.
   */
  async endSession(idTokenHint: string): Promise<void> {
    const cfg = await this.config();
    const endpoint = cfg.serverMetadata().end_session_endpoint;
    if (!endpoint) return;
    const doFetch = (cfg as unknown as Record<symbol, typeof fetch>)[client.customFetch] ?? fetch;
    const body = new URLSearchParams({ id_token_hint: idTokenHint, client_id: this.provider.clientId });
    const res = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    } as RequestInit);
    await res.body?.cancel();
  }
}
