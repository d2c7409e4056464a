/**
 * A team profile: what a cluster admin shares so a developer joins in one step (`pocketkube team export`,
 * `pocketkube join FILE|URL|-`, `pocketkube://join?profile=<https URL>`). Types and pure URL rules only; the
 * engine (core/team) parses, plans and applies, the CLI and the window show the plan. A profile never holds a
 * secret: teams use a public client (PKCE).
 */

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
 * Where a profile may be fetched from: https, or http on a loopback host only. Returns the sentence to show
 * when `url` is not allowed, or undefined when it is.
 */
export function profileUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `The profile address "${url}" is not a URL: give an https:// address or a file path.`;
  }
  if (u.protocol === 'https:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (u.protocol === 'http:' && loopback) return undefined;
  if (u.protocol === 'http:') return `The profile address ${u.origin} uses http: a team profile must be fetched over https (http is allowed only for localhost).`;
  return `The profile address uses ${u.protocol.replace(/:$/, '')}: give an https:// address or a file path.`;
}
