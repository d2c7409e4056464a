/**
 * End-to-end tests of the Pocket ID look-alike provider, with openid-client v6 as the relying
 * party and real Chromium (playwright-core) for the browser-driven flows.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import * as client from 'openid-client';
import { chromium, type Browser } from 'playwright-core';

import {
  DEFAULT_USERS,
  redirectUriMatches,
  startPocketId,
  type PocketIdClient,
  type PocketIdHandle,
  type PocketIdReadyLine,
  type PocketIdUser,
} from './pocket-id.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const user = (username: string, groups: string[], extra: Partial<PocketIdUser> = {}): PocketIdUser => ({
  username,
  sub: `00000000-0000-4000-8000-${Buffer.from(username).toString('hex').padEnd(12, '0').slice(0, 12)}`,
  name: `${username[0]!.toUpperCase()}${username.slice(1)} Tester`,
  givenName: `${username[0]!.toUpperCase()}${username.slice(1)}`,
  familyName: 'Tester',
  email: `${username}@example.com`,
  groups,
  ...extra,
});

const USERS: PocketIdUser[] = [
  ...DEFAULT_USERS,
  user('carol', ['Kubernetes Admins'], { email: undefined }),
  user('dave', ['kubernetes']),
  user('erin', ['kubernetes']),
  user('frank', ['kubernetes']),
  user('gina', ['kubernetes']),
  user('hank', ['kubernetes']),
  user('ivan', ['kubernetes'], { disabled: true }),
];

const CONFIDENTIAL_SECRET = 'conf-secret-5f2a9c1e-do-not-log';
const CLIENTS: PocketIdClient[] = [
  {
    clientId: 'pocketkube',
    name: 'PocketKube',
    redirectUris: ['http://127.0.0.1/callback', 'http://localhost:8000', 'http://localhost/cb'],
    postLogoutRedirectUris: ['http://127.0.0.1/logged-out'],
    allowedGroups: ['kubernetes', 'developers', 'Kubernetes Admins'],
  },
  { clientId: 'admins-only', redirectUris: ['http://127.0.0.1/callback'], allowedGroups: ['kubernetes'] },
  { clientId: 'brand-new', redirectUris: ['http://127.0.0.1/callback'] },
  {
    clientId: 'confidential',
    clientSecret: CONFIDENTIAL_SECRET,
    redirectUris: ['http://127.0.0.1/callback'],
    unrestricted: true,
  },
];

// --- HTTP plumbing trusting the provider's CA ------------------------------------------------------

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

function rawRequest(
  url: URL | string,
  ca: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca,
        agent: false,
        headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function caFetch(ca: string): client.CustomFetch {
  return async (url, options) => {
    let body: string | Uint8Array | undefined;
    if (typeof options.body === 'string') body = options.body;
    else if (options.body instanceof URLSearchParams) body = options.body.toString();
    else if (options.body instanceof Uint8Array) body = options.body;
    else if (options.body instanceof ArrayBuffer) body = new Uint8Array(options.body);
    else if (options.body != null) throw new Error('unsupported body type in test fetch');
    const res = await rawRequest(url, ca, { method: options.method, headers: options.headers, body });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, value);
    }
    const nullBody = res.status === 204 || res.status === 304;
    return new Response(nullBody ? null : new Uint8Array(res.body), { status: res.status, headers });
  };
}

/** Minimal cookie jar (name+path, no domains: everything goes to one host). */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let cookiePath = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k!.toLowerCase() === 'path') cookiePath = v;
        if (k!.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
        if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name}|${cookiePath}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cookiePath });
    }
  }

  header(url: URL): string {
    return [...this.cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

function decodeJwt(jwt: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')),
  };
}

function errorCode(err: unknown): string | undefined {
  return (err as { error?: string }).error;
}

// --- Test fixture ---------------------------------------------------------------------------------

let pid: PocketIdHandle;
let stateDir: string;
const configs = new Map<string, client.Configuration>();

async function configFor(clientId: string): Promise<client.Configuration> {
  let config = configs.get(clientId);
  if (!config) {
    const c = CLIENTS.find((x) => x.clientId === clientId)!;
    config = await client.discovery(
      new URL(pid.issuer),
      clientId,
      c.clientSecret ? { client_secret: c.clientSecret } : undefined,
      c.clientSecret ? client.ClientSecretBasic(c.clientSecret) : client.None(),
      { [client.customFetch]: caFetch(pid.caPem) },
    );
    configs.set(clientId, config);
  }
  return config;
}

interface AuthRequest {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
}

async function authRequest(
  clientId: string,
  scope: string,
  extra: Record<string, string> = {},
  redirectUri = 'http://127.0.0.1:49152/callback',
): Promise<AuthRequest> {
  const config = await configFor(clientId);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url, state, nonce, verifier, redirectUri };
}

/**
 * Drives the authorization request with plain HTTP requests and a cookie jar, clicking (POSTing)
 * "Sign in as <username>" on the sign-in page. Resolves with the URL the provider redirects to
 * outside itself (the client's callback).
 */
async function httpLogin(url: URL, username: string, jar = new CookieJar()): Promise<URL> {
  const issuerOrigin = new URL(pid.issuer).origin;
  let current = url;
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 12; step += 1) {
    const headers: Record<string, string> = { cookie: jar.header(current), accept: 'text/html' };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await rawRequest(current, pid.caPem, { method, headers, body });
    jar.store(res.headers['set-cookie']);
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      const next = new URL(res.headers.location, current);
      if (next.origin !== issuerOrigin) return next;
      current = next;
      method = 'GET';
      body = undefined;
      continue;
    }
    if (res.status === 200 && res.text.includes('<title>Sign in to Pocket ID</title>')) {
      const action = /<form method="post" action="([^"]+\/login)">/.exec(res.text)?.[1];
      assert.ok(action, 'login form present');
      assert.ok(res.text.includes(`data-testid="login-${username}"`), `button for ${username}`);
      current = new URL(action, current);
      method = 'POST';
      body = new URLSearchParams({ username }).toString();
      continue;
    }
    throw new Error(`unexpected response ${res.status} at ${current.pathname}: ${res.text.slice(0, 300)}`);
  }
  throw new Error('too many redirects');
}

async function signIn(clientId: string, username: string, scope = 'openid profile email groups') {
  const config = await configFor(clientId);
  const req = await authRequest(clientId, scope);
  const callback = await httpLogin(req.url, username);
  assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description') ?? '');
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: req.verifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    idTokenExpected: true,
  });
  return { config, tokens, claims: tokens.claims()!, idToken: decodeJwt(tokens.id_token!) };
}

before(async () => {
  stateDir = tempDir('pocket-id-test-');
  pid = await startPocketId({ stateDir, clients: CLIENTS, users: USERS, deviceInterval: 1 });
});

after(async () => {
  await pid?.close();
  await removeTempDir(stateDir);
});

// --- Tests ------------------------------------------------------------------------------------------

describe('discovery and keys', () => {
  test('handle and CA file', async () => {
    assert.match(pid.issuer, /^https:\/\/localhost:\d+$/);
    assert.equal(pid.internalUrl, `https://127.0.0.1:${pid.port}`);
    assert.ok(existsSync(pid.caFile));
    assert.equal(await readFile(pid.caFile, 'utf8'), pid.caPem);
    assert.match(pid.caPem, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(!pid.caPem.includes('PRIVATE KEY'));
    // Group names normalised like Pocket ID's.
    assert.deepEqual(pid.users.find((u) => u.username === 'carol')!.groups, ['kubernetes_admins']);
    assert.equal(pid.users.find((u) => u.username === 'bob')!.emailVerified, false);
  });

  test('discovery document: contents and APP_URL / INTERNAL_APP_URL split', async () => {
    const res = await rawRequest(new URL('/.well-known/openid-configuration', pid.issuer), pid.caPem);
    assert.equal(res.status, 200);
    const doc = JSON.parse(res.text);
    assert.equal(doc.issuer, pid.issuer);
    assert.ok(doc.authorization_endpoint.startsWith(`${pid.issuer}/`));
    assert.ok(doc.end_session_endpoint.startsWith(`${pid.issuer}/`));
    assert.ok(doc.token_endpoint.startsWith(`${pid.internalUrl}/`));
    assert.ok(doc.userinfo_endpoint.startsWith(`${pid.internalUrl}/`));
    assert.ok(doc.jwks_uri.startsWith(`${pid.internalUrl}/`));
    assert.deepEqual(doc.scopes_supported, ['openid', 'profile', 'email', 'groups', 'offline_access']);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['plain', 'S256']);
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
    assert.equal(typeof doc.device_authorization_endpoint, 'string');
    assert.equal(doc.revocation_endpoint, undefined);
    assert.ok(!JSON.stringify(doc).includes('__admin'));
    // Served the same on the internal URL.
    const internal = JSON.parse((await rawRequest(new URL('/.well-known/openid-configuration', pid.internalUrl), pid.caPem)).text);
    assert.equal(internal.issuer, pid.issuer);
    assert.equal(internal.token_endpoint, doc.token_endpoint);
  });

  test('JWKS: exactly one RSA-2048 signing key with a kid', async () => {
    const doc = JSON.parse((await rawRequest(new URL('/.well-known/openid-configuration', pid.issuer), pid.caPem)).text);
    const jwks = JSON.parse((await rawRequest(doc.jwks_uri, pid.caPem)).text);
    assert.equal(jwks.keys.length, 1);
    const [key] = jwks.keys;
    assert.equal(key.kty, 'RSA');
    assert.equal(key.alg, 'RS256');
    assert.equal(Buffer.from(key.n, 'base64url').length, 256);
    assert.ok(typeof key.kid === 'string' && key.kid.length >= 8);
    assert.equal(key.d, undefined);
  });
});

describe('browser (Chromium)', () => {
  let browser: Browser;
  let callbackServer: http.Server;
  let callbackPort: number;

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    callbackServer = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!DOCTYPE html><title>Callback</title><p>Signed in.</p>');
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    callbackPort = (callbackServer.address() as AddressInfo).port;
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (callbackServer ? callbackServer.close(() => resolve()) : resolve()));
  });

  test('authorization code + PKCE: sign in as Alice in Chromium, exchange with openid-client', async () => {
    const config = await configFor('pocketkube');
    const req = await authRequest('pocketkube', 'openid profile email groups', {}, `http://127.0.0.1:${callbackPort}/callback`);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(req.url.href);
      assert.equal(await page.title(), 'Sign in to Pocket ID');
      assert.equal(await page.locator('[data-testid="login-alice"]').innerText(), 'Sign in as Alice');
      await page.click('[data-testid="login-alice"]');
      await page.waitForURL((u) => u.pathname === '/callback', { timeout: 10_000 });
      const callback = new URL(page.url());
      assert.equal(callback.port, String(callbackPort));
      assert.equal(callback.searchParams.get('iss'), pid.issuer);
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      assert.equal(claims.sub, pid.users.find((u) => u.username === 'alice')!.sub);
      assert.deepEqual(claims.groups, ['kubernetes', 'developers']);
      assert.equal(claims.email_verified, true);
      assert.ok(tokens.refresh_token);

      // RP-initiated logout in the same browser (which has a Pocket ID session): revokes the refresh session.
      const endSession = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: `http://127.0.0.1:${callbackPort}/logged-out`,
        state: 'chromium-logout',
      });
      await page.goto(endSession.href);
      await page.waitForURL((u) => u.pathname === '/logged-out', { timeout: 10_000 });
      assert.equal(new URL(page.url()).searchParams.get('state'), 'chromium-logout');
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
      // The browser session is gone too: the next sign-in shows the sign-in page again.
      await page.goto((await authRequest('pocketkube', 'openid', {}, `http://127.0.0.1:${callbackPort}/callback`)).url.href);
      assert.equal(await page.title(), 'Sign in to Pocket ID');
    } finally {
      await context.close();
    }
  });

  test('client without allowed groups: the browser lands on the client with access_denied', async () => {
    const req = await authRequest('brand-new', 'openid', {}, `http://127.0.0.1:${callbackPort}/callback`);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(req.url.href);
      await page.click('[data-testid="login-alice"]');
      await page.waitForURL((u) => u.pathname === '/callback', { timeout: 10_000 });
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.match(callback.searchParams.get('error_description') ?? '', /not allowed/);
      assert.equal(callback.searchParams.get('state'), req.state);
    } finally {
      await context.close();
    }
  });

  test('device authorization grant: verification page in Chromium', async () => {
    const config = await configFor('pocketkube');
    const before = await pid.stats();
    const da = await client.initiateDeviceAuthorization(config, { scope: 'openid groups' });
    assert.equal(da.interval, 1);
    assert.ok(da.verification_uri.startsWith(`${pid.issuer}/`));
    assert.ok(da.expires_in > 800 && da.expires_in <= 900);

    await assert.rejects(client.genericGrantRequest(config, DEVICE_GRANT, { device_code: da.device_code }), (err) => {
      assert.equal(errorCode(err), 'authorization_pending');
      return true;
    });

    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(da.verification_uri);
      await page.fill('input[name="user_code"]', da.user_code);
      await page.click('[data-testid="device-submit"]');
      await page.click('[data-testid="device-confirm"]');
      assert.equal(await page.title(), 'Sign in to Pocket ID');
      await page.click('[data-testid="login-alice"]');
      await page.waitForSelector('[data-testid="device-success"]', { timeout: 10_000 });
    } finally {
      await context.close();
    }

    const tokens = await client.genericGrantRequest(config, DEVICE_GRANT, { device_code: da.device_code });
    const { payload } = decodeJwt(tokens.id_token!);
    assert.equal(payload.sub, pid.users.find((u) => u.username === 'alice')!.sub);
    assert.deepEqual(payload.groups, ['kubernetes', 'developers']);
    assert.ok(tokens.refresh_token);
    const afterStats = await pid.stats();
    assert.equal(afterStats.deviceGrants - before.deviceGrants, 2);
  });
});

describe('authorization request rules', () => {
  test('short or missing state → error=invalid_state redirected to the client', async () => {
    for (const state of ['short', undefined]) {
      const req = await authRequest('pocketkube', 'openid');
      if (state === undefined) req.url.searchParams.delete('state');
      else req.url.searchParams.set('state', state);
      const res = await rawRequest(req.url, pid.caPem);
      assert.equal(res.status, 303);
      const location = new URL(res.headers.location!);
      assert.equal(location.origin + location.pathname, 'http://127.0.0.1:49152/callback');
      assert.equal(location.searchParams.get('error'), 'invalid_state');
    }
  });

  test('short nonce is rejected', async () => {
    const req = await authRequest('pocketkube', 'openid', { nonce: 'abc' });
    const res = await rawRequest(req.url, pid.caPem);
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.location!).searchParams.get('error'), 'insufficient_entropy');
  });

  test('PKCE is required for public clients', async () => {
    const req = await authRequest('pocketkube', 'openid');
    req.url.searchParams.delete('code_challenge');
    req.url.searchParams.delete('code_challenge_method');
    const res = await rawRequest(req.url, pid.caPem);
    const location = new URL(res.headers.location!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description')!, /PKCE/);
  });

  test('PKCE plain is accepted', async () => {
    const config = await configFor('pocketkube');
    const req = await authRequest('pocketkube', 'openid');
    req.url.searchParams.set('code_challenge', req.verifier);
    req.url.searchParams.set('code_challenge_method', 'plain');
    const callback = await httpLogin(req.url, 'alice');
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    assert.ok(tokens.id_token);
  });

  test('redirect URI matching: exact, loopback ports as Pocket ID does', async () => {
    const check = async (redirectUri: string): Promise<'ok' | 'rejected'> => {
      const req = await authRequest('pocketkube', 'openid', {}, redirectUri);
      const res = await rawRequest(req.url, pid.caPem, { headers: { accept: 'text/html' } });
      if (res.status === 303 && new URL(res.headers.location!, pid.issuer).pathname.startsWith('/interaction/')) return 'ok';
      assert.equal(res.status, 400, `${redirectUri}: ${res.status}`);
      assert.match(res.text, /redirect_uri/);
      return 'rejected';
    };
    assert.equal(await check('http://127.0.0.1:61234/callback'), 'ok'); // 127.0.0.1: any port
    assert.equal(await check('http://127.0.0.1/callback'), 'ok');
    assert.equal(await check('http://127.0.0.1:61234/other'), 'rejected');
    assert.equal(await check('http://localhost:8000'), 'ok'); // registered with port: exactly that
    assert.equal(await check('http://localhost:8001'), 'rejected');
    assert.equal(await check('http://localhost:8000/callback'), 'rejected');
    assert.equal(await check('http://localhost:5173/cb'), 'ok'); // registered without port: any port
    assert.equal(await check('http://[::1]:5173/callback'), 'rejected'); // not registered
    assert.equal(await check('https://127.0.0.1/callback'), 'rejected');
  });

  test('redirectUriMatches unit rules', () => {
    assert.ok(redirectUriMatches('http://[::1]/cb', 'http://[::1]:4000/cb'));
    assert.ok(redirectUriMatches('http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb'));
    assert.ok(!redirectUriMatches('http://localhost:8000', 'http://localhost:8001'));
    assert.ok(redirectUriMatches('http://localhost/cb', 'http://localhost:8001/cb'));
    assert.ok(!redirectUriMatches('https://app.example.com/cb', 'https://app.example.com:444/cb'));
    assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/cb?x=1'));
  });

  test('user outside the allowed groups → access_denied with a readable description', async () => {
    const req = await authRequest('admins-only', 'openid');
    const callback = await httpLogin(req.url, 'bob');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.match(callback.searchParams.get('error_description')!, /not allowed/);
    assert.doesNotMatch(callback.searchParams.get('error_description')!, /at .*\.js/);
  });

  test('client with neither allowed groups nor unrestricted allows nobody', async () => {
    for (const username of ['alice', 'carol']) {
      const req = await authRequest('brand-new', 'openid');
      const callback = await httpLogin(req.url, username);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.match(callback.searchParams.get('error_description')!, /no user groups are allowed/);
    }
  });
});

describe('claims', () => {
  test('full scope: ID token claims like Pocket ID, aud is an array', async () => {
    const { claims, idToken, tokens } = await signIn('pocketkube', 'alice');
    const alice = pid.users.find((u) => u.username === 'alice')!;
    assert.equal(idToken.header.alg, 'RS256');
    const jwks = JSON.parse((await rawRequest(new URL('/.well-known/jwks.json', pid.internalUrl), pid.caPem)).text);
    assert.equal(idToken.header.kid, jwks.keys[0].kid);
    assert.ok(Array.isArray(idToken.payload.aud));
    assert.deepEqual(idToken.payload.aud, ['pocketkube']);
    assert.equal(claims.iss, pid.issuer);
    assert.equal(claims.sub, alice.sub);
    for (const name of ['iat', 'exp', 'auth_time', 'amr', 'at_hash', 'jti', 'nonce']) {
      assert.ok(idToken.payload[name] !== undefined, `${name} present`);
    }
    assert.deepEqual(claims.amr, ['phr']);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.email_verified, true);
    assert.deepEqual(claims.groups, ['kubernetes', 'developers']);
    assert.equal(claims.name, alice.name);
    assert.equal(claims.given_name, 'Alice');
    assert.equal(claims.family_name, alice.familyName);
    assert.equal(claims.preferred_username, 'alice');
    assert.ok(tokens.refresh_token, 'refresh token without offline_access');
  });

  test('openid only: no email, groups or profile claims', async () => {
    const { claims } = await signIn('pocketkube', 'alice', 'openid');
    for (const name of ['email', 'email_verified', 'groups', 'name', 'given_name', 'preferred_username']) {
      assert.equal(claims[name], undefined, `${name} absent`);
    }
  });

  test('email scope: email_verified is a per-user boolean; no email → no email claims', async () => {
    const bob = await signIn('pocketkube', 'bob', 'openid email');
    assert.equal(bob.claims.email, 'bob@example.com');
    assert.equal(bob.claims.email_verified, false);
    assert.equal(bob.claims.groups, undefined);
    const carol = await signIn('pocketkube', 'carol', 'openid email groups');
    assert.equal(carol.claims.email, undefined);
    assert.equal(carol.claims.email_verified, undefined);
    assert.deepEqual(carol.claims.groups, ['kubernetes_admins']);
  });

  test('unknown scopes are dropped silently', async () => {
    const { claims, tokens } = await signIn('pocketkube', 'bob', 'openid groups kubernetes:admin foo');
    assert.deepEqual(claims.groups, ['developers']);
    assert.ok(!(tokens.scope ?? '').includes('foo'));
  });

  test('userinfo returns the same claims', async () => {
    const { config, tokens, claims } = await signIn('pocketkube', 'alice');
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    for (const name of ['sub', 'email', 'email_verified', 'groups', 'name', 'given_name', 'family_name', 'preferred_username']) {
      assert.deepEqual(info[name], claims[name], name);
    }
  });

  test('confidential client: client_secret_basic and client_secret_post', async () => {
    const first = await signIn('confidential', 'bob', 'openid groups');
    assert.deepEqual(first.idToken.payload.aud, ['confidential']);
    const post = await client.discovery(new URL(pid.issuer), 'confidential', { client_secret: CONFIDENTIAL_SECRET }, client.ClientSecretPost(CONFIDENTIAL_SECRET), {
      [client.customFetch]: caFetch(pid.caPem),
    });
    const refreshed = await client.refreshTokenGrant(post, first.tokens.refresh_token!);
    assert.ok(refreshed.id_token);
    const wrong = await client.discovery(new URL(pid.issuer), 'confidential', { client_secret: 'wrong' }, client.ClientSecretPost('wrong'), {
      [client.customFetch]: caFetch(pid.caPem),
    });
    await assert.rejects(client.refreshTokenGrant(wrong, refreshed.refresh_token!), (err) => errorCode(err) === 'invalid_client');
  });
});

describe('refresh tokens', () => {
  test('rotate on every use and return fresh ID tokens', async () => {
    const { config, tokens } = await signIn('pocketkube', 'alice');
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(r1.refresh_token);
    assert.notEqual(r1.refresh_token, tokens.refresh_token);
    const claims = r1.claims()!;
    assert.deepEqual(claims.aud, ['pocketkube']);
    assert.deepEqual(claims.groups, ['kubernetes', 'developers']);
    assert.notEqual(claims.jti, decodeJwt(tokens.id_token!).payload.jti);
    const r2 = await client.refreshTokenGrant(config, r1.refresh_token!);
    assert.notEqual(r2.refresh_token, r1.refresh_token);
  });

  test('reusing a rotated refresh token revokes the whole family', async () => {
    const { config, tokens } = await signIn('pocketkube', 'alice');
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(config, r1.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
  });

  test('refresh reads groups afresh', async () => {
    const { config, tokens } = await signIn('pocketkube', 'dave');
    assert.deepEqual(tokens.claims()!.groups, ['kubernetes']);
    const updated = await pid.setUser('dave', { groups: ['kubernetes', 'Platform Admins'], emailVerified: true });
    assert.deepEqual(updated.groups, ['kubernetes', 'platform_admins']);
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.deepEqual(r1.claims()!.groups, ['kubernetes', 'platform_admins']);
    assert.equal(r1.claims()!.email_verified, true);
  });

  test('removal from the allowed groups → access_denied on refresh', async () => {
    const { config, tokens } = await signIn('admins-only', 'erin', 'openid groups');
    await pid.setUser('erin', { groups: ['developers'] });
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'access_denied');
  });

  test('disabled user → invalid_grant on refresh; disabled users cannot sign in', async () => {
    const { config, tokens } = await signIn('pocketkube', 'hank');
    await pid.setUser('hank', { disabled: true });
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
    const req = await authRequest('pocketkube', 'openid');
    const callback = await httpLogin(req.url, 'ivan');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
  });

  test('revokeUser → invalid_grant', async () => {
    const { config, tokens } = await signIn('pocketkube', 'frank');
    const other = await signIn('pocketkube', 'alice');
    await pid.revokeUser('frank');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
    // Other users are untouched.
    await client.refreshTokenGrant(other.config, other.tokens.refresh_token!);
  });

  test('end session with id_token_hint revokes the refresh session and redirects to the logout callback', async () => {
    const { config, tokens } = await signIn('pocketkube', 'gina');
    const sibling = await signIn('pocketkube', 'gina'); // another session of the same user survives
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://127.0.0.1:49153/logged-out',
      state: 'logout-state-1',
    });
    assert.ok(url.href.startsWith(`${pid.issuer}/`));
    const jar = new CookieJar();
    const res = await rawRequest(url, pid.caPem, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    jar.store(res.headers['set-cookie']);
    // Without a browser session oidc-provider answers with an auto-submitting form: submit it.
    const action = /action="([^"]+)"/.exec(res.text)?.[1];
    assert.ok(action);
    const fields = new URLSearchParams();
    for (const m of res.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(m[1]!, m[2]!);
    const confirmUrl = new URL(action, url);
    const confirm = await rawRequest(confirmUrl, pid.caPem, {
      method: 'POST',
      headers: { cookie: jar.header(confirmUrl), 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    assert.equal(confirm.status, 303);
    const location = new URL(confirm.headers.location!);
    assert.equal(location.origin + location.pathname, 'http://127.0.0.1:49153/logged-out');
    assert.equal(location.searchParams.get('state'), 'logout-state-1');

    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (err) => errorCode(err) === 'invalid_grant');
    await client.refreshTokenGrant(sibling.config, sibling.tokens.refresh_token!);
  });

  test('end session with a forged id_token_hint is refused', async () => {
    const { tokens } = await signIn('pocketkube', 'bob', 'openid');
    const [h, p] = tokens.id_token!.split('.');
    const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
    const doc = JSON.parse((await rawRequest(new URL('/.well-known/openid-configuration', pid.issuer), pid.caPem)).text);
    const url = new URL(doc.end_session_endpoint);
    url.searchParams.set('id_token_hint', forged);
    const res = await rawRequest(url, pid.caPem, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.text).error, 'invalid_request');
  });
});

describe('admin API', () => {
  test('stats count token-endpoint requests by grant type', async () => {
    const before = await pid.stats();
    const { config, tokens } = await signIn('pocketkube', 'bob', 'openid');
    await client.refreshTokenGrant(config, tokens.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, 'not-a-refresh-token'), (err) => errorCode(err) === 'invalid_grant');
    const afterStats = await pid.stats();
    assert.deepEqual(Object.keys(afterStats).sort(), ['codeGrants', 'deviceGrants', 'endSessions', 'refreshFailures', 'refreshGrants']);
    assert.equal(afterStats.codeGrants - before.codeGrants, 1);
    assert.equal(afterStats.refreshGrants - before.refreshGrants, 2);
    assert.equal(afterStats.refreshFailures - before.refreshFailures, 1);
    assert.equal(afterStats.deviceGrants - before.deviceGrants, 0);
  });

  test('ID token TTL change affects tokens issued afterwards', async () => {
    const { config, tokens } = await signIn('pocketkube', 'bob', 'openid');
    assert.equal(tokens.claims()!.exp - tokens.claims()!.iat, 3600);
    await pid.setIdTokenTtl(120);
    try {
      const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
      assert.equal(r1.claims()!.exp - r1.claims()!.iat, 120);
      const fresh = await signIn('pocketkube', 'bob', 'openid');
      assert.equal(fresh.claims.exp - fresh.claims.iat, 120);
    } finally {
      await pid.setIdTokenTtl(3600);
    }
  });

  test('admin errors: unknown user', async () => {
    await assert.rejects(pid.setUser('nobody', { groups: [] }), /404/);
    await assert.rejects(pid.revokeUser('nobody'), /404/);
  });

  test('a staged fault answers only its endpoint, only as many times as asked, then the provider is itself again', async () => {
    const discovery = new URL('/.well-known/openid-configuration', pid.issuer);
    const before = await pid.faultStats();
    await pid.setFault({ endpoint: 'discovery', status: 502, html: true, times: 1 });
    const jwks = await rawRequest(new URL('/.well-known/jwks.json', pid.issuer), pid.caPem);
    assert.equal(jwks.status, 200, 'other endpoints are untouched');
    const failed = await rawRequest(discovery, pid.caPem);
    assert.equal(failed.status, 502);
    assert.match(failed.headers['content-type'] ?? '', /text\/html/);
    const back = await rawRequest(discovery, pid.caPem);
    assert.equal(back.status, 200, 'times: 1 means the next request is answered normally');
    assert.equal((await pid.faultStats()).served - before.served, 1);
  });
});

describe('process', () => {
  const serverScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pocket-id-server.js');

  test('server prints exactly one JSON line, never logs secrets, exits on SIGTERM', async () => {
    const dir = tempDir('pocket-id-proc-');
    const env = { ...process.env, POCKET_ID_CONFIG: JSON.stringify({ stateDir: dir, clients: CLIENTS }) };
    const child = spawn(process.execPath, [serverScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ready = await new Promise<PocketIdReadyLine>((resolve, reject) => {
        child.stdout.on('data', (c: string) => {
          stdout += c;
          const nl = stdout.indexOf('\n');
          if (nl !== -1) resolve(JSON.parse(stdout.slice(0, nl)));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      assert.equal(ready.ready, true);
      const ca = await readFile(ready.caFile, 'utf8');
      // A failing confidential-client request carrying secrets.
      const res = await rawRequest(new URL('/api/oidc/token', ready.internalUrl), ca, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: 'secret-refresh-token-value',
          client_id: 'confidential',
          client_secret: CONFIDENTIAL_SECRET,
        }).toString(),
      });
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.text).error, 'invalid_grant');
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
      assert.equal(stdout.trim().split('\n').length, 1);
      assert.ok(!stdout.includes('PRIVATE KEY') && !stderr.includes('PRIVATE KEY'));
      for (const secret of [CONFIDENTIAL_SECRET, 'secret-refresh-token-value']) {
        assert.ok(!stdout.includes(secret) && !stderr.includes(secret), 'secret not logged');
      }
    } finally {
      child.kill('SIGKILL');
      await removeTempDir(dir);
    }
  });

  test('startPocketId rejects with the child stderr when the port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dir = tempDir('pocket-id-fail-');
    try {
      await assert.rejects(startPocketId({ stateDir: dir, port }), /EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await removeTempDir(dir);
    }
  });
});
