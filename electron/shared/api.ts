/**
 * The agent's API as data: what `/v1/...` answers and what the window is pushed. Types only, no behaviour;
 * the engine, the typed client, the CLI, the tray and the renderer all name these, so they live here, where
 * the renderer may import them.
 */
import type { ExpiryState } from './expiry.js';

/**
 * A failure as data, the same on the socket (`{ok:false, error}`), over IPC and in the window: a code to act
 * on, a message to show, and `needsSignIn` when signing in is the fix. Thrown as `PocketKubeError`.
 */
export interface Failure {
  code: string;
  message: string;
  needsSignIn?: boolean;
}

/** Where an agent keeps refresh tokens: a 0600 file (headless), the OS keychain (tray), or memory (tests). */
export type SecretStoreKind = 'file' | 'os-keychain' | 'memory';

export interface Identity {
  sub: string;
  name?: string;
  preferredUsername?: string;
  email?: string;
  emailVerified?: boolean;
  groups: string[];
  picture?: string;
}

export interface RefreshRecord {
  at: string;
  trigger: 'background' | 'on-demand' | 'manual' | 'resume';
  result: 'ok' | 'retrying' | 'signed-out';
  message?: string;
}

/** Everything about a session that may leave the agent: claims and times, never a token. */
export interface SessionSnapshot {
  provider: string;
  issuer: string;
  clientId: string;
  confidential: boolean;
  scopes: string[];
  redirectUri: string;
  state: 'signed-out' | 'signed-in';
  signedOutReason?: string;
  signingIn?: { method: 'browser' | 'device'; url: string; userCode?: string; expiresAt?: string };
  identity?: Identity;
  claims?: Record<string, unknown>;
  idToken?: {
    issuedAt: string;
    expiresAt: string;
    credentialExpiresAt: string;
    state: ExpiryState;
    secondsLeft: number;
    expiresIn: string;
  };
  nextRefreshAt?: string;
  lastRefresh?: RefreshRecord;
  /**
   * This machine's clock minus Pocket ID's, estimated from the last ID token's `iat` when it arrived (differences
   * under 5 s count as 0). The times above are on this machine's clock, counted from the token's lifetime.
   */
  clock?: { skewSeconds: number; measuredAt: string; words: string };
}

export interface AgentStatus {
  apiVersion: 'pocketkube.dev/v1';
  kind: 'Status';
  agent: {
    running: true;
    pid: number;
    version: string;
    mode: 'headless' | 'tray';
    startedAt: string;
    socket: string;
    secrets: { kind: SecretStoreKind; where: string };
  };
  providers: SessionSnapshot[];
  /** The kubeconfig files as kubectl reads them, and when one last changed under us. */
  kubeconfig: { files: string[]; currentContext?: string; contexts: number; changedAt?: string; errors: string[] };
  /** Recent agent log lines, newest last; they never hold a secret. */
  recent: { at: string; level: 'info' | 'warn' | 'error'; message: string }[];
}

export interface ContextInfo {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
  file: string;
  current: boolean;
  ours: boolean;
  /** For our contexts, the provider the helper is run with (`--provider NAME`); imported users keep their own name. */
  provider?: string;
  server?: string;
}

/** A provider is an issuer plus a client; each has one session. The client secret lives in the agent's SecretStore. */
export interface ProviderConfig {
  name: string;
  issuer: string;
  clientId: string;
  /** Whether a client secret is stored (confidential client); public clients use PKCE alone. */
  confidential: boolean;
  scopes: string[];
  /** Loopback redirect port; the redirect URI is http://localhost:PORT exactly as the seed guide registers it. */
  callbackPort: number;
  /** Extra CA (PEM file) to trust for the issuer, for a Pocket ID behind a private CA. */
  caFile?: string;
}

// The socket API's requests and answers, one per route (see the README's socket API; agent/routes.ts serves
// them, client/agent-client.ts calls them).

/** POST /v1/providers: a provider, and its client secret for the agent's store. */
export interface AddProviderRequest {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  confidential?: boolean;
  scopes?: string[];
  callbackPort?: number;
  caFile?: string;
}

/** GET or POST /v1/credential: a provider by name, or kubelogin's issuer and client (added once if new). */
export interface CredentialRequest {
  provider?: string;
  issuer?: string;
  client_id?: string;
  client_secret?: string;
  scope?: string[];
  /** client.authentication.k8s.io/v1 or v1beta1; or exec_info, kubectl's KUBERNETES_EXEC_INFO. */
  api_version?: string;
  exec_info?: string;
}

/** What kubectl reads from an exec credential plugin. */
export interface ExecCredential {
  apiVersion: string;
  kind: 'ExecCredential';
  spec: Record<string, unknown>;
  status: { token: string; expirationTimestamp: string };
}

/** POST /v1/providers/NAME/login: where the user signs in. */
export interface LoginStarted {
  method: 'browser' | 'device';
  url: string;
  userCode?: string;
  expiresAt?: string;
}

/** The answer of login (once finished), logout and refresh: the session as it is now. */
export interface ProviderAnswer {
  ok: true;
  provider: SessionSnapshot;
}
