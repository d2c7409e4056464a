/**
 * Pocket ID look-alike: a real OpenID provider (oidc-provider v9) on loopback HTTPS, configured to
 * behave like Pocket ID v2.14 (see /work/shared/facts/pocket-id.md). Run as a child process:
 *
 *   POCKET_ID_CONFIG='{"stateDir":"/tmp/x"}' node dist/tests/stand-ins/pocket-id-server.js
 *
 * Prints exactly one JSON line on stdout when listening ({"ready":true,...}); everything else goes
 * to stderr. Never logs tokens, codes, secrets or key material. Exits on SIGTERM/SIGINT.
 */
import * as crypto from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as util from 'node:util';

import { compactVerify } from 'jose';
import { generate as generateCertificate } from 'selfsigned';

import {
  normalizeGroupName,
  redirectUriMatches,
  resolveConfig,
  resolveUser,
  userAllowed,
  type PocketIdClient,
  type PocketIdFault,
  type PocketIdReadyLine,
  type PocketIdServerConfig,
  type PocketIdStats,
  type ResolvedPocketIdUser,
} from './pocket-id.js';

// ---------------------------------------------------------------------------------------------
// stdout is reserved for the single ready line. oidc-provider prints notices with console.info and
// a Node-version warning with console.warn at import time: route everything to stderr.
const toStderr = (...args: unknown[]): void => {
  process.stderr.write(`${util.format(...args)}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = (...args: unknown[]) => {
  if (String(args[0]).includes('Unsupported runtime')) return; // Node 20 works; the warning is noise
  toStderr(...args);
};
// `debug` (used by oidc-provider for request-level error details) must never be enabled here.
delete process.env.DEBUG;

/* eslint-disable @typescript-eslint/no-explicit-any -- oidc-provider and koa ship no types here */
type Ctx = any;
type Next = () => Promise<void>;

const SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'] as const;
const KNOWN_SCOPES = new Set<string>(SCOPES);
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const AMR = ['phr']; // Pocket ID: "phishing-resistant" (passkey)
const ROUTES = {
  authorization: '/authorize',
  token: '/api/oidc/token',
  userinfo: '/api/oidc/userinfo',
  end_session: '/api/oidc/end-session',
  jwks: '/.well-known/jwks.json',
  device_authorization: '/api/oidc/device/authorize',
  code_verification: '/device',
  introspection: '/api/oidc/introspect',
  revocation: '/api/oidc/revoke',
  pushed_authorization_request: '/api/oidc/par',
  registration: '/api/oidc/register',
  backchannel_authentication: '/api/oidc/backchannel',
  challenge: '/api/oidc/challenge',
  credential: '/api/oidc/credential',
};
const DAY = 24 * 60 * 60;
const PKCE_FORMAT = /^[A-Za-z0-9\-._~]{43,128}$/;

function epoch(): number {
  return Math.floor(Date.now() / 1000);
}

function html(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function safeErr(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// Storage: an in-memory adapter we can enumerate (per user revocation, per grant revocation).

interface Entry {
  payload: any;
  expiresAt: number | undefined;
}
const EXPIRED_GRACE_MS = 10 * 60 * 1000;
const stores = new Map<string, Map<string, Entry>>();
let opsSincePurge = 0;

function storeFor(model: string): Map<string, Entry> {
  let store = stores.get(model);
  if (!store) {
    store = new Map();
    stores.set(model, store);
  }
  return store;
}

function purgeExpired(): void {
  const limit = Date.now() - EXPIRED_GRACE_MS;
  for (const store of stores.values()) {
    for (const [id, entry] of store) {
      if (entry.expiresAt !== undefined && entry.expiresAt < limit) store.delete(id);
    }
  }
}

class EnumerableMemoryAdapter {
  private readonly store: Map<string, Entry>;

  constructor(model: string) {
    this.store = storeFor(model);
  }

  async upsert(id: string, payload: any, expiresIn?: number): Promise<void> {
    if (++opsSincePurge >= 200) {
      opsSincePurge = 0;
      purgeExpired();
    }
    this.store.set(id, { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined });
  }

  async find(id: string): Promise<any> {
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt + EXPIRED_GRACE_MS < Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid: string): Promise<any> {
    for (const [id, entry] of this.store) if (entry.payload?.uid === uid) return this.find(id);
    return undefined;
  }

  async findByUserCode(userCode: string): Promise<any> {
    for (const [id, entry] of this.store) if (entry.payload?.userCode === userCode) return this.find(id);
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const entry = this.store.get(id);
    if (entry) entry.payload.consumed = epoch();
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [id, entry] of this.store) if (entry.payload?.grantId === grantId) this.store.delete(id);
  }
}

/** Revokes a grant: the grant itself and every token/code issued under it (the refresh "family"). */
function revokeGrant(grantId: string): void {
  storeFor('Grant').delete(grantId);
  for (const [model, store] of stores) {
    if (model === 'Grant') continue;
    for (const [id, entry] of store) if (entry.payload?.grantId === grantId) store.delete(id);
  }
}

/** Everything belonging to a user: grants, tokens, codes, browser sessions, pending interactions. */
function revokeAccount(accountId: string): void {
  for (const store of stores.values()) {
    for (const [id, entry] of store) {
      const p = entry.payload;
      if (p?.accountId === accountId || p?.session?.accountId === accountId) store.delete(id);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function page(title: string, body: string, status?: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f4f5;color:#18181b;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:32px 40px;width:340px}
h1{font-size:1.35rem;margin:0 0 8px}p{color:#52525b;font-size:.92rem}
button{display:block;width:100%;padding:10px 12px;margin:8px 0;border:0;border-radius:8px;background:#18181b;color:#fff;font-size:.95rem;cursor:pointer}
button.secondary{background:#e4e4e7;color:#18181b}button:disabled{opacity:.4;cursor:not-allowed}
input[type=text]{width:100%;box-sizing:border-box;padding:10px;font-size:1.1rem;text-transform:uppercase;text-align:center;border:1px solid #d4d4d8;border-radius:8px}
.error{color:#b91c1c}code{font-size:1.4rem;letter-spacing:.1em}form{margin:0}
</style>
</head>
<body><main${status ? ` data-status="${html(status)}"` : ''}>
${body}
</main></body>
</html>`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const raw = process.env.POCKET_ID_CONFIG;
  let parsed: PocketIdServerConfig;
  try {
    parsed = raw ? (JSON.parse(raw) as PocketIdServerConfig) : ({ stateDir: process.cwd() } as PocketIdServerConfig);
  } catch (err) {
    throw new Error(`POCKET_ID_CONFIG is not valid JSON (${safeErr(err)})`);
  }
  if (!parsed.stateDir) throw new Error('POCKET_ID_CONFIG.stateDir is required');
  const config = resolveConfig(parsed);
  const stateDir = path.resolve(config.stateDir);
  await mkdir(stateDir, { recursive: true });

  const lifetimes = {
    idToken: config.lifetimes?.idToken ?? 3600,
    accessToken: config.lifetimes?.accessToken ?? 3600,
    refreshToken: config.lifetimes?.refreshToken ?? 30 * DAY,
    authorizationCode: config.lifetimes?.authorizationCode ?? 900,
    deviceCode: config.lifetimes?.deviceCode ?? 900,
  };
  const deviceInterval = config.deviceInterval ?? 5;

  const users = new Map<string, ResolvedPocketIdUser>(); // by username
  for (const u of config.users) users.set(u.username, resolveUser(u));
  const userBySub = (sub: string) => [...users.values()].find((u) => u.sub === sub);
  const clients = new Map<string, PocketIdClient>(config.clients.map((c) => [c.clientId, c]));

  const stats: PocketIdStats = { codeGrants: 0, refreshGrants: 0, refreshFailures: 0, deviceGrants: 0, endSessions: [] };
  /** ID token jti → grant id, so end-session can revoke the refresh session tied to an id_token_hint. */
  const idTokenGrants = new Map<string, string>();

  // --- TLS --------------------------------------------------------------------------------------
  const pems = await generateCertificate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'PocketKube test Pocket ID' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const caFile = path.join(stateDir, 'pocket-id-ca.pem');
  await writeFile(caFile, pems.cert, { mode: 0o644 });

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  // Staged outages (admin route /__admin/fault) are answered here, before oidc-provider sees the request.
  let fault: (PocketIdFault & { path: string }) | undefined;
  const faultStats = { served: 0, hanging: 0 };
  /** Requests held by a `hang` fault: clearing the fault drops their connections, as a provider coming back would. */
  const hung = new Set<ServerResponse>();
  const answerFault = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (!fault || new URL(req.url ?? '/', 'https://x').pathname !== fault.path) return false;
    const f = fault;
    if (f.times !== undefined && --f.times <= 0) fault = undefined;
    faultStats.served += 1;
    if (f.hang) {
      // Read the request, then never answer; the client gives up (or the server shuts down).
      faultStats.hanging += 1;
      hung.add(res);
      req.resume();
      res.once('close', () => {
        faultStats.hanging -= 1;
        hung.delete(res);
      });
      return true;
    }
    const status = f.status ?? 503;
    req.resume();
    if (f.retryAfter !== undefined) res.setHeader('retry-after', f.retryAfter);
    if (f.html) {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center><hr><center>nginx</center></body></html>\n`);
    } else {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `staged HTTP ${status}` }));
    }
    return true;
  };
  const tls = { key: pems.private, cert: pems.cert };
  const servers = await listenLoopback(config.port ?? 0, tls, (req, res) => {
    if (!answerFault(req, res)) handler(req, res);
  });
  const port = (servers[0]!.address() as AddressInfo).port;
  const issuer = `https://localhost:${port}`;
  const internalUrl = `https://127.0.0.1:${port}`;

  // --- Signing key: one RSA-2048 key, random kid --------------------------------------------------
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(12).toString('base64url');
  const signingJwk = { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
  const publicKey = crypto.createPublicKey(privateKey);

  // --- oidc-provider ---------------------------------------------------------------------------------
  const providerModuleName = 'oidc-provider';
  const oidc: any = await import(providerModuleName);
  const Provider = oidc.default ?? oidc.Provider;
  const errors = oidc.errors;

  let idTokenTtl = lifetimes.idToken;

  const clientAllowsUser = (clientId: string, user: ResolvedPocketIdUser): boolean => {
    const client = clients.get(clientId);
    return client !== undefined && userAllowed(client, user);
  };
  const notAllowedDescription = (clientId: string): string => {
    const client = clients.get(clientId);
    if (client && !client.unrestricted && (client.allowedGroups ?? []).length === 0) {
      return "You're not allowed to access this service: no user groups are allowed for this client yet. Ask an administrator to allow a group or to make the client unrestricted.";
    }
    return "You're not allowed to access this service: you are not a member of any group allowed for this client.";
  };

  const claimsFor = (user: ResolvedPocketIdUser): Record<string, unknown> => {
    const claims: Record<string, unknown> = {
      sub: user.sub,
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      preferred_username: user.username,
      groups: [...user.groups],
    };
    if (user.picture) claims.picture = user.picture;
    if (user.email) {
      claims.email = user.email;
      claims.email_verified = user.emailVerified === true;
    }
    return claims;
  };

  const renderErrorPage = (ctx: Ctx, out: { error?: string; error_description?: string }) => {
    ctx.type = 'html';
    ctx.body = page(
      'Pocket ID – Error',
      `<h1>Something went wrong</h1>
<p class="error" data-testid="error-code">${html(out.error ?? 'server_error')}</p>
<p data-testid="error-description">${html(out.error_description ?? '')}</p>`,
      'error',
    );
  };

  const configuration = {
    adapter: EnumerableMemoryAdapter,
    jwks: { keys: [signingJwk] },
    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    routes: ROUTES,
    scopes: [...SCOPES],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    pkce: {
      required: (_ctx: Ctx, client: any) =>
        client.clientAuthMethod === 'none' || clients.get(client.clientId)?.requirePkce === true,
    },
    extraParams: {
      // Pocket ID (fosite): state is required, at least 8 characters.
      state(ctx: Ctx, value: unknown) {
        if (ctx.oidc.route !== 'authorization') return;
        if (typeof value !== 'string' || value.length < 8) {
          throw new errors.CustomOIDCProviderError(
            'invalid_state',
            "Request parameter 'state' must be at least 8 characters long to ensure sufficient entropy.",
          );
        }
      },
      nonce(ctx: Ctx, value: unknown) {
        if (ctx.oidc.route !== 'authorization' || value === undefined) return;
        if (typeof value !== 'string' || value.length < 8) {
          throw new errors.CustomOIDCProviderError(
            'insufficient_entropy',
            "Parameter 'nonce' is set but does not satisfy the minimum entropy of 8 characters.",
          );
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      revocation: { enabled: false },
      introspection: { enabled: false },
      claimsParameter: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: Ctx, form: string) {
          ctx.type = 'html';
          ctx.body = page(
            'Sign out of Pocket ID',
            `<h1>Sign out</h1><p>Signing you out of Pocket ID…</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" data-testid="logout-confirm">Sign out</button>
<script>document.querySelector('[data-testid="logout-confirm"]').click()</script>`,
            'logout',
          );
        },
        async postLogoutSuccessSource(ctx: Ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out of Pocket ID', '<h1 data-testid="logout-success">You have been signed out</h1>', 'logged-out');
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        deviceInfo: (ctx: Ctx) => ({ ua: ctx.get('user-agent') }),
        async userCodeInputSource(ctx: Ctx, form: string, _out: unknown, err: any) {
          let msg = '<p>Enter the code displayed on your device.</p>';
          if (err && (err.userCode || err.name === 'NoCodeError')) {
            msg = '<p class="error" data-testid="device-error">The code you entered is incorrect or expired. Try again.</p>';
          } else if (err && err.name === 'AbortedError') {
            msg = '<p class="error" data-testid="device-error">The sign-in request was cancelled or denied.</p>';
          } else if (err) {
            msg = '<p class="error" data-testid="device-error">There was an error processing your request.</p>';
          }
          ctx.type = 'html';
          ctx.body = page(
            'Sign in to Pocket ID',
            `<h1>Authorize device</h1>${msg}
${form.replace('<input\n', '<input data-testid="device-user-code"\n')}
<button type="submit" form="op.deviceInputForm" data-testid="device-submit">Continue</button>`,
            'device-code',
          );
        },
        async userCodeConfirmSource(ctx: Ctx, form: string, client: any, _info: unknown, userCode: string) {
          const display = clients.get(client.clientId)?.name ?? client.clientId;
          ctx.type = 'html';
          ctx.body = page(
            'Sign in to Pocket ID',
            `<h1>Authorize ${html(display)}?</h1>
<p>Make sure this code is displayed on your device:</p><p><code data-testid="device-code-confirm">${html(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm" data-testid="device-confirm">Authorize</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary" data-testid="device-abort">Cancel</button>`,
            'device-confirm',
          );
        },
        async successSource(ctx: Ctx) {
          ctx.type = 'html';
          ctx.body = page(
            'Pocket ID – Device authorized',
            '<h1 data-testid="device-success">Device authorized</h1><p>You can close this page and return to your device.</p>',
            'device-success',
          );
        },
      },
    },
    clientBasedCORS: () => false,
    interactions: { url: (_ctx: Ctx, interaction: any) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx: Ctx, sub: string) => {
      const user = userBySub(sub);
      if (!user || user.disabled) return undefined;
      const client = ctx?.oidc?.client;
      if (client && !clientAllowsUser(client.clientId, user)) {
        throw new errors.AccessDenied(notAllowedDescription(client.clientId));
      }
      return {
        accountId: user.sub,
        claims: async () => {
          const current = userBySub(sub) ?? user;
          return claimsFor(current);
        },
      };
    },
    expiresWithSession: async () => false,
    issueRefreshToken: async (_ctx: Ctx, client: any) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: () => lifetimes.accessToken,
      AuthorizationCode: () => lifetimes.authorizationCode,
      ClientCredentials: () => lifetimes.accessToken,
      DeviceCode: () => lifetimes.deviceCode,
      BackchannelAuthenticationRequest: () => 600,
      PreAuthorizedCode: () => 600,
      IdToken: () => idTokenTtl,
      RefreshToken: () => lifetimes.refreshToken,
      Interaction: () => 3600,
      Session: () => 14 * DAY,
      // The refresh token slides; the grant behind it must not expire first.
      Grant: () => 10 * 365 * DAY,
    },
    renderError: async (ctx: Ctx, out: { error?: string; error_description?: string }) => renderErrorPage(ctx, out),
    clients: config.clients.map((c) => ({
      client_id: c.clientId,
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      client_name: c.name ?? c.clientId,
      application_type: 'web',
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      token_endpoint_auth_method: c.clientSecret ? 'client_secret_basic' : 'none',
      id_token_signed_response_alg: 'RS256',
    })),
  };

  const provider = new Provider(issuer, configuration);

  // Loopback-aware callback matching (oidc-provider only relaxes ports for native clients).
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(this: any, value: string) {
    return (this.redirectUris ?? []).some((r: string) => redirectUriMatches(r, value));
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(this: any, value: string) {
    return (this.postLogoutRedirectUris ?? []).some((r: string) => redirectUriMatches(r, value));
  };

  // ID tokens like Pocket ID's: aud is an array, plus jti, at_hash, amr, auth_time.
  const originalIssue = provider.IdToken.prototype.issue;
  provider.IdToken.prototype.issue = async function issue(this: any, opts: any = {}) {
    if (opts.use !== 'idtoken') return originalIssue.call(this, opts);
    const jti = crypto.randomUUID();
    this.set('jti', jti);
    if (this.extra.amr === undefined) this.set('amr', this.available.amr ?? AMR);
    if (this.available.auth_time !== undefined) this.set('auth_time', this.available.auth_time);
    const entities = this.ctx?.oidc?.entities ?? {};
    const at = entities.AccessToken;
    if (at?.jti) this.set('at_hash', at.jti); // hashed by issue() (opaque token value === jti)
    const grantId: string | undefined = at?.grantId ?? entities.Grant?.jti;
    if (grantId) idTokenGrants.set(jti, grantId);

    const realClient = this.client;
    this.client = new Proxy(realClient, {
      get(target, prop) {
        if (prop === 'clientId') return [target.clientId];
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    try {
      return await originalIssue.call(this, opts);
    } finally {
      this.client = realClient;
    }
  };

  provider.on('server_error', (ctx: Ctx, err: unknown) => {
    toStderr(`[pocket-id] server_error on ${ctx?.method} ${ctx?.path}: ${safeErr(err)}`);
  });
  provider.on('error', (err: unknown, ctx: Ctx) => {
    toStderr(`[pocket-id] error on ${ctx?.method} ${ctx?.path}: ${safeErr(err)}`);
  });

  const paths = {
    authorization: provider.pathFor('authorization') as string,
    token: provider.pathFor('token') as string,
    userinfo: provider.pathFor('userinfo') as string,
    jwks: provider.pathFor('jwks') as string,
    endSession: provider.pathFor('end_session') as string,
    deviceAuthorization: provider.pathFor('device_authorization') as string,
    codeVerification: provider.pathFor('code_verification') as string,
  };

  // --- Middleware, outermost first -------------------------------------------------------------

  // Never cache anything; never leak which server this is.
  provider.use(async (ctx: Ctx, next: Next) => {
    await next();
    ctx.set('cache-control', 'no-store');
  });

  // Stats: token-endpoint requests by grant type (counted whatever the outcome).
  provider.use(async (ctx: Ctx, next: Next) => {
    if (ctx.method !== 'POST' || ctx.path !== paths.token) return next();
    try {
      await next();
    } finally {
      const oidcCtx = Object.getOwnPropertyDescriptor(ctx, 'oidc') ? ctx.oidc : undefined;
      const grantType = oidcCtx?.body?.grant_type ?? oidcCtx?.params?.grant_type;
      if (grantType === 'authorization_code') stats.codeGrants += 1;
      else if (grantType === DEVICE_GRANT) stats.deviceGrants += 1;
      else if (grantType === 'refresh_token') {
        stats.refreshGrants += 1;
        if (ctx.status >= 400) stats.refreshFailures += 1;
      }
    }
  });

  // Discovery as Pocket ID publishes it (APP_URL for browser endpoints, INTERNAL_APP_URL for the rest).
  provider.use(async (ctx: Ctx, next: Next) => {
    await next();
    if (
      ctx.method !== 'GET' ||
      (ctx.path !== '/.well-known/openid-configuration' && ctx.path !== '/.well-known/oauth-authorization-server') ||
      ctx.status !== 200 ||
      typeof ctx.body !== 'object' ||
      ctx.body === null
    ) {
      return;
    }
    const doc: Record<string, unknown> = { ...ctx.body };
    delete doc.revocation_endpoint;
    delete doc.introspection_endpoint;
    delete doc.pushed_authorization_request_endpoint;
    delete doc.token_endpoint_auth_signing_alg_values_supported;
    ctx.body = {
      ...doc,
      issuer,
      authorization_endpoint: `${issuer}${paths.authorization}`,
      end_session_endpoint: `${issuer}${paths.endSession}`,
      device_authorization_endpoint: `${issuer}${paths.deviceAuthorization}`,
      token_endpoint: `${internalUrl}${paths.token}`,
      userinfo_endpoint: `${internalUrl}${paths.userinfo}`,
      jwks_uri: `${internalUrl}${paths.jwks}`,
      scopes_supported: [...SCOPES],
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      code_challenge_methods_supported: ['plain', 'S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: [
        'sub', 'given_name', 'family_name', 'name', 'email', 'email_verified', 'preferred_username', 'picture', 'groups', 'auth_time', 'amr',
      ],
    };
  });

  // Device authorization response: advertise the polling interval; verification URIs on APP_URL.
  provider.use(async (ctx: Ctx, next: Next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== paths.deviceAuthorization || ctx.status !== 200) return;
    if (typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = { ...ctx.body, interval: deviceInterval };
    for (const key of ['verification_uri', 'verification_uri_complete']) {
      const value = URL.parse(String(body[key] ?? ''));
      if (value) body[key] = `${issuer}${value.pathname}${value.search}`;
    }
    ctx.body = body;
  });

  // Authorization request: PKCE "plain" (also the RFC default when no method is sent). oidc-provider
  // 9 only implements S256, so a plain challenge c is stored as S256(c): a verifier v with v === c
  // then passes the S256 check, exactly the plain-method semantics.
  provider.use(async (ctx: Ctx, next: Next) => {
    if (ctx.method === 'GET' && ctx.path === paths.authorization) {
      const q = new URLSearchParams(ctx.querystring);
      const challenges = q.getAll('code_challenge');
      const methods = q.getAll('code_challenge_method');
      if (challenges.length === 1 && methods.length <= 1 && (methods[0] ?? 'plain') === 'plain') {
        const challenge = challenges[0]!;
        q.set('code_challenge', PKCE_FORMAT.test(challenge) ? crypto.hash('sha256', challenge, 'base64url') : challenge);
        q.set('code_challenge_method', 'S256');
        ctx.querystring = q.toString();
      }
    }
    return next();
  });

  // End session: accepts id_token_hint (expired is fine, aud may be an array) and revokes the
  // refresh session (grant) that ID token was issued under. Like Pocket ID, from the query of a GET or
  // the form body of a POST (a POST then goes on as a GET without the hint).
  provider.use(async (ctx: Ctx, next: Next) => {
    if (ctx.path !== paths.endSession) return next();
    const target = ctx.url;
    const method = ctx.method;
    let q: URLSearchParams;
    if (method === 'GET') q = new URLSearchParams(ctx.querystring);
    else if (method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      q = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      ctx.method = 'GET';
      delete ctx.request.headers['content-type'];
      delete ctx.request.headers['content-length'];
    } else return next();
    const hint = q.get('id_token_hint');
    if (!hint) {
      ctx.querystring = q.toString();
      return next();
    }
    let payload: Record<string, any>;
    try {
      const verified = await compactVerify(hint, publicKey, { algorithms: ['RS256'] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload));
      if (payload.iss !== issuer) throw new Error('issuer mismatch');
    } catch {
      ctx.status = 400;
      const out = { error: 'invalid_request', error_description: 'id_token_hint is not a valid ID token issued by this server' };
      if (ctx.accepts('json', 'html') === 'html') renderErrorPage(ctx, out);
      else ctx.body = out;
      return;
    }
    const audiences: string[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const clientId = q.get('client_id') ?? audiences[0];
    if (!clientId || !audiences.includes(clientId) || !clients.has(clientId)) {
      ctx.status = 400;
      const out = { error: 'invalid_request', error_description: 'client_id does not match the id_token_hint' };
      if (ctx.accepts('json', 'html') === 'html') renderErrorPage(ctx, out);
      else ctx.body = out;
      return;
    }
    const grantId = typeof payload.jti === 'string' ? idTokenGrants.get(payload.jti) : undefined;
    let revoked = 0;
    if (grantId) {
      revokeGrant(grantId);
      revoked++;
    } else {
      // Unknown jti (e.g. issued before a restart): revoke that user's sessions with this client.
      for (const [id, entry] of storeFor('Grant')) {
        if (entry.payload?.accountId === payload.sub && entry.payload?.clientId === clientId) {
          revokeGrant(id);
          revoked++;
        }
      }
    }
    stats.endSessions.push({ method, target, revoked });
    q.delete('id_token_hint');
    q.set('client_id', clientId);
    ctx.querystring = q.toString();
    return next();
  });

  // Our own routes: the sign-in page (stands in for the passkey prompt) and the admin API.
  provider.use(async (ctx: Ctx, next: Next) => {
    if (ctx.path.startsWith('/__admin/')) return adminRoute(ctx);
    if (ctx.path.startsWith('/interaction/')) return interactionRoute(ctx);
    if (ctx.path === '/' && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page('Pocket ID', '<h1>Pocket ID (test provider)</h1><p>Nothing to see here.</p>');
      return;
    }
    return next();
  });

  async function adminRoute(ctx: Ctx): Promise<void> {
    ctx.type = 'json';
    const parts = ctx.path.split('/').filter(Boolean).map(decodeURIComponent); // ['__admin', ...]
    const readJson = async (): Promise<any> => {
      const text = await readBody(ctx.req);
      if (!text) return {};
      return JSON.parse(text);
    };
    try {
      if (ctx.method === 'GET' && parts[1] === 'stats' && parts.length === 2) {
        ctx.body = { ...stats };
        return;
      }
      if (ctx.method === 'GET' && parts[1] === 'users' && parts.length === 2) {
        ctx.body = [...users.values()];
        return;
      }
      if (ctx.method === 'POST' && parts[1] === 'users' && parts.length === 3) {
        const user = users.get(parts[2]!);
        if (!user) {
          ctx.status = 404;
          ctx.body = { error: 'not_found', error_description: `no user ${parts[2]}` };
          return;
        }
        const patch = await readJson();
        const next = { ...user };
        if (Array.isArray(patch.groups)) next.groups = [...new Set((patch.groups as unknown[]).map((g) => normalizeGroupName(String(g))))];
        if (typeof patch.emailVerified === 'boolean') next.emailVerified = patch.emailVerified;
        if (typeof patch.disabled === 'boolean') next.disabled = patch.disabled;
        for (const key of ['email', 'name', 'givenName', 'familyName', 'picture'] as const) {
          if (typeof patch[key] === 'string') next[key] = patch[key];
        }
        users.set(user.username, next);
        ctx.body = next;
        return;
      }
      if (ctx.method === 'POST' && parts[1] === 'revoke' && parts.length === 3) {
        const user = users.get(parts[2]!);
        if (!user) {
          ctx.status = 404;
          ctx.body = { error: 'not_found', error_description: `no user ${parts[2]}` };
          return;
        }
        revokeAccount(user.sub);
        for (const [jti, grantId] of idTokenGrants) if (!storeFor('Grant').has(grantId)) idTokenGrants.delete(jti);
        ctx.body = { revoked: user.username };
        return;
      }
      if (parts[1] === 'fault' && parts.length === 2) {
        if (ctx.method === 'GET') {
          ctx.body = { ...faultStats };
          return;
        }
        const body = (await readJson()) as Partial<PocketIdFault>;
        const where = body.endpoint === 'token' ? paths.token : body.endpoint === 'discovery' ? '/.well-known/openid-configuration' : undefined;
        if (!body.endpoint) {
          fault = undefined;
          for (const res of hung) res.destroy();
        }
        else if (!where) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: 'endpoint must be "token" or "discovery"' };
          return;
        } else fault = { ...body, endpoint: body.endpoint, path: where };
        ctx.body = { fault: fault ?? null };
        return;
      }
      if (ctx.method === 'POST' && parts[1] === 'ttl' && parts.length === 2) {
        const body = await readJson();
        const seconds = Number(body.idToken);
        if (!Number.isSafeInteger(seconds) || seconds <= 0) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: 'idToken must be a positive integer (seconds)' };
          return;
        }
        idTokenTtl = seconds;
        ctx.body = { idToken: idTokenTtl };
        return;
      }
      ctx.status = 404;
      ctx.body = { error: 'not_found' };
    } catch (err) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: safeErr(err) };
    }
  }

  async function interactionRoute(ctx: Ctx): Promise<void> {
    const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(ctx.path);
    if (!match) {
      ctx.status = 404;
      return;
    }
    const action = match[2];
    let details: any;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      ctx.status = 400;
      renderErrorPage(ctx, {
        error: 'invalid_request',
        error_description: 'This sign-in request has expired or was already completed. Start again from your application.',
      });
      return;
    }
    if (details.uid !== match[1]) {
      ctx.status = 400;
      renderErrorPage(ctx, { error: 'invalid_request', error_description: 'Sign-in request mismatch. Start again from your application.' });
      return;
    }
    const clientId: string = details.params.client_id;
    const clientConfig = clients.get(clientId);

    if (!action) {
      if (ctx.method !== 'GET') {
        ctx.status = 405;
        return;
      }
      const display = clientConfig?.name ?? clientId;
      const buttons = [...users.values()]
        .map((u) => {
          const label = `Sign in as ${u.givenName || u.name || u.username}`;
          return `<form method="post" action="/interaction/${html(details.uid)}/login">
<input type="hidden" name="username" value="${html(u.username)}">
<button type="submit" data-testid="login-${html(u.username)}"${u.disabled ? ' disabled' : ''}>${html(label)}${u.disabled ? ' (disabled)' : ''}</button>
</form>`;
        })
        .join('\n');
      ctx.type = 'html';
      ctx.body = page(
        'Sign in to Pocket ID',
        `<h1>Sign in to Pocket ID</h1>
<p>Authenticate with your passkey to continue to <strong data-testid="client-name">${html(display)}</strong>.</p>
${buttons}
<form method="post" action="/interaction/${html(details.uid)}/abort">
<button type="submit" class="secondary" data-testid="login-cancel">Cancel</button>
</form>`,
        'login',
      );
      return;
    }

    if (ctx.method !== 'POST') {
      ctx.status = 405;
      return;
    }

    const finish = async (result: Record<string, unknown>) => {
      const returnTo: string = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };

    if (action === 'abort') {
      await finish({ error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
      return;
    }

    const form = new URLSearchParams(await readBody(ctx.req));
    const user = users.get(form.get('username') ?? '');
    if (!user || user.disabled) {
      await finish({ error: 'access_denied', error_description: 'This user does not exist or is disabled.' });
      return;
    }
    if (!clientAllowsUser(clientId, user)) {
      await finish({ error: 'access_denied', error_description: notAllowedDescription(clientId) });
      return;
    }

    // Consent is granted automatically (Pocket ID only asks once; tests don't need the screen).
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant || grant.accountId !== user.sub || grant.clientId !== clientId) {
      grant = new provider.Grant({ accountId: user.sub, clientId });
    }
    const requested = String(details.params.scope ?? '')
      .split(' ')
      .filter((s) => KNOWN_SCOPES.has(s)); // unknown scopes are dropped silently
    if (requested.length) grant.addOIDCScope(requested.join(' '));
    const missingClaims: string[] | undefined = details.prompt?.details?.missingOIDCClaims;
    if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
    const grantId: string = await grant.save();

    await finish({
      login: { accountId: user.sub, amr: AMR, remember: false },
      consent: { grantId },
    });
  }

  handler = provider.callback();

  // --- Ready -------------------------------------------------------------------------------------
  const ready: PocketIdReadyLine = { ready: true, issuer, internalUrl, port, caFile };
  process.stdout.write(`${JSON.stringify(ready)}\n`);

  let shuttingDown = false;
  const shutdown = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    // Exit even if something keeps the loop alive.
    setImmediate(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (config.exitWithStdin) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
}

/** Listens on 127.0.0.1 and, if the host has it, ::1 on the same port. */
async function listenLoopback(
  port: number,
  tls: https.ServerOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<https.Server[]> {
  const listen = (server: https.Server, p: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ port: p, host, ipv6Only: host === '::1' }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  const close = (server: https.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

  for (let attempt = 0; attempt < 10; attempt += 1) {
    const v4 = https.createServer(tls, handler);
    await listen(v4, port, '127.0.0.1');
    const actual = (v4.address() as AddressInfo).port;
    const v6 = https.createServer(tls, handler);
    try {
      await listen(v6, actual, '::1');
      return [v4, v6];
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && port === 0) {
        await close(v4); // someone else has this port on ::1: pick another one
        continue;
      }
      toStderr(`[pocket-id] not listening on [::1]:${actual} (${code ?? safeErr(err)}); 127.0.0.1 only`);
      return [v4];
    }
  }
  throw new Error('could not find a port free on both 127.0.0.1 and ::1');
}

process.on('uncaughtException', (err) => {
  toStderr(`[pocket-id] fatal: ${safeErr(err)}`);
  process.exit(1);
});

main().catch((err: unknown) => {
  toStderr(`[pocket-id] failed to start: ${safeErr(err)}`);
  process.exit(1);
});
