/**
 * The `pocketkube://join?profile=<https URL>` link, and what the window asks before joining. Pure functions:
 * the shell (electron/desktop/composition.ts) reads links from macOS `open-url` and from Windows/Linux argv,
 * the window (renderer/views/Join.tsx) shows the plan. They live here because both sides use them.
 */
import { displayUrl, profileUrlProblem, type JoinAction, type JoinChange, type JoinPlan } from './team.js';

export const JOIN_SCHEME = 'pocketkube';
/** Longer than any profile address a person shares; a bigger "link" is not one. */
const MAX_LINK_LENGTH = 4096;
const EXAMPLE = 'pocketkube://join?profile=https://…/team.yaml';

export type JoinLink = { ok: true; profileUrl: string } | { ok: false; problem: string };

/**
 * The profile address of a join link, or the one sentence that says why the link is refused. Tolerates what
 * OSes and chat apps hand over: a trailing slash (`pocketkube://join/?profile=`), `pocketkube:join?…`, upper
 * case scheme or action, the address percent-encoded once or twice, and extra parameters (ignored).
 */
export function parseJoinLink(link: string): JoinLink {
  const text = link.trim();
  const fail = (problem: string): JoinLink => ({ ok: false, problem });
  if (text.length > MAX_LINK_LENGTH) return fail(`This link is ${text.length} characters long, too long for a PocketKube join link; ask whoever shared it for the profile file instead.`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== JOIN_SCHEME) {
    return fail(`This is not a PocketKube link (${scheme ? `it starts with ${scheme}:` : 'it has no scheme'}): a join link looks like ${EXAMPLE}.`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`This PocketKube link cannot be read as a URL: a join link looks like ${EXAMPLE}.`);
  }
  // pocketkube://join?… names the action as the host; pocketkube:join?… and pocketkube:///join?… as the path.
  const action = `${url.host}${url.pathname}`.replace(/^\/+|\/+$/g, '').toLowerCase();
  if (action !== 'join') {
    return fail(`This PocketKube link asks for "${action || 'nothing'}", which PocketKube does not do: only join links (${EXAMPLE}) open the app.`);
  }
  const profiles = url.searchParams.getAll('profile').filter((p) => p.trim() !== '');
  if (profiles.length === 0) return fail(`This join link names no profile: it needs ?profile= followed by the https:// address of the team profile (${EXAMPLE}).`);
  if (profiles.length > 1) return fail(`This join link names ${profiles.length} profiles; it must name exactly one, so ask whoever shared it for the right link.`);
  let address = profiles[0]!.trim();
  // Encoded twice on the way (some chat apps and mail clients do): decode the second layer.
  if (/^[a-z][a-z0-9+.-]*%3a/i.test(address)) {
    try {
      address = decodeURIComponent(address);
    } catch {
      /* left as it is: the URL check below names the problem */
    }
  }
  let profile: URL;
  try {
    profile = new URL(address);
  } catch {
    return fail(`The profile in this join link is not an address: a join link's profile must be an https:// URL (${EXAMPLE}).`);
  }
  if (profile.protocol === 'file:') {
    return fail('This join link points to a file on this computer, which a link may not do: open the file yourself with Setup → Join a team… instead.');
  }
  // https only, loopback included: a link comes from someone else, and http://127.0.0.1 reaches this machine's own servers.
  if (profile.protocol !== 'https:') {
    return fail(`The profile in this join link uses ${profile.protocol.replace(/:$/, '')}: a join link's profile must be an https:// address.`);
  }
  if (profile.username || profile.password) {
    return fail(`The profile address ${displayUrl(profile.href)} in this join link carries a user name or password, which a shared link must not: nothing was read; ask for a link without them.`);
  }
  const problem = profileUrlProblem(profile.href);
  if (problem) return fail(problem);
  return { ok: true, profileUrl: profile.href };
}

/** The join link in a command line (Windows and Linux pass the link as an argument), if there is one. */
export function joinLinkIn(argv: readonly string[]): string | undefined {
  return argv.find((arg) => arg.trim().toLowerCase().startsWith(`${JOIN_SCHEME}:`));
}

/** A join link for a profile address: what an admin shares (the README's "Onboard your team"). */
export function joinLinkFor(profileUrl: string): string {
  return `${JOIN_SCHEME}://join?profile=${encodeURIComponent(profileUrl)}`;
}

/** What the window opens on for a link: the profile to preview, or the sentence saying why the link was refused. */
export type JoinRequest = { profile: string } | { problem: string };

export function joinRequestFor(link: string): JoinRequest {
  const parsed = parseJoinLink(link);
  return parsed.ok ? { profile: parsed.profileUrl } : { problem: parsed.problem };
}

/** The window's `#fragment` for a join request (`#join?profile=…`), read back by `joinRequestFromHash`. */
export function joinHash(request: JoinRequest): string {
  const params = new URLSearchParams('profile' in request ? { profile: request.profile } : { problem: request.problem });
  return `join?${params.toString()}`;
}

export function joinRequestFromHash(hash: string): JoinRequest | undefined {
  const m = /^#?join(?:\?(.*))?$/s.exec(hash);
  if (!m) return undefined;
  const params = new URLSearchParams(m[1] ?? '');
  const profile = params.get('profile');
  if (profile) return { profile };
  return { problem: params.get('problem') || `The join link named no profile (${EXAMPLE}).` };
}

/** One line of the preview: the provider, or one context. */
export interface JoinLine {
  kind: 'provider' | 'context';
  name: string;
  action: JoinAction;
  /** The provider's issuer and client, or the kubeconfig file the context goes to. */
  detail: string;
  /** A context's API server. */
  server?: string;
  changes: JoinChange[];
  /** An issuer or client id change on an existing provider: shown from → to, and confirmed. */
  highlighted: boolean;
}

/** What the window asks for a plan. */
export interface JoinPrompt {
  title: string;
  lines: JoinLine[];
  /** The lines that add or update something (the rest are unchanged). */
  changeCount: number;
  /** Everything is already there as the profile says: joining again only signs in. */
  nothingToChange: boolean;
  /** The button's first press asks again, with `question`. */
  needsConfirmation: boolean;
  question?: string;
  warnings: string[];
}

/** Changes to an existing provider that are asked about: where it signs in, and whom it trusts to be the issuer. */
const CONFIRMED_FIELDS = new Set(['issuer', 'clientId', 'caData']);
const FIELD_WORDS: Record<string, string> = { clientId: 'client id', caData: 'issuer certificate authority' };

/** The preview and the question of the Join view, from the engine's plan. */
export function joinPrompt(plan: JoinPlan): JoinPrompt {
  const providerChanges = plan.provider.action === 'update' ? plan.provider.changes : [];
  const identity = providerChanges.filter((c) => CONFIRMED_FIELDS.has(c.field));
  const lines: JoinLine[] = [
    {
      kind: 'provider',
      name: plan.provider.name,
      action: plan.provider.action,
      detail: `${plan.provider.issuer} · client ${plan.provider.clientId}`,
      changes: plan.provider.action === 'update' ? plan.provider.changes : [],
      highlighted: identity.length > 0,
    },
    ...plan.contexts.map((c): JoinLine => ({
      kind: 'context',
      name: c.name,
      action: c.action,
      detail: c.file,
      server: c.server,
      changes: c.action === 'update' ? c.changes : [],
      highlighted: false,
    })),
  ];
  const changeCount = lines.filter((l) => l.action !== 'unchanged').length;
  // The engine decides; an identity or CA change it did not flag is asked about all the same.
  const needsConfirmation = plan.needsConfirmation || identity.length > 0;
  // Plans from before `reasons` existed: a flagged plan without an identity change was an older revision.
  const older = plan.reasons ? plan.reasons.includes('older-revision') : plan.needsConfirmation && identity.length === 0;
  const parts = [
    identity.length
      ? `This changes the existing provider ${plan.provider.name}: ${identity
          .map((c) => `${FIELD_WORDS[c.field] ?? c.field} from ${c.from ?? '(none)'} to ${c.to ?? '(none)'}`)
          .join(', and ')}. ${identity.some((c) => c.field !== 'caData') ? 'Its sign-ins and every context using it then go to the new one.' : 'Its sign-ins then trust the new certificate authority.'}`
      : '',
    older ? `Revision ${plan.revision} of ${plan.team} is older than the one you joined before (see the warnings), so joining goes back to older settings.` : '',
  ].filter(Boolean);
  const question = needsConfirmation && parts.length ? `${parts.join(' ')} Join anyway?` : undefined;
  return {
    title: `Join ${plan.team}`,
    lines,
    changeCount,
    nothingToChange: changeCount === 0,
    needsConfirmation,
    ...(question ? { question } : {}),
    warnings: plan.warnings,
  };
}
