/**
 * A real OpenID provider (oidc-provider v9) configured to behave like Pocket ID, for end-to-end
 * tests and `npm run demo`. This module starts it as a child process (pocket-id-server.js) and
 * returns a typed handle; it also holds the shared types, defaults and normalisation rules, which
 * the server imports too.
 *
 * See /work/shared/facts/pocket-id.md for the behaviour being reproduced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as https from 'node:https';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An OIDC client as registered in Pocket ID's admin UI. */
export interface PocketIdClient {
  clientId: string;
  /** Present for confidential clients (client_secret_basic or client_secret_post); absent for public clients (PKCE required). */
  clientSecret?: string;
  /** Callback URLs. Exact match, except loopback rules (127.0.0.1 / [::1] any port; localhost any port only if registered without one). */
  redirectUris: string[];
  /** Logout callback URLs accepted as post_logout_redirect_uri (same matching rules). Default: none. */
  postLogoutRedirectUris?: string[];
  /** Groups (by name) whose members may sign in. Neither this nor `unrestricted` → nobody may sign in. */
  allowedGroups?: string[];
  /** Anybody may sign in. */
  unrestricted?: boolean;
  /** Require PKCE for a confidential client too (always required for public clients). */
  requirePkce?: boolean;
  /** Display name shown on the sign-in page. Default: clientId. */
  name?: string;
}

/** A Pocket ID user. */
export interface PocketIdUser {
  username: string;
  /** The user's UUID; emitted as `sub`. */
  sub: string;
  name: string;
  givenName: string;
  familyName: string;
  email?: string;
  /** Default false. */
  emailVerified?: boolean;
  /** Group names; normalised like Pocket ID (lowercase, non-alphanumerics → `_`). */
  groups: string[];
  picture?: string;
  disabled?: boolean;
}

/** A user after defaults and normalisation. */
export interface ResolvedPocketIdUser extends PocketIdUser {
  emailVerified: boolean;
  disabled: boolean;
}

/** Lifetimes in seconds. */
export interface PocketIdLifetimes {
  /** Default 3600. Changeable at run time with setIdTokenTtl(). */
  idToken?: number;
  /** Default 3600. */
  accessToken?: number;
  /** Default 30 days; sliding (every rotation gets the full lifetime). */
  refreshToken?: number;
  /** Default 900. */
  authorizationCode?: number;
  /** Device code / user code validity. Default 900. */
  deviceCode?: number;
}

/** What the server process reads from the POCKET_ID_CONFIG environment variable (JSON). */
export interface PocketIdServerConfig {
  /** Directory where the CA certificate PEM is written. Created if missing. */
  stateDir: string;
  /** 0 (default) = ephemeral. */
  port?: number;
  clients?: PocketIdClient[];
  /** Default: DEFAULT_USERS (alice, bob). */
  users?: PocketIdUser[];
  lifetimes?: PocketIdLifetimes;
  /** Device flow polling interval advertised to clients, in seconds. Default 5. */
  deviceInterval?: number;
  /** Exit when stdin reaches EOF (set by startPocketId so that the child dies with its parent). */
  exitWithStdin?: boolean;
}

export interface PocketIdOptions extends PocketIdServerConfig {
  /** How long to wait for the ready line. Default 30 s. */
  startTimeoutMs?: number;
  /** Path of the compiled server script. Default: pocket-id-server.js next to this module. */
  serverScript?: string;
}

/** The single JSON line the server prints on stdout when it is listening. */
export interface PocketIdReadyLine {
  ready: true;
  /** APP_URL: https://localhost:PORT */
  issuer: string;
  /** INTERNAL_APP_URL: https://127.0.0.1:PORT */
  internalUrl: string;
  port: number;
  /** PEM file of the self-signed certificate to trust. */
  caFile: string;
}

/** Counts of token-endpoint requests by grant type (successful or not). */
export interface PocketIdStats {
  codeGrants: number;
  /** Every refresh_token request, successful or not. */
  refreshGrants: number;
  /** refresh_token requests answered with an error. */
  refreshFailures: number;
  deviceGrants: number;
  /** Every end-session request with a hint, as an access log keeps it: the method, the request target, grants revoked. */
  endSessions: { method: string; target: string; revoked: number }[];
}

/**
 * An outage to stage at one endpoint, for the tests of riding one out. Default: none (the provider behaves
 * normally). `status` answers with that HTTP status (a JSON body without an OAuth error, or with `html` the
 * kind of page a reverse proxy shows); `hang` accepts the request and never answers.
 */
export interface PocketIdFault {
  endpoint: 'token' | 'discovery';
  status?: number;
  html?: boolean;
  hang?: boolean;
  /** A `Retry-After` header on the answer (seconds or an HTTP date), as a busy Pocket ID or its proxy sends. */
  retryAfter?: string;
  /** Only the next N requests to that endpoint; default every one until cleared. */
  times?: number;
}

/** What the staged faults did: requests answered with a fault, and hung requests whose client is still waiting. */
export interface PocketIdFaultStats {
  served: number;
  hanging: number;
}

/** Patch accepted by setUser(). */
export interface PocketIdUserPatch {
  groups?: string[];
  emailVerified?: boolean;
  disabled?: boolean;
  email?: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  picture?: string;
}

export interface PocketIdHandle {
  /** APP_URL, e.g. https://localhost:43123 (lowercase, no trailing slash). */
  readonly issuer: string;
  /** INTERNAL_APP_URL, e.g. https://127.0.0.1:43123. */
  readonly internalUrl: string;
  readonly port: number;
  readonly caFile: string;
  readonly caPem: string;
  /** Clients as configured (after defaults/normalisation). */
  readonly clients: PocketIdClient[];
  /** Users as configured at start (after defaults/normalisation). */
  readonly users: ResolvedPocketIdUser[];
  stats(): Promise<PocketIdStats>;
  /** Changes a user; returns the user as now stored. Rejects if the user does not exist. */
  setUser(username: string, patch: PocketIdUserPatch): Promise<ResolvedPocketIdUser>;
  /** Revokes every grant, token and browser session of that user. */
  revokeUser(username: string): Promise<void>;
  /** ID token lifetime for tokens issued from now on. */
  setIdTokenTtl(seconds: number): Promise<void>;
  /** Stages an outage at an endpoint (replacing any staged before); `clearFault()` ends it. */
  setFault(fault: PocketIdFault): Promise<void>;
  clearFault(): Promise<void>;
  faultStats(): Promise<PocketIdFaultStats>;
  /** Kills the child process and waits for it to exit. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_USERS: readonly PocketIdUser[] = Object.freeze([
  {
    username: 'alice',
    sub: '6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40',
    name: 'Alice Anderson',
    givenName: 'Alice',
    familyName: 'Anderson',
    email: 'alice@example.com',
    emailVerified: true,
    groups: ['kubernetes', 'developers'],
  },
  {
    username: 'bob',
    sub: '0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e',
    name: 'Bob Builder',
    givenName: 'Bob',
    familyName: 'Builder',
    email: 'bob@example.com',
    emailVerified: false,
    groups: ['developers'],
  },
]);

/**
 * Default client when none is given: PocketKube as a public client, loopback callbacks, open to
 * the `kubernetes` and `developers` groups.
 */
export const DEFAULT_CLIENTS: readonly PocketIdClient[] = Object.freeze([
  {
    clientId: 'pocketkube',
    name: 'PocketKube',
    redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost:8000'],
    postLogoutRedirectUris: ['http://127.0.0.1/logged-out'],
    allowedGroups: ['kubernetes', 'developers'],
  },
]);

/** Group name as Pocket ID emits it: lowercase, non-alphanumerics turned to `_`. */
export function normalizeGroupName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '_');
}

export function resolveUser(user: PocketIdUser): ResolvedPocketIdUser {
  return {
    ...user,
    groups: [...new Set(user.groups.map(normalizeGroupName))],
    emailVerified: user.emailVerified ?? false,
    disabled: user.disabled ?? false,
  };
}

export function resolveClient(client: PocketIdClient): PocketIdClient {
  const out: PocketIdClient = { ...client, redirectUris: [...client.redirectUris] };
  if (client.allowedGroups) out.allowedGroups = [...new Set(client.allowedGroups.map(normalizeGroupName))];
  if (client.postLogoutRedirectUris) out.postLogoutRedirectUris = [...client.postLogoutRedirectUris];
  return out;
}

export function resolveConfig(config: PocketIdServerConfig): Required<Pick<PocketIdServerConfig, 'clients' | 'users'>> & PocketIdServerConfig {
  const users = (config.users && config.users.length > 0 ? config.users : DEFAULT_USERS).map(resolveUser);
  const clients = (config.clients && config.clients.length > 0 ? config.clients : DEFAULT_CLIENTS).map(resolveClient);
  return { ...config, users, clients };
}

/** Whether Pocket ID lets `user` sign in to `client`. */
export function userAllowed(client: PocketIdClient, user: Pick<PocketIdUser, 'groups'>): boolean {
  if (client.unrestricted) return true;
  const allowed = client.allowedGroups ?? [];
  return user.groups.some((g) => allowed.includes(normalizeGroupName(g)));
}

function loopbackHost(hostname: string): '127.0.0.1' | '[::1]' | 'localhost' | undefined {
  if (hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost') return hostname;
  return undefined;
}

/**
 * Pocket ID's callback URL matching: exact, except loopback. For 127.0.0.1 and [::1] any port
 * matches; for localhost any port matches only if the registered URL has no port.
 */
export function redirectUriMatches(registered: string, actual: string): boolean {
  if (registered === actual) return true;
  const r = URL.parse(registered);
  const a = URL.parse(actual);
  if (!r || !a) return false;
  const host = loopbackHost(r.hostname);
  if (!host || a.hostname !== r.hostname || a.protocol !== r.protocol) return false;
  if (a.pathname !== r.pathname || a.search !== r.search || a.hash || r.hash) return false;
  if (a.username || a.password || r.username || r.password) return false;
  if (host === 'localhost') return r.port === '';
  return true;
}

const MAX_STDERR = 64 * 1024;

/** Starts the provider in a child process. Rejects with the child's stderr if it fails to start. */
export async function startPocketId(options: PocketIdOptions): Promise<PocketIdHandle> {
  const { startTimeoutMs = 30_000, serverScript, ...rest } = options;
  const resolved = resolveConfig(rest);
  const config: PocketIdServerConfig = { ...resolved, stateDir: path.resolve(rest.stateDir), exitWithStdin: true };
  const script = serverScript ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'pocket-id-server.js');

  const env: NodeJS.ProcessEnv = { ...process.env, POCKET_ID_CONFIG: JSON.stringify(config), ELECTRON_RUN_AS_NODE: '1' };
  // oidc-provider logs through `debug`; never let an inherited DEBUG make it print request details.
  delete env.DEBUG;
  delete env.NODE_DEBUG;

  const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < MAX_STDERR) stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let ready: PocketIdReadyLine;
  try {
    ready = await waitForReady(child, startTimeoutMs, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.resume();

  const caPem = await readFile(ready.caFile, 'utf8');
  const agent = new https.Agent({ ca: caPem, keepAlive: false });

  const admin = async <T>(method: 'GET' | 'POST', pathname: string, body?: unknown): Promise<T> => {
    const res = await httpsJson(agent, new URL(`/__admin/${pathname}`, ready.internalUrl), method, body);
    if (res.status >= 400) {
      throw new Error(`Pocket ID admin ${method} ${pathname} failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body as T;
  };

  let closing: Promise<void> | undefined;
  const handle: PocketIdHandle = {
    issuer: ready.issuer,
    internalUrl: ready.internalUrl,
    port: ready.port,
    caFile: ready.caFile,
    caPem,
    clients: resolved.clients,
    users: resolved.users.map(resolveUser),
    stats: () => admin<PocketIdStats>('GET', 'stats'),
    setUser: (username, patch) => admin<ResolvedPocketIdUser>('POST', `users/${encodeURIComponent(username)}`, patch),
    revokeUser: async (username) => {
      await admin('POST', `revoke/${encodeURIComponent(username)}`, {});
    },
    setIdTokenTtl: async (seconds) => {
      await admin('POST', 'ttl', { idToken: seconds });
    },
    setFault: async (fault) => {
      await admin('POST', 'fault', fault);
    },
    clearFault: async () => {
      await admin('POST', 'fault', {});
    },
    faultStats: () => admin<PocketIdFaultStats>('GET', 'fault'),
    close: () => {
      closing ??= (async () => {
        agent.destroy();
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
      })();
      return closing;
    },
  };
  return handle;
}

function waitForReady(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<PocketIdReadyLine> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const fail = (why: string) => {
      cleanup();
      const err = stderr().trim();
      reject(new Error(`Pocket ID test provider failed to start (${why})${err ? `:\n${err}` : ''}`));
    };
    const onData = (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl === -1) return;
      const line = buffered.slice(0, nl);
      try {
        const parsed = JSON.parse(line) as PocketIdReadyLine;
        if (parsed.ready !== true) throw new Error('not a ready line');
        cleanup();
        resolve(parsed);
      } catch {
        fail(`unexpected output on stdout: ${line.slice(0, 200)}`);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited with ${code ?? signal}`);
    const onError = (e: Error) => fail(e.message);
    const timer = setTimeout(() => fail(`no ready line after ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function httpsJson(agent: https.Agent, url: URL, method: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request(
      url,
      {
        method,
        agent,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
