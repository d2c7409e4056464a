import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as https from 'node:https';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { generate } from 'selfsigned';
import { stringify as stringifyYaml, parse as parseYaml } from 'yaml';
import {
  KubeApiServerConfigError,
  startKubeApiServer,
  type AuthenticationConfiguration,
  type KubeApiServerHandle,
  type KubeApiServerOptions,
} from './kube-apiserver/index.js';
import { KUBECTL } from '../support/kubectl.js';
import { loopbackCertificate } from '../support/loopback-tls.js';
import { tempDir } from '../support/temp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const nowSec = (): number => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------------
// A tiny OpenID provider: discovery on the issuer host, JWKS on another host name (localhost vs IP).
// ---------------------------------------------------------------------------------------------------

interface KeyEntry {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface TestIssuer {
  issuer: string;
  caPem: string;
  port: number;
  keys: Record<string, KeyEntry>;
  /** kids published in the JWKS */
  published: Set<string>;
  discoveryIssuer: string | undefined;
  hits: { discovery: number; jwks: number };
  sign(claims: JWTPayload, opts?: { key?: string; alg?: string; kid?: string }): Promise<string>;
  close(): Promise<void>;
}

async function startTestIssuer(issuerPath = ''): Promise<TestIssuer> {
  const tls = await loopbackCertificate('localhost');
  const mk = async (alg: string, kid: string): Promise<KeyEntry> => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  };
  const keys: Record<string, KeyEntry> = {
    rsa1: await mk('RS256', 'k1'),
    ec1: await mk('ES256', 'e1'),
    rogue: await mk('RS256', 'k1'), // same kid as rsa1, never published
    rsa2: await mk('RS256', 'k2'), // published later (rotation)
  };
  const published = new Set(['k1', 'e1']);
  const hits = { discovery: 0, jwks: 0 };
  const state: { port: number; discoveryIssuer: string | undefined } = { port: 0, discoveryIssuer: undefined };
  const server = https.createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    const issuer = `https://127.0.0.1:${state.port}${issuerPath}`;
    if (req.url === `${issuerPath}/.well-known/openid-configuration`) {
      hits.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer: state.discoveryIssuer ?? issuer,
          jwks_uri: `https://localhost:${state.port}/jwks`,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        }),
      );
      return;
    }
    if (req.url === '/jwks') {
      hits.jwks++;
      const jwks = Object.values(keys)
        .filter((k) => published.has(k.publicJwk.kid!) && k !== keys.rogue)
        .map((k) => k.publicJwk);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: jwks }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  state.port = typeof addr === 'object' && addr ? addr.port : 0;
  const issuer = `https://127.0.0.1:${state.port}${issuerPath}`;
  const t: TestIssuer = {
    issuer,
    caPem: tls.cert,
    port: state.port,
    keys,
    published,
    get discoveryIssuer() {
      return state.discoveryIssuer;
    },
    set discoveryIssuer(v) {
      state.discoveryIssuer = v;
    },
    hits,
    async sign(claims, opts = {}) {
      const entry = keys[opts.key ?? 'rsa1']!;
      const alg = opts.alg ?? (opts.key === 'ec1' ? 'ES256' : 'RS256');
      return new SignJWT(claims).setProtectedHeader({ alg, kid: opts.kid ?? entry.publicJwk.kid!, typ: 'JWT' }).sign(entry.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

interface CallOptions {
  token?: string;
  cert?: { cert: string; key: string };
  method?: string;
  body?: unknown;
  headers?: Record<string, string | string[]>;
}

async function call(h: KubeApiServerHandle, p: string, o: CallOptions = {}): Promise<{ status: number; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { accept: 'application/json', ...(o.headers ?? {}) };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (payload) headers['content-type'] = 'application/json';
    const req = https.request(
      `${h.server}${p}`,
      { method: o.method ?? 'GET', ca: h.caPem, headers, agent: false, ...(o.cert ?? {}), timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

const whoami = async (h: KubeApiServerHandle, token: string) =>
  call(h, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    token,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

function baseClaims(issuer: string, extra: JWTPayload = {}): JWTPayload {
  const now = nowSec();
  return { iss: issuer, aud: 'kubernetes', sub: 'user-1', iat: now, exp: now + 300, groups: ['kubernetes'], ...extra };
}

async function writeTokenKubeconfig(dir: string, h: KubeApiServerHandle, token: string, name = 'pocket'): Promise<string> {
  const file = path.join(dir, `${name}.kubeconfig`);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: h.server, 'certificate-authority-data': Buffer.from(h.caPem).toString('base64') } }],
    users: [{ name: `oidc@${name}`, user: { token } }],
    contexts: [{ name: `oidc@${name}`, context: { cluster: name, user: `oidc@${name}`, namespace: 'default' } }],
    'current-context': `oidc@${name}`,
  };
  await fs.writeFile(file, stringifyYaml(doc), { mode: 0o600 });
  return file;
}

function kubectl(kubeconfig: string, home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--request-timeout=20s', ...args],
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

describe('kube-apiserver stand-in: OIDC flags', { timeout: 120_000 }, () => {
  let idp: TestIssuer;
  let api: KubeApiServerHandle;
  const logs: string[] = [];

  before(async () => {
    idp = await startTestIssuer();
    api = await startKubeApiServer({
      oidcIssuerUrl: idp.issuer,
      oidcClientId: 'kubernetes',
      oidcGroupsClaim: 'groups',
      oidcGroupsPrefix: 'oidc:',
      oidcCaPem: idp.caPem,
      clusterRoleBindings: [
        {
          metadata: { name: 'oidc-admins' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:kubernetes' }],
        },
      ],
      log: (l) => logs.push(l),
    });
  });
  after(async () => {
    await api?.close();
    await idp?.close();
  });

  test('a valid token gets /version and a SelfSubjectReview with <issuer>#<sub> and prefixed groups', async () => {
    const token = await idp.sign(baseClaims(idp.issuer));
    const v = await call(api, '/version', { token });
    assert.equal(v.status, 200);
    assert.equal(v.json.gitVersion, 'v1.34.1');
    const r = await whoami(api, token);
    assert.equal(r.status, 201);
    assert.equal(r.json.kind, 'SelfSubjectReview');
    assert.deepEqual(r.json.status.userInfo, { username: `${idp.issuer}#user-1`, groups: ['oidc:kubernetes', 'system:authenticated'] });
    assert.ok(!logs.join('\n').includes(token), 'token must never be logged');
  });

  test('discovery is fetched once; the JWKS comes from jwks_uri on another host name', async () => {
    assert.equal(idp.hits.discovery, 1);
    assert.ok(idp.hits.jwks >= 1);
    assert.equal(api.stats().discoveryFetches, 1);
  });

  test("a token whose iss differs by a trailing slash is skipped: bare 401 Status", async () => {
    const token = await idp.sign(baseClaims(`${idp.issuer}/`));
    const r = await call(api, '/version', { token });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, UNAUTHORIZED);
    // Case differences are mismatches too.
    const upper = await idp.sign(baseClaims(idp.issuer.replace('https', 'HTTPS')));
    assert.equal((await call(api, '/version', { token: upper })).status, 401);
  });

  test('wrong audience -> 401; aud as an array containing the client id is accepted', async () => {
    const bad = await idp.sign(baseClaims(idp.issuer, { aud: 'pocketkube' }));
    assert.equal((await call(api, '/version', { token: bad })).status, 401);
    assert.match(api.recentAuthErrors().at(-1)!, /oidc: expected audience "kubernetes" got \["pocketkube"\]/);
    const ok = await idp.sign(baseClaims(idp.issuer, { aud: ['other', 'kubernetes'] }));
    assert.equal((await call(api, '/version', { token: ok })).status, 200);
  });

  test('exp has no leeway: expired by 1 s -> 401', async () => {
    const token = await idp.sign(baseClaims(idp.issuer, { exp: nowSec() - 1 }));
    const r = await call(api, '/version', { token });
    assert.equal(r.status, 401);
    assert.match(api.recentAuthErrors().at(-1)!, /oidc: token is expired/);
  });

  test('nbf has one minute of leeway: +30 s accepted, +90 s rejected', async () => {
    const soon = await idp.sign(baseClaims(idp.issuer, { nbf: nowSec() + 30, sub: 'nbf-30' }));
    assert.equal((await call(api, '/version', { token: soon })).status, 200);
    const later = await idp.sign(baseClaims(idp.issuer, { nbf: nowSec() + 90, sub: 'nbf-90' }));
    assert.equal((await call(api, '/version', { token: later })).status, 401);
    assert.match(api.recentAuthErrors().at(-1)!, /before the nbf \(not before\) time/);
  });

  test('wrong signature -> 401 (unpublished key with a known kid, and a tampered payload)', async () => {
    const rogue = await idp.sign(baseClaims(idp.issuer), { key: 'rogue' });
    assert.equal((await call(api, '/version', { token: rogue })).status, 401);
    assert.match(api.recentAuthErrors().at(-1)!, /failed to verify signature/);
    const good = await idp.sign(baseClaims(idp.issuer));
    const [h, , s] = good.split('.');
    const forged = Buffer.from(JSON.stringify(baseClaims(idp.issuer, { groups: ['system:masters'] }))).toString('base64url');
    assert.equal((await call(api, '/version', { token: `${h}.${forged}.${s}` })).status, 401);
  });

  test('alg not allowed: ES256 token with a published EC key -> 401 (default RS256 only)', async () => {
    const token = await idp.sign(baseClaims(idp.issuer), { key: 'ec1' });
    assert.equal((await call(api, '/version', { token })).status, 401);
    assert.match(api.recentAuthErrors().at(-1)!, /id token signed with unsupported algorithm, expected \["RS256"\] got "ES256"/);
  });

  test('not a JWT / empty-ish bearer values', async () => {
    assert.deepEqual((await call(api, '/version', { token: 'not-a-jwt' })).json, UNAUTHORIZED);
    assert.equal((await call(api, '/version', { headers: { authorization: 'Bearer' } })).status, 200, 'no token -> anonymous');
  });

  test('successful checks are cached (10 s); failures are not', async () => {
    const token = await idp.sign(baseClaims(idp.issuer, { sub: 'cache-me' }));
    const before = api.stats();
    await call(api, '/version', { token });
    await call(api, '/version', { token });
    await call(api, '/version', { token });
    const afterStats = api.stats();
    assert.equal(afterStats.tokenVerifications - before.tokenVerifications, 1);
    assert.equal(afterStats.tokenCacheHits - before.tokenCacheHits, 2);
    const bad = await idp.sign(baseClaims(idp.issuer, { aud: 'nope', sub: 'cache-me-not' }));
    await call(api, '/version', { token: bad });
    await call(api, '/version', { token: bad });
    assert.equal(api.stats().tokenVerifications - afterStats.tokenVerifications, 2);
  });

  test('an unknown kid makes the server fetch the JWKS again (key rotation)', async () => {
    const fetchesBefore = api.stats().jwksFetches;
    idp.published.add('k2');
    const token = await idp.sign(baseClaims(idp.issuer, { sub: 'rotated' }), { key: 'rsa2' });
    const r = await whoami(api, token);
    assert.equal(r.status, 201);
    assert.equal(r.json.status.userInfo.username, `${idp.issuer}#rotated`);
    assert.equal(api.stats().jwksFetches, fetchesBefore + 1);
  });

  test('RBAC: group bound to cluster-admin may list pods; an unbound user gets the real 403 message', async () => {
    const admin = await idp.sign(baseClaims(idp.issuer));
    const ok = await call(api, '/api/v1/namespaces/default/pods', { token: admin });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.kind, 'PodList');
    assert.deepEqual(ok.json.items, []);

    const other = await idp.sign(baseClaims(idp.issuer, { sub: 'user-2', groups: ['other'] }));
    const denied = await call(api, '/api/v1/namespaces/default/pods', { token: other });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.reason, 'Forbidden');
    assert.equal(
      denied.json.message,
      `pods is forbidden: User "${idp.issuer}#user-2" cannot list resource "pods" in API group "" in the namespace "default"`,
    );
    const ns = await call(api, '/api/v1/namespaces', { token: other });
    assert.equal(ns.status, 403);
    assert.match(ns.json.message, /namespaces is forbidden: .* cannot list resource "namespaces" in API group "" at the cluster scope/);
    // Any authenticated user may still ask who they are and read discovery.
    assert.equal((await whoami(api, other)).status, 201);
    assert.equal((await call(api, '/api', { token: other })).status, 200);
  });

  test('admin client certificate (O=system:masters) creates a ClusterRoleBinding; then the group is allowed', async () => {
    const cert = { cert: api.adminCertPem, key: api.adminKeyPem };
    const me = await call(api, '/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', cert, body: { kind: 'SelfSubjectReview' } });
    assert.equal(me.json.status.userInfo.username, 'admin');
    assert.deepEqual(me.json.status.userInfo.groups, ['system:masters', 'system:authenticated']);

    const dev = await idp.sign(baseClaims(idp.issuer, { sub: 'dev-1', groups: ['devs'] }));
    assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: dev })).status, 403);

    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'oidc-devs' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'Group', name: 'oidc:devs' }],
    };
    const created = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { method: 'POST', cert, body: binding });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.subjects[0].apiGroup, 'rbac.authorization.k8s.io', 'apiGroup defaulted');
    const again = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { method: 'POST', cert, body: binding });
    assert.equal(again.status, 409);
    assert.equal(again.json.reason, 'AlreadyExists');
    assert.equal(again.json.message, 'clusterrolebindings.rbac.authorization.k8s.io "oidc-devs" already exists');

    // view: may GET, may not write.
    assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: dev })).status, 200);
    const write = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { method: 'POST', token: dev, body: { ...binding, metadata: { name: 'x' } } });
    assert.equal(write.status, 403);
    assert.equal(
      write.json.message,
      `clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "${idp.issuer}#dev-1" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope`,
    );

    // get, replace (PUT), delete
    const got = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/oidc-devs', { cert });
    assert.equal(got.status, 200);
    const replaced = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/oidc-devs', {
      method: 'PUT',
      cert,
      body: { ...got.json, subjects: [{ kind: 'User', name: `${idp.issuer}#dev-1` }] },
    });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: dev })).status, 200, 'bound as a User now');
    const changeRole = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/oidc-devs', {
      method: 'PUT',
      cert,
      body: { ...replaced.json, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' } },
    });
    assert.equal(changeRole.status, 422);
    assert.match(changeRole.json.message, /cannot change roleRef/);
    const list = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { cert });
    assert.ok(list.json.items.some((b: { metadata: { name: string } }) => b.metadata.name === 'system:basic-user'), 'bootstrap bindings listed');
    const del = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/oidc-devs', { method: 'DELETE', cert });
    assert.equal(del.status, 200);
    assert.equal(del.json.status, 'Success');
    assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: dev })).status, 403);
    assert.equal((await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/oidc-devs', { cert })).status, 404);
  });

  test('invalid ClusterRoleBindings are rejected with 422; a binding to a missing ClusterRole explains the 403', async () => {
    const cert = { cert: api.adminCertPem, key: api.adminKeyPem };
    const invalid = await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      method: 'POST',
      cert,
      body: { metadata: { name: 'bad' }, roleRef: { kind: 'Role', name: 'view' }, subjects: [{ kind: 'Team', name: 'x' }] },
    });
    assert.equal(invalid.status, 422);
    assert.match(invalid.json.message, /roleRef\.kind: Unsupported value: "Role"/);
    assert.match(invalid.json.message, /subjects\[0\]\.kind: Unsupported value: "Team"/);

    await call(api, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      method: 'POST',
      cert,
      body: { metadata: { name: 'typo' }, roleRef: { kind: 'ClusterRole', name: 'clusteradmin' }, subjects: [{ kind: 'Group', name: 'oidc:typo' }] },
    });
    const token = await idp.sign(baseClaims(idp.issuer, { sub: 'typo-user', groups: ['typo'] }));
    const r = await call(api, '/api/v1/namespaces', { token });
    assert.equal(r.status, 403);
    assert.match(r.json.message, /: RBAC: clusterrole\.rbac\.authorization\.k8s\.io "clusteradmin" not found$/);
  });

  test('a client certificate from another CA is not trusted (401, not anonymous)', async () => {
    const foreign = await generate([{ name: 'organizationName', value: 'system:masters' }, { name: 'commonName', value: 'admin' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'extKeyUsage', clientAuth: true }],
    });
    const r = await call(api, '/version', { cert: { cert: foreign.cert, key: foreign.private } });
    assert.equal(r.status, 401);
  });

  test('anonymous: /version and health endpoints only', async () => {
    assert.equal((await call(api, '/version')).status, 200);
    const healthz = await call(api, '/healthz');
    assert.equal(healthz.status, 200);
    assert.equal(healthz.text, 'ok');
    assert.equal((await call(api, '/livez')).status, 200);
    assert.equal((await call(api, '/readyz')).status, 200);
    const nsList = await call(api, '/api/v1/namespaces');
    assert.equal(nsList.status, 403);
    assert.match(nsList.json.message, /User "system:anonymous" cannot list resource "namespaces"/);
    const ssr = await call(api, '/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', body: { kind: 'SelfSubjectReview' } });
    assert.equal(ssr.status, 403);
    assert.equal((await call(api, '/api')).json.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
  });

  test('impersonation needs permission', async () => {
    const cert = { cert: api.adminCertPem, key: api.adminKeyPem };
    const as = await call(api, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      cert,
      body: { kind: 'SelfSubjectReview' },
      headers: { 'impersonate-user': 'jane', 'impersonate-group': ['oidc:x'] },
    });
    assert.deepEqual(as.json.status.userInfo, { username: 'jane', groups: ['oidc:x', 'system:authenticated'] });
    const other = await idp.sign(baseClaims(idp.issuer, { sub: 'user-3', groups: [] }));
    const denied = await call(api, '/version', { token: other, headers: { 'impersonate-user': 'admin' } });
    assert.equal(denied.status, 403);
    assert.match(denied.json.message, /users "admin" is forbidden: .* cannot impersonate resource "users"/);
  });

  test('real kubectl 1.32 with a static token kubeconfig', { timeout: 120_000 }, async () => {
    const dir = await tempDir('kubectl-token-');
    try {
      const token = await idp.sign(baseClaims(idp.issuer, { sub: 'kubectl-user' }));
      const kc = await writeTokenKubeconfig(dir, api, token);
      const version = await kubectl(kc, dir, ['get', '--raw', '/version']);
      assert.equal(version.code, 0, version.stderr);
      assert.equal(JSON.parse(version.stdout).gitVersion, 'v1.34.1');

      const who = await kubectl(kc, dir, ['auth', 'whoami', '-o', 'json']);
      assert.equal(who.code, 0, who.stderr);
      const review = JSON.parse(who.stdout);
      assert.equal(review.status.userInfo.username, `${idp.issuer}#kubectl-user`);
      assert.deepEqual(review.status.userInfo.groups, ['oidc:kubernetes', 'system:authenticated']);

      const pods = await kubectl(kc, dir, ['get', 'pods']);
      assert.equal(pods.code, 0, pods.stderr);
      assert.match(pods.stderr, /No resources found in default namespace\./);

      const canI = await kubectl(kc, dir, ['auth', 'can-i', 'list', 'pods']);
      assert.equal(canI.code, 0, canI.stderr);
      assert.equal(canI.stdout.trim(), 'yes');

      const nsOut = await kubectl(kc, dir, ['get', 'namespaces']);
      assert.equal(nsOut.code, 0, nsOut.stderr);
      assert.match(nsOut.stdout, /^NAME\s+STATUS\s+AGE/m);
      assert.match(nsOut.stdout, /^kube-system\s+Active/m);

      // Unbound user: 403 as kubectl prints it.
      const other = await idp.sign(baseClaims(idp.issuer, { sub: 'nobody', groups: [] }));
      const kc2 = await writeTokenKubeconfig(dir, api, other, 'other');
      const forbidden = await kubectl(kc2, dir, ['get', 'pods']);
      assert.notEqual(forbidden.code, 0);
      assert.match(forbidden.stderr, /pods is forbidden: User ".*#nobody" cannot list resource "pods" in API group "" in the namespace "default"/);
      const cannot = await kubectl(kc2, dir, ['auth', 'can-i', 'list', 'pods']);
      assert.equal(cannot.stdout.trim(), 'no');

      // Unverifiable token: 401 as kubectl prints it.
      const expired = await idp.sign(baseClaims(idp.issuer, { exp: nowSec() - 1 }));
      const kc3 = await writeTokenKubeconfig(dir, api, expired, 'expired');
      const unauth = await kubectl(kc3, dir, ['get', '--raw', '/version']);
      assert.notEqual(unauth.code, 0);
      assert.match(unauth.stderr, /Unauthorized/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('real kubectl with the talosctl-style admin kubeconfig creates a ClusterRoleBinding', { timeout: 120_000 }, async () => {
    const dir = await tempDir('kubectl-admin-');
    try {
      const kc = path.join(dir, 'config');
      const written = await api.writeAdminKubeconfig(kc, 'demo');
      assert.deepEqual(written, { context: 'admin@demo', cluster: 'demo', user: 'admin@demo' });
      assert.equal((await fs.stat(kc)).mode & 0o777, 0o600);
      const doc = parseYaml(await fs.readFile(kc, 'utf8'));
      assert.equal(doc['current-context'], 'admin@demo');
      assert.equal(doc.contexts[0].context.namespace, 'default');

      const whoAdmin = await kubectl(kc, dir, ['auth', 'whoami', '-o', 'json']);
      assert.equal(whoAdmin.code, 0, whoAdmin.stderr);
      assert.equal(JSON.parse(whoAdmin.stdout).status.userInfo.username, 'admin');

      const create = await kubectl(kc, dir, ['create', 'clusterrolebinding', 'oidc-qa', '--clusterrole=view', '--group=oidc:qa']);
      assert.equal(create.code, 0, create.stderr);
      assert.match(create.stdout, /clusterrolebinding\.rbac\.authorization\.k8s\.io\/oidc-qa created/);
      const dup = await kubectl(kc, dir, ['create', 'clusterrolebinding', 'oidc-qa', '--clusterrole=view', '--group=oidc:qa']);
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /already exists/);
      const listed = await kubectl(kc, dir, ['get', 'clusterrolebindings', 'oidc-qa']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /oidc-qa\s+ClusterRole\/view/);

      const qa = await idp.sign(baseClaims(idp.issuer, { sub: 'qa-1', groups: ['qa'] }));
      assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: qa })).status, 200);

      // A second write with the same name does not clobber: talosctl renames to NAME-1.
      const second = await api.writeAdminKubeconfig(kc, 'demo');
      assert.equal(second.context, 'admin@demo-1');
      const doc2 = parseYaml(await fs.readFile(kc, 'utf8'));
      assert.equal(doc2.clusters.length, 2);

      const del = await kubectl(kc, dir, ['delete', 'clusterrolebinding', 'oidc-qa']);
      assert.equal(del.code, 0, del.stderr);
      assert.equal((await call(api, '/api/v1/namespaces/default/pods', { token: qa })).status, 403);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kube-apiserver stand-in: claim mapping options', { timeout: 60_000 }, () => {
  let idp: TestIssuer;
  const servers: KubeApiServerHandle[] = [];
  before(async () => {
    idp = await startTestIssuer('/oidc');
  });
  after(async () => {
    for (const s of servers) await s.close();
    await idp?.close();
  });
  const start = async (o: KubeApiServerOptions): Promise<KubeApiServerHandle> => {
    const s = await startKubeApiServer({ oidcIssuerUrl: idp.issuer, oidcClientId: 'kubernetes', oidcCaPem: idp.caPem, ...o });
    servers.push(s);
    return s;
  };

  test('username prefix "oidc:", "-" (none); groups without prefix; issuer with a path', async () => {
    const a = await start({ oidcUsernamePrefix: 'oidc:', oidcGroupsClaim: 'groups' });
    const token = await idp.sign(baseClaims(idp.issuer));
    assert.deepEqual((await whoami(a, token)).json.status.userInfo, { username: 'oidc:user-1', groups: ['kubernetes', 'system:authenticated'] });
    const b = await start({ oidcUsernamePrefix: '-' });
    assert.deepEqual((await whoami(b, token)).json.status.userInfo, { username: 'user-1', groups: ['system:authenticated'] });
  });

  test('email claim: unprefixed; email_verified false -> 401 "oidc: email not verified"; true or absent -> ok', async () => {
    const s = await start({ oidcUsernameClaim: 'email', oidcGroupsClaim: 'groups', oidcGroupsPrefix: 'oidc:' });
    const verified = await idp.sign(baseClaims(idp.issuer, { email: 'ada@example.com', email_verified: true }));
    assert.equal((await whoami(s, verified)).json.status.userInfo.username, 'ada@example.com');
    const absent = await idp.sign(baseClaims(idp.issuer, { email: 'bob@example.com' }));
    assert.equal((await whoami(s, absent)).status, 201);
    const unverified = await idp.sign(baseClaims(idp.issuer, { email: 'eve@example.com', email_verified: false }));
    const r = await whoami(s, unverified);
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, UNAUTHORIZED);
    assert.match(s.recentAuthErrors().at(-1)!, /oidc: email not verified/);
    const missing = await idp.sign(baseClaims(idp.issuer));
    assert.equal((await whoami(s, missing)).status, 401, 'no email claim');
  });

  test('groups claim as a single string; required claims', async () => {
    const s = await start({ oidcGroupsClaim: 'role', oidcGroupsPrefix: 'r:', oidcRequiredClaims: { hd: 'example.com' } });
    const ok = await idp.sign(baseClaims(idp.issuer, { role: 'ops', hd: 'example.com' }));
    assert.deepEqual((await whoami(s, ok)).json.status.userInfo.groups, ['r:ops', 'system:authenticated']);
    const wrong = await idp.sign(baseClaims(idp.issuer, { role: 'ops', hd: 'evil.com' }));
    assert.equal((await whoami(s, wrong)).status, 401);
    assert.match(s.recentAuthErrors().at(-1)!, /required claim hd value does not match/);
  });

  test('oidcSigningAlgs allows ES256', async () => {
    const s = await start({ oidcSigningAlgs: ['RS256', 'ES256'] });
    const token = await idp.sign(baseClaims(idp.issuer), { key: 'ec1' });
    assert.equal((await whoami(s, token)).status, 201);
  });

  test('discovery issuer mismatch: the authenticator never initializes -> 401', async () => {
    idp.discoveryIssuer = `${idp.issuer}/`;
    try {
      const logs: string[] = [];
      const s = await start({ log: (l) => logs.push(l), oidcInitRetryMs: 60_000 });
      const token = await idp.sign(baseClaims(idp.issuer));
      assert.equal((await call(s, '/version', { token })).status, 401);
      assert.match(s.recentAuthErrors().at(-1)!, /oidc: authenticator not initialized/);
      assert.ok(logs.some((l) => l.includes('oidc: issuer did not match the issuer returned by provider')));
    } finally {
      idp.discoveryIssuer = undefined;
    }
  });

  test('cache: 10 s by the server clock, even past exp (as kube-apiserver)', async () => {
    let now = Date.now();
    const s = await start({ clock: () => now });
    const token = await idp.sign(baseClaims(idp.issuer, { exp: Math.floor(now / 1000) + 5 }));
    assert.equal((await call(s, '/version', { token })).status, 200);
    now += 6_000; // token expired, but the cached result is still served
    assert.equal((await call(s, '/version', { token })).status, 200);
    assert.equal(s.stats().tokenVerifications, 1);
    now += 5_000; // cache entry gone: verified again, now expired
    assert.equal((await call(s, '/version', { token })).status, 401);
    assert.equal(s.stats().tokenVerifications, 2);
  });
});

describe('kube-apiserver stand-in: structured AuthenticationConfiguration', { timeout: 60_000 }, () => {
  let idp: TestIssuer;
  const servers: KubeApiServerHandle[] = [];
  before(async () => {
    idp = await startTestIssuer();
  });
  after(async () => {
    for (const s of servers) await s.close();
    await idp?.close();
  });
  const config = (jwt: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): AuthenticationConfiguration =>
    ({
      apiVersion: 'apiserver.config.k8s.io/v1beta1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: { url: idp.issuer, audiences: ['kubernetes'], certificateAuthority: idp.caPem },
          claimMappings: { username: { claim: 'sub', prefix: '' }, groups: { claim: 'groups', prefix: 'oidc:' } },
          ...jwt,
        },
      ],
      ...extra,
    }) as AuthenticationConfiguration;

  test('the equivalent of the flags works; all signing algs accepted; Talos anonymous block limits anonymous paths', async () => {
    const s = await startKubeApiServer({
      authenticationConfig: config(
        { claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }] },
        { anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] } },
      ),
    });
    servers.push(s);
    const token = await idp.sign(baseClaims(idp.issuer, { hd: 'example.com' }));
    assert.deepEqual((await whoami(s, token)).json.status.userInfo, { username: 'user-1', groups: ['oidc:kubernetes', 'system:authenticated'] });
    const es = await idp.sign(baseClaims(idp.issuer, { hd: 'example.com', sub: 'ec-user' }), { key: 'ec1' });
    assert.equal((await whoami(s, es)).status, 201);
    const noHd = await idp.sign(baseClaims(idp.issuer, { sub: 'no-hd' }));
    assert.equal((await whoami(s, noHd)).status, 401);
    assert.equal((await call(s, '/livez')).status, 200);
    assert.equal((await call(s, '/version')).status, 401, 'anonymous only on the listed paths');
  });

  test('YAML text, v1, multiple audiences with MatchAny, uid claim', async () => {
    const yamlText = stringifyYaml({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: { url: idp.issuer, audiences: ['kubernetes', 'pocketkube'], audienceMatchPolicy: 'MatchAny', certificateAuthority: idp.caPem },
          claimMappings: { username: { claim: 'email', prefix: 'pocket:' }, uid: { claim: 'sub' } },
        },
      ],
    });
    const s = await startKubeApiServer({ authenticationConfig: yamlText });
    servers.push(s);
    const token = await idp.sign(baseClaims(idp.issuer, { aud: 'pocketkube', email: 'ada@example.com', email_verified: true }));
    assert.deepEqual((await whoami(s, token)).json.status.userInfo, { username: 'pocket:ada@example.com', uid: 'user-1', groups: ['system:authenticated'] });
    const wrongAud = await idp.sign(baseClaims(idp.issuer, { aud: 'other', email: 'ada@example.com' }));
    assert.equal((await whoami(s, wrongAud)).status, 401);
    assert.match(s.recentAuthErrors().at(-1)!, /expected audience in \["kubernetes" "pocketkube"\] got \["other"\]/);
  });

  test('invalid configurations are refused like kube-apiserver refuses them', async () => {
    const bad = async (o: KubeApiServerOptions, re: RegExp): Promise<void> => {
      await assert.rejects(startKubeApiServer(o), (e: unknown) => {
        assert.ok(e instanceof KubeApiServerConfigError, String(e));
        assert.match((e as Error).message, re);
        return true;
      });
    };
    await bad(
      { authenticationConfig: config({ claimMappings: { username: { claim: 'sub' } } }) },
      /^invalid authentication configuration: jwt\[0\]\.claimMappings\.username\.prefix: Required value: prefix is required when claim is set\. It can be set to an empty string to disable prefixing$/,
    );
    await bad(
      { authenticationConfig: config({ issuer: { url: idp.issuer.replace('https', 'http'), audiences: ['kubernetes'] } }) },
      /jwt\[0\]\.issuer\.url: Invalid value: "http:\/\/127\.0\.0\.1:\d+": URL scheme must be https/,
    );
    await bad(
      { authenticationConfig: config({ issuer: { url: idp.issuer, audiences: [] } }) },
      /jwt\[0\]\.issuer\.audiences: Required value: at least one jwt\[0\]\.issuer\.audiences is required/,
    );
    await bad(
      { authenticationConfig: config({ issuer: { url: idp.issuer, audiences: ['a', 'b'] } }) },
      /audienceMatchPolicy must be MatchAny for multiple audiences/,
    );
    await bad(
      { authenticationConfig: config({ claimMappings: { username: { expression: 'claims.sub' } } }) },
      /CEL expressions are not supported/,
    );
    await bad({ authenticationConfig: config({ claimMapping: {} }) }, /strict decoding error: unknown field "jwt\[0\]\.claimMapping"/);
    await bad({ authenticationConfig: { ...config(), kind: '' } as AuthenticationConfiguration }, /Object 'Kind' is missing/);
    await bad(
      { authenticationConfig: config({}, { anonymous: { enabled: true } }), anonymousAuth: true },
      /anonymous: Forbidden: --anonymous-auth flag cannot be set/,
    );
    await bad(
      { authenticationConfig: config({}, { anonymous: { enabled: false, conditions: [{ path: '/livez' }] } }) },
      /enabled should be set to true when conditions are defined/,
    );
    await bad(
      { authenticationConfig: config(), oidcIssuerUrl: idp.issuer, oidcClientId: 'kubernetes' },
      /^authentication-config file and oidc-\* flags are mutually exclusive$/,
    );
    await bad({ oidcIssuerUrl: idp.issuer }, /oidc-issuer-url and oidc-client-id must be specified together/);
    await bad({ oidcIssuerUrl: idp.issuer, oidcClientId: 'k', oidcSigningAlgs: ['HS256'] }, /oidc: unsupported signing alg: "HS256"/);
    await bad({ oidcIssuerUrl: 'http://127.0.0.1:1', oidcClientId: 'k' }, /URL scheme must be https/);
  });

  test('anonymous disabled: no credentials -> 401', async () => {
    const s = await startKubeApiServer({ authenticationConfig: config({}, { anonymous: { enabled: false } }) });
    servers.push(s);
    assert.equal((await call(s, '/version')).status, 401);
    const t = await startKubeApiServer({ anonymousAuth: false });
    servers.push(t);
    assert.equal((await call(t, '/healthz')).status, 401);
  });
});

describe('kube-apiserver stand-in as a separate process', { timeout: 60_000 }, () => {
  test('prints one ready line, serves, exits on SIGTERM; state files with 0600 keys', async () => {
    const stateDir = await tempDir('kube-apiserver-proc-');
    const child = spawn(process.execPath, [path.join(here, 'kube-apiserver', 'main.js')], {
      env: { ...process.env, KUBE_APISERVER_CONFIG: JSON.stringify({ stateDir, gitVersion: 'v1.34.2' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error('no ready line within 30 s')), 30_000);
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (c: string) => {
          buf += c;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            clearTimeout(timer);
            resolve(buf.slice(0, nl));
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const ready = JSON.parse(line);
      assert.equal(ready.ready, true);
      assert.match(ready.server, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(ready.caFile, path.join(stateDir, 'ca.crt'));
      assert.equal((await fs.stat(ready.adminKeyFile)).mode & 0o777, 0o600);
      const caPem = await fs.readFile(ready.caFile, 'utf8');
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${ready.server}/version`, { ca: caPem, agent: false }, (res) => {
            let t = '';
            res.on('data', (c) => (t += c));
            res.on('end', () => resolve(t));
          })
          .on('error', reject);
      });
      assert.equal(JSON.parse(body).gitVersion, 'v1.34.2');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  });

  test('a bad configuration exits non-zero with ready:false', async () => {
    const child = spawn(process.execPath, [path.join(here, 'kube-apiserver', 'main.js')], {
      env: { ...process.env, KUBE_APISERVER_CONFIG: JSON.stringify({ oidcIssuerUrl: 'https://x.invalid' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.equal(JSON.parse(out.trim()).ready, false);
  });
});
