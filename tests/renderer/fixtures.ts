/**
 * Fixture state for the window's tests and screenshots: what the agent would push for Alice, signed in to
 * Pocket ID, with a homelab Talos cluster and a prod cluster whose API server uses another groups prefix.
 * Times are relative to NOW, which the page's clock is set to.
 */
import type { AppState, LogEntry } from '../../electron/shared/ipc.js';
import type { ContextInfo, SessionSnapshot } from '../../electron/shared/api.js';
import type { DoctorCheck, WhoAmI } from '../../electron/shared/talos.js';

export const NOW = Date.parse('2026-11-28T17:40:00.000Z');
export const ISSUER = 'https://id.example.com';
export const CLIENT_ID = 'a60960a8-c856-43b7-add7-50d83bf7eeab';
export const SUB = '6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40';
export const PICTURE = `${ISSUER}/api/users/${SUB}/profile-picture.png`;
/** Shaped like a real ID token. It must never reach the window's DOM, whichever field it hides in. */
export const TOKEN_LOOKALIKE =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6InBvY2tldC1pZCJ9.eyJzdWIiOiI2ZjFhMmIzYyIsImlzcyI6Imh0dHBzOi8vaWQuZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJlLWJ5dGVzLWdvLWhlcmU';
export const KUBECONFIG = '/home/alice/.kube/config';
export const TALOS_KUBECONFIG = '/home/alice/.kube/talos.yaml';

const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;

export interface SessionOptions {
  /** How long the ID token has left at NOW. */
  expiresInMs?: number;
  lifetimeMs?: number;
  groups?: string[] | null;
  emailVerified?: boolean;
  picture?: boolean;
  lastRefresh?: SessionSnapshot['lastRefresh'];
  extraClaims?: Record<string, unknown>;
}

export function signedIn(options: SessionOptions = {}): SessionSnapshot {
  const lifetime = options.lifetimeMs ?? 60 * MIN;
  const exp = NOW + (options.expiresInMs ?? 42 * MIN);
  const iat = exp - lifetime;
  const groups = options.groups === undefined ? ['kubernetes', 'developers'] : options.groups;
  const emailVerified = options.emailVerified ?? true;
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    sub: SUB,
    aud: CLIENT_ID,
    exp: Math.floor(exp / 1000),
    iat: Math.floor(iat / 1000),
    auth_time: Math.floor((NOW - 3 * 3_600_000) / 1000),
    name: 'Alice Anderson',
    given_name: 'Alice',
    family_name: 'Anderson',
    preferred_username: 'alice',
    email: 'alice@example.com',
    email_verified: emailVerified,
    ...(options.picture === false ? {} : { picture: PICTURE }),
    ...(groups ? { groups } : {}),
    ...options.extraClaims,
  };
  return {
    provider: 'pocket-id',
    issuer: ISSUER,
    clientId: CLIENT_ID,
    confidential: false,
    scopes: ['openid', 'profile', 'email', 'groups'],
    redirectUri: 'http://localhost:8000',
    state: 'signed-in',
    identity: {
      sub: SUB,
      name: 'Alice Anderson',
      preferredUsername: 'alice',
      email: 'alice@example.com',
      emailVerified,
      groups: groups ?? [],
      ...(options.picture === false ? {} : { picture: PICTURE }),
    },
    claims,
    idToken: {
      issuedAt: iso(iat),
      expiresAt: iso(exp),
      credentialExpiresAt: iso(exp - 30_000),
      state: exp - NOW < MIN ? 'refresh-due' : 'valid',
      secondsLeft: Math.max(0, Math.floor((exp - NOW) / 1000)),
      expiresIn: `in ${Math.round((exp - NOW) / MIN)} min`,
    },
    nextRefreshAt: iso(exp - 5 * MIN),
    lastRefresh: options.lastRefresh ?? { at: iso(NOW - 18 * MIN), trigger: 'background', result: 'ok' },
  };
}

export function signedOut(reason = 'you signed out'): SessionSnapshot {
  return {
    provider: 'pocket-id',
    issuer: ISSUER,
    clientId: CLIENT_ID,
    confidential: false,
    scopes: ['openid', 'profile', 'email', 'groups'],
    redirectUri: 'http://localhost:8000',
    state: 'signed-out',
    signedOutReason: reason,
    lastRefresh: { at: iso(NOW - 4 * MIN), trigger: 'background', result: 'signed-out', message: 'Pocket ID ended the session (invalid_grant)' },
  };
}

export function contexts(): ContextInfo[] {
  return [
    { name: 'admin@homelab', cluster: 'homelab', user: 'admin@homelab', file: TALOS_KUBECONFIG, current: false, ours: false, server: 'https://10.0.0.10:6443' },
    { name: 'pocket-id@homelab', cluster: 'homelab', user: 'pocket-id', file: KUBECONFIG, current: true, ours: true, server: 'https://10.0.0.10:6443' },
    { name: 'admin@prod', cluster: 'prod', user: 'admin@prod', file: TALOS_KUBECONFIG, current: false, ours: false, server: 'https://prod.example.com:6443' },
    { name: 'pocket-id@prod', cluster: 'prod', user: 'pocket-id', namespace: 'apps', file: KUBECONFIG, current: false, ours: true, server: 'https://prod.example.com:6443' },
  ];
}

export function recent(): LogEntry[] {
  return [
    { at: iso(NOW - 78 * MIN), level: 'info', message: `agent listening on /home/alice/.pocketkube/agent.sock; secrets in the OS keychain` },
    { at: iso(NOW - 77 * MIN), level: 'info', message: 'pocket-id: session resumed; ID token in 2 min' },
    { at: iso(NOW - 75 * MIN), level: 'info', message: 'pocket-id: refreshed (resume); ID token in 60 min' },
    { at: iso(NOW - 31 * MIN), level: 'warn', message: 'pocket-id: refresh failed (offline: getaddrinfo ENOTFOUND id.example.com); retrying in 2 s' },
    { at: iso(NOW - 18 * MIN), level: 'info', message: 'pocket-id: refreshed (background); ID token in 60 min' },
    { at: iso(NOW - 2 * MIN), level: 'error', message: `kubeconfig: a tool wrote a token into ${KUBECONFIG}: ${TOKEN_LOOKALIKE}` },
  ];
}

export function appState(overrides: Partial<Omit<AppState, 'status'>> & { providers?: SessionSnapshot[] } = {}): AppState {
  const { providers, ...rest } = overrides;
  const list = contexts();
  const log = overrides.recent ?? recent();
  const contextsState = overrides.contexts ?? { files: [KUBECONFIG, TALOS_KUBECONFIG], currentContext: 'pocket-id@homelab', contexts: list, errors: [], changedAt: iso(NOW - 6 * MIN) };
  return {
    status: {
      apiVersion: 'pocketkube.dev/v1',
      kind: 'Status',
      agent: {
        running: true,
        pid: 1224,
        version: '0.1.0',
        mode: 'tray',
        startedAt: iso(NOW - 78 * MIN),
        socket: '/home/alice/.pocketkube/agent.sock',
        secrets: { kind: 'os-keychain', where: 'OS keychain via Electron safeStorage (gnome_libsecret), encrypted in /home/alice/.pocketkube/secrets.bin' },
      },
      providers: providers ?? [signedIn()],
      kubeconfig: {
        files: contextsState.files,
        ...(contextsState.currentContext ? { currentContext: contextsState.currentContext } : {}),
        contexts: contextsState.contexts.length,
        ...(contextsState.changedAt ? { changedAt: contextsState.changedAt } : {}),
        errors: contextsState.errors,
      },
      recent: log,
    },
    contexts: contextsState,
    recent: log,
    owner: 'app',
    platform: 'linux',
    version: '0.1.0',
    ...rest,
  };
}

/** SelfSubjectReview answers: homelab prefixes as PocketKube's RBAC expects, prod with "oidc-" instead of "oidc:". */
export const WHOAMI: Record<string, WhoAmI> = {
  'pocket-id@homelab': { username: `oidc:${SUB}`, groups: ['oidc:kubernetes', 'oidc:developers', 'system:authenticated'] },
  'pocket-id@prod': { username: `oidc-${SUB}`, groups: ['oidc-kubernetes', 'oidc-developers', 'system:authenticated'] },
  'admin@homelab': { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
};

export function doctorChecks(allGood = false): DoctorCheck[] {
  const checks: DoctorCheck[] = [
    { id: 'issuer', title: 'Issuer matches discovery', ok: true, detail: `${ISSUER}/.well-known/openid-configuration says issuer ${ISSUER}, exactly as configured.` },
    { id: 'jwks', title: 'Signing keys', ok: true, detail: `${ISSUER}/.well-known/jwks.json serves 1 key(s) (RS256); the API server must reach this URL too.` },
    { id: 'clock', title: 'Clock', ok: true, detail: "Within 1 s of Pocket ID's clock." },
    { id: 'callback', title: 'Callback URL', ok: true, detail: 'http://localhost:8000 is free for the sign-in callback.' },
    { id: 'scopes', title: 'Scopes', ok: true, detail: 'Requested: openid profile email groups.' },
    { id: 'token', title: 'ID token issuer and audience', ok: true, detail: `iss ${ISSUER}, aud includes ${CLIENT_ID}.` },
    { id: 'token-groups', title: 'ID token groups', ok: true, detail: 'groups: kubernetes, developers (the API server sees oidc:kubernetes, oidc:developers).' },
    { id: 'email-verified', title: 'Email verified', ok: 'skipped', detail: 'Skipped: the username claim is sub, so email_verified does not matter.' },
    { id: 'apiserver', title: 'API server reachable', ok: true, detail: 'Kubernetes v1.33.1 answers at https://10.0.0.10:6443 (context pocket-id@homelab).' },
    { id: 'whoami', title: 'API server accepts the token', ok: true, detail: `Context pocket-id@homelab is oidc:${SUB}, groups oidc:kubernetes, oidc:developers, system:authenticated.` },
    { id: 'group', title: 'Group seen by the API server', ok: true, detail: `oidc:${SUB} is in oidc:kubernetes.` },
    { id: 'rbac', title: 'RBAC allows access', ok: true, detail: `oidc:${SUB} may list namespaces.` },
  ];
  if (allGood) return checks;
  return checks.map((c) =>
    c.id === 'rbac'
      ? {
          ...c,
          ok: false,
          detail: `The API server answered 403: oidc:${SUB} may not list namespaces.`,
          fix: 'Bind a ClusterRole to group oidc:kubernetes: pocketkube talos rbac --group kubernetes --apply --context admin@homelab (Setup, step 3).',
        }
      : c,
  );
}
