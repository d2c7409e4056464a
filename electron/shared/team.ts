/**
 * A team profile: what a cluster admin shares so a developer joins in one step (`pocketkube team export`,
 * `pocketkube join FILE|URL|-`, `pocketkube://join?profile=<https URL>`). Types and pure URL rules only; the
 * engine (core/team) parses, plans and applies, the CLI and the window show the plan. A profile never holds a
 * secret: teams use a public client (PKCE).
 */

import { isLoopbackHost } from './loopback.js';

export const TEAM_PROFILE_API_VERSION = 'pocketkube/v1';
export const TEAM_PROFILE_KIND = 'TeamProfile';

/** The file an admin shares (YAML or JSON; the README's "Onboard your team" documents every field). */
export interface TeamProfile {
  apiVersion: typeof TEAM_PROFILE_API_VERSION;
  kind: typeof TEAM_PROFILE_KIND;
  /** Shown to the developer ("Join acme-platform"). */
  team: string;
  /** Raised by the admin on each change: joining a higher revision updates servers and CAs. */
  revision: number;
  provider: TeamProvider;
  clusters: TeamCluster[];
}

export interface TeamProvider {
  /** The provider's name on the developer's machine (also the kubeconfig user `pocket-id`-style prefix). */
  name: string;
  issuer: string;
  clientId: string;
  scopes?: string[];
  callbackPort?: number;
  /** PEM of an extra CA for the issuer (Pocket ID behind a private CA); written to a file beside the config. */
  caData?: string;
}

export interface TeamCluster {
  name: string;
  /** https only. */
  server: string;
  /** Base64 of the cluster CA's PEM, as in a kubeconfig's certificate-authority-data. */
  certificateAuthorityData: string;
  namespace?: string;
  /** The group the cluster's RBAC binds (shown in the plan, checked by `doctor`). */
  group?: string;
}

/** One field that would change: `issuer` from X to Y. */
export interface JoinChange {
  field: string;
  from?: string;
  to?: string;
}

export type JoinAction = 'add' | 'update' | 'unchanged';

/** What makes a join need confirming: an existing provider's issuer or client id, its issuer CA, or a revision older than the one joined. */
export type JoinReason = 'provider-identity' | 'issuer-ca' | 'older-revision';

/** What joining would do, before anything is written: shown by `join --dry-run`, the CLI's prompt and the window. */
export interface JoinPlan {
  /** Where the profile came from: a path, an https URL, or "standard input". */
  source: string;
  team: string;
  revision: number;
  provider: { name: string; issuer: string; clientId: string; action: JoinAction; changes: JoinChange[] };
  contexts: { name: string; cluster: string; server: string; file: string; namespace?: string; group?: string; action: JoinAction; changes: JoinChange[] }[];
  /**
   * True when the plan changes what an existing provider is (its issuer or client id): a script must pass
   * `--yes`, the window asks with the change shown.
   */
  needsConfirmation: boolean;
  /** Sentences the user should read before confirming (e.g. an older revision than the one joined before). */
  warnings: string[];
  /** The context that becomes kubectl's current one: only when the kubeconfig has none yet (a fresh machine). */
  currentContext?: string;
  /** Why it needs confirming (empty or absent when it does not): see JoinReason. */
  reasons?: JoinReason[];
  /** sha256 of the profile planned (every field): a join applies exactly the profile that was shown, or nothing. */
  profileDigest?: string;
}

/** What a finished join did, and the sign-in it started (if the session was not already signed in). */
export interface JoinResult {
  plan: JoinPlan;
  signedIn: boolean;
  signIn?: { method: 'browser' | 'device'; url: string; userCode?: string };
}

/**
 * Where a profile may be fetched from: https, or http on a loopback host only, never with a user name or
 * password. Returns the sentence to show when `url` is not allowed (quoting at most its origin and path), or
 * undefined when it is.
 */
export function profileUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Only its display form: an address that does not parse may still hold a password or a signed query.
    return `The profile address ${displayUrl(url)} is not a URL: give an https:// address or a file path.`;
  }
  if (u.username || u.password) {
    return `The profile address ${displayUrl(url)} carries a user name or password, which PocketKube never sends: ask for the address without them.`;
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return undefined;
  if (u.protocol === 'http:') return `The profile address ${u.origin} uses http: a team profile must be fetched over https (http is allowed only for this machine: localhost, 127.x.x.x or [::1]).`;
  return `The profile address uses ${u.protocol.replace(/:$/, '')}: give an https:// address or a file path.`;
}

/**
 * An address as messages show it: scheme, host and path; no user name, password, query or fragment, which
 * may carry a secret. (Not `origin`, which is "null" for file: and other non-web schemes.)
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.href;
  } catch {
    // Up to the last '@': a password may hold '/' (which is what made the address unparseable).
    return url.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/is, '$1');
  }
}
