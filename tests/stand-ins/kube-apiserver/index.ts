/**
 * A stand-in for kube-apiserver that authenticates requests the way the real one does.
 *
 * No Kubernetes API server can run where PocketKube is developed and tested, yet the whole point of
 * PocketKube is to hand kubectl ID tokens that a real cluster accepts. This module reproduces the parts
 * of kube-apiserver that decide that (OIDC/JWT authentication from `--oidc-*` flags or a structured
 * `AuthenticationConfiguration`, x509 client certificates, anonymous requests, the 10 s token cache,
 * RBAC on ClusterRoleBindings) closely enough that kubectl 1.32 talks to it unmodified.
 *
 * Reference behaviour (kube-apiserver 1.34, go-oidc v2 as vendored by Kubernetes):
 * - a token whose unverified `iss` is not exactly the configured issuer URL is skipped by the JWT
 *   authenticator; a presented bearer token nobody accepts is a 401 ("invalid bearer token");
 * - discovery `issuer` must equal the configured URL; keys come from discovery's `jwks_uri`;
 * - `exp` has zero leeway, `nbf` one minute; `aud` must contain the client id (one of the audiences);
 * - the JWKS is fetched again whenever no cached key verifies the signature (unknown `kid`);
 * - successful token checks are cached for 10 s (keyed by an HMAC of the token), failures are not.
 *
 * Tokens are never logged, stored or echoed: logs carry only verification error messages.
 *
 * This file starts and stops the server and wires the pieces: config.ts (flags or AuthenticationConfiguration),
 * authn.ts with jwt-authenticator.ts, claims.ts and token-cache.ts (who is asking), rbac.ts (may they),
 * routes.ts and route-*.ts (the API), store.ts (the objects), pki.ts and kubeconfig.ts (certificates and the
 * admin kubeconfig). main.ts runs it as its own process (`node dist/tests/stand-ins/kube-apiserver/main.js`):
 * options as JSON in `KUBE_APISERVER_CONFIG`, one JSON ready line on stdout, exit on SIGTERM/SIGINT.
 */
import * as fsp from 'node:fs/promises';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { RequestAuthenticator } from './authn.js';
import { resolveAuthenticationOptions } from './config.js';
import { requestHandler } from './handler.js';
import { JwtAuthenticator, type AuthnDeps } from './jwt-authenticator.js';
import { writeAdminKubeconfig } from './kubeconfig.js';
import { makePki, writePki, type Pki } from './pki.js';
import { authorize } from './rbac.js';
import type { RouteContext } from './route-context.js';
import { ObjectStore } from './store.js';
import { TokenAuthenticator } from './token-cache.js';
import type { ClusterRoleBinding, KubeApiServerHandle, KubeApiServerOptions, KubeApiServerStats } from './types.js';

export { resolveAuthenticationOptions } from './config.js';
export {
  KubeApiServerConfigError,
  type AuthenticationConfiguration,
  type ClusterRoleBinding,
  type JWTAuthenticatorConfig,
  type KubeApiServerHandle,
  type KubeApiServerOptions,
  type KubeApiServerStats,
  type PrefixedClaimOrExpression,
  type RbacSubject,
  type UserInfo,
  type WriteKubeconfigOptions,
} from './types.js';

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServerHandle> {
  const authnConfig = resolveAuthenticationOptions(options);
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((): void => undefined);
  const host = options.host ?? '127.0.0.1';
  const gitVersion = options.gitVersion ?? 'v1.34.1';
  const stats: KubeApiServerStats = {
    requests: 0, tokenVerifications: 0, tokenCacheHits: 0, unauthorized: 0, forbidden: 0, discoveryFetches: 0, jwksFetches: 0,
  };
  const deps: AuthnDeps = {
    clock,
    log,
    stats,
    fetchTimeoutMs: options.fetchTimeoutMs ?? 10_000,
    initRetryMs: options.oidcInitRetryMs ?? 10_000,
  };

  const ownStateDir = !options.stateDir;
  const stateDir = options.stateDir ? path.resolve(options.stateDir) : await fsp.mkdtemp(path.join(os.tmpdir(), 'kube-apiserver-'));
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const pki = await makePki(stateDir, host);
  const files = await writePki(stateDir, pki);

  const jwtAuthenticators = authnConfig.jwt.map((c) => new JwtAuthenticator(c, deps));
  const tokenAuth = new TokenAuthenticator(jwtAuthenticators, options.tokenCacheTtlMs ?? 10_000, deps);
  for (const a of jwtAuthenticators) a.start();
  const authn = new RequestAuthenticator(authnConfig.anonymous, tokenAuth, log);

  const store = new ObjectStore(clock, options.clusterRoleBindings ?? []);
  let port = 0;
  const routes: RouteContext = {
    store,
    clock,
    gitVersion,
    authorize: (a) => authorize(store.bindings.values(), a),
    address: () => `${host}:${port}`,
  };
  const server = await listen(pki, options.port ?? 0, host, requestHandler({ authn, routes, stats, log, logRequests: !!options.logRequests }));
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const serverUrl = `https://${urlHost}:${port}`;
  log(`kube-apiserver stand-in ${gitVersion} serving on ${serverUrl} (${authnConfig.jwt.length} JWT authenticator(s), anonymous ${authnConfig.anonymous.enabled ? 'enabled' : 'disabled'})`);

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const a of jwtAuthenticators) a.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    if (ownStateDir) await fsp.rm(stateDir, { recursive: true, force: true });
  };

  return {
    server: serverUrl,
    port,
    caPem: pki.caPem,
    caFile: files.caFile,
    adminCertPem: pki.adminCertPem,
    adminKeyPem: pki.adminKeyPem,
    adminCertFile: files.adminCertFile,
    adminKeyFile: files.adminKeyFile,
    stateDir,
    stats: () => ({ ...stats }),
    recentAuthErrors: () => authn.recentErrors(),
    listClusterRoleBindings: () => [...store.bindings.values()].map((b) => JSON.parse(JSON.stringify(b)) as ClusterRoleBinding),
    writeAdminKubeconfig: (file, name, opts) => writeAdminKubeconfig(serverUrl, pki, file, name, opts),
    close,
  };
}

/** HTTPS that asks for client certificates but lets the authenticator judge them (kube-apiserver's x509 authenticator). */
async function listen(pki: Pki, port: number, host: string, handler: ReturnType<typeof requestHandler>): Promise<https.Server> {
  const server = https.createServer(
    {
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: [pki.caPem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      void handler(req, res);
    },
  );
  server.on('tlsClientError', () => {
    /* bad handshakes are the client's problem; keep serving */
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
