/**
 * `pocketkube talos doctor`: one check per thing that makes kubectl fail with Pocket ID and Talos, each failure with
 * a one-sentence fix. The pitfalls come from /work/shared/facts (issuer mismatch → silent 401, missing groups or a
 * wrong prefix → 403, unverified email, clock skew with kube-apiserver's zero leeway on `exp`).
 */
import { readFile } from 'node:fs/promises';
import * as https from 'node:https';
import { CoreV1Api } from '@kubernetes/client-node';
import { Agent, fetch as undiciFetch } from 'undici';
import { describeKubeError, KubeRequestError, loadKubeconfig, whoamiWith, type LoadedKubeconfig, type WhoAmI } from './kube.js';
import { DEFAULT_PREFIX } from './patch.js';
import { offsetFromDateHeader } from '../platform/clock.js';
import { skewWords } from '../../shared/expiry.js';
import type { DoctorCheck } from '../../shared/talos.js';
export type { DoctorCheck };

export interface DoctorProvider {
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  callbackPort: number;
  caFile?: string;
}

export interface DoctorOptions {
  provider: DoctorProvider;
  /** Claims of the current ID token, when signed in. */
  claims?: Record<string, unknown>;
  context?: string;
  kubeconfigFiles?: string[];
  usernameClaim?: 'sub' | 'email';
  /** Pocket ID group name the user should arrive with, e.g. `kubernetes`. */
  expectedGroup?: string;
  /** Default 'oidc:'. */
  groupsPrefix?: string;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Per HTTP request. Default 10 s. */
  timeoutMs?: number;
  /** Warn above this clock difference. Default 30 s. */
  maxSkewMs?: number;
  /** The agent's estimate of this clock minus Pocket ID's, from the last ID token's iat (the status's `clock`). */
  tokenClock?: { skewSeconds: number; measuredAt: string };
}

const DEFAULT_MAX_SKEW_MS = 30_000;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Fetched {
  status: number;
  body: unknown;
  /** Server's clock from the Date header minus ours at the response, in ms. */
  skewMs?: number;
}

function errorCode(e: unknown): string {
  const err = e as { cause?: { code?: string; message?: string }; code?: string; name?: string; message?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  return err?.cause?.code ?? err?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

/** The first sentence of an error message, without its trailing period, for a detail line. */
function reason(e: unknown): string {
  return (e as Error).message.replace(/\.$/, '');
}

/**
 * What the checks share: the options with their defaults filled in, the provider's HTTP client, and what
 * earlier checks learned (each check reads only what checks before it in CHECKS set).
 */
interface DoctorContext {
  opts: DoctorOptions;
  p: DoctorProvider;
  timeoutMs: number;
  maxSkewMs: number;
  prefix: string;
  usernameClaim: 'sub' | 'email';
  relogin: string;
  /** The checks so far, in order. */
  checks: DoctorCheck[];
  /** GET a JSON document from the provider, trusting what the session trusts. */
  getJson: (url: string) => Promise<Fetched>;
  /** Why the provider's CA file could not be used, when it could not. */
  caProblem?: string;
  discovery?: Json;
  discoveredIssuer?: string;
  /** Pocket ID's clock minus ours, from the first answer with a Date header. */
  skewMs?: number;
  /** The kubeconfig context to check, when the kubeconfig names one. */
  loaded?: LoadedKubeconfig;
  /** The API server answered /version (any HTTP answer counts). */
  reachable?: boolean;
  who?: WhoAmI;
  whoErr?: KubeRequestError;
  /** The API server sees the user outside the expected group. */
  notInGroup?: boolean;
}

type Check = (ctx: DoctorContext) => DoctorCheck | Promise<DoctorCheck>;

export async function doctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const agents: Agent[] = [];
  try {
    const ctx = await contextFor(opts, agents);
    for (const check of CHECKS) ctx.checks.push(await check(ctx));
    return ctx.checks;
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
}

async function contextFor(opts: DoctorOptions, agents: Agent[]): Promise<DoctorContext> {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const p = opts.provider;
  let dispatcher: Agent | undefined;
  let caProblem: string | undefined;
  if (p.caFile) {
    try {
      // Trust exactly what the session trusts: the provider's CA file.
      dispatcher = new Agent({ connect: { ca: await readFile(p.caFile, 'utf8') } });
      agents.push(dispatcher);
    } catch (e) {
      caProblem = `the CA file ${p.caFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? reason(e)})`;
    }
  }
  const getJson = async (url: string): Promise<Fetched> => {
    const started = now();
    const res = await undiciFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), ...(dispatcher ? { dispatcher } : {}) });
    const ended = now();
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep text */
    }
    const skewMs = offsetFromDateHeader(res.headers.get('date'), started, ended);
    return { status: res.status, body, ...(skewMs !== undefined ? { skewMs } : {}) };
  };
  return {
    opts,
    p,
    timeoutMs,
    maxSkewMs: opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    prefix: opts.groupsPrefix ?? DEFAULT_PREFIX,
    usernameClaim: opts.usernameClaim ?? 'sub',
    relogin: `\`pocketkube login ${p.name}\``,
    checks: [],
    getJson,
    ...(caProblem ? { caProblem } : {}),
  };
}

// --- The provider, as PocketKube (and kube-apiserver) reach it ------------------------------------------------------

async function issuerCheck(ctx: DoctorContext): Promise<DoctorCheck> {
  const p = ctx.p;
  const wellKnown = `${p.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  try {
    if (ctx.caProblem) throw new Error(ctx.caProblem);
    const r = await ctx.getJson(wellKnown);
    ctx.skewMs = r.skewMs;
    if (r.status !== 200 || !isRecord(r.body)) throw new Error(`HTTP ${r.status} from ${wellKnown}`);
    const discovery = r.body;
    ctx.discovery = discovery;
    const discoveredIssuer = typeof discovery.issuer === 'string' ? discovery.issuer : undefined;
    ctx.discoveredIssuer = discoveredIssuer;
    if (discoveredIssuer === p.issuer) {
      return { id: 'issuer', title: 'Issuer matches discovery', ok: true, detail: `${wellKnown} says issuer ${p.issuer}, exactly as configured.` };
    }
    const d = discoveredIssuer ?? '(none)';
    const how =
      discoveredIssuer === undefined
        ? 'the discovery document has no issuer'
        : discoveredIssuer.replace(/\/+$/, '') === p.issuer.replace(/\/+$/, '')
          ? 'they differ only by a trailing slash'
          : discoveredIssuer.toLowerCase() === p.issuer.toLowerCase()
            ? 'they differ only in letter case'
            : 'they are different URLs';
    return {
      id: 'issuer',
      title: 'Issuer matches discovery',
      ok: false,
      detail: `Provider ${p.name} is configured with issuer "${p.issuer}" but discovery says "${d}" (${how}); kube-apiserver compares the token's iss byte for byte and answers a bare 401 on any difference.`,
      fix: `Use "${d}" exactly, in PocketKube (pocketkube provider remove ${p.name}, then provider add ${p.name} --issuer ${d} --client-id ${p.clientId}) and in the cluster's OIDC issuer (pocketkube talos patch).`,
    };
  } catch (e) {
    return {
      id: 'issuer',
      title: 'Issuer reachable',
      ok: false,
      detail: `Discovery at ${wellKnown} failed: ${errorCode(e)}.`,
      fix: p.caFile || ctx.caProblem
        ? `Check the issuer URL and that ${p.caFile} is the CA that signed Pocket ID's certificate.`
        : 'Check the issuer URL (Pocket ID\'s APP_URL); for a Pocket ID behind a private CA give its CA with --ca-file.',
    };
  }
}

/** Signing keys: kube-apiserver fetches jwks_uri (INTERNAL_APP_URL) and refuses EdDSA. */
async function jwksCheck(ctx: DoctorContext): Promise<DoctorCheck> {
  const discovery = ctx.discovery;
  const jwksUri = typeof discovery?.jwks_uri === 'string' ? discovery.jwks_uri : undefined;
  if (!discovery) return { id: 'jwks', title: 'Signing keys', ok: 'skipped', detail: 'Skipped: discovery failed.' };
  if (!jwksUri) {
    return { id: 'jwks', title: 'Signing keys', ok: false, detail: 'The discovery document has no jwks_uri.', fix: 'Check that the issuer URL points at Pocket ID itself, not a page in front of it.' };
  }
  try {
    const r = await ctx.getJson(jwksUri);
    ctx.skewMs ??= r.skewMs;
    const keys = isRecord(r.body) && Array.isArray(r.body.keys) ? (r.body.keys as unknown[]).filter(isRecord) : [];
    if (r.status !== 200 || !keys.length) throw new Error(`HTTP ${r.status} with ${keys.length} key(s)`);
    const eddsa = keys.filter((k) => k.kty === 'OKP' || k.alg === 'EdDSA');
    if (eddsa.length === keys.length) {
      return {
        id: 'jwks',
        title: 'Signing keys',
        ok: false,
        detail: `${jwksUri} holds only EdDSA keys, and kube-apiserver accepts RS, ES and PS algorithms only.`,
        fix: 'Rotate Pocket ID\'s signing key to RS256 (the default) or ES256 in its admin settings.',
      };
    }
    const algs = [...new Set(keys.map((k) => String(k.alg ?? k.kty)))].join(', ');
    return { id: 'jwks', title: 'Signing keys', ok: true, detail: `${jwksUri} serves ${keys.length} key(s) (${algs}); the API server must reach this URL too.` };
  } catch (e) {
    return {
      id: 'jwks',
      title: 'Signing keys',
      ok: false,
      detail: `Fetching ${jwksUri} failed: ${errorCode(e)}.`,
      fix: 'Make jwks_uri (Pocket ID\'s INTERNAL_APP_URL) reachable over https from the control-plane nodes and this machine.',
    };
  }
}

/**
 * Clock skew, measured two ways: Pocket ID's Date header now, and the agent's estimate from the last ID token's
 * iat. kube-apiserver allows no leeway on exp; PocketKube schedules from the token's lifetime either way.
 */
function clockCheck(ctx: DoctorContext): DoctorCheck {
  // Both as this machine's clock minus Pocket ID's (positive: ahead).
  const fromDate = ctx.skewMs === undefined ? undefined : -ctx.skewMs;
  const token = ctx.opts.tokenClock;
  const fromToken = token ? token.skewSeconds * 1000 : undefined;
  if (fromDate === undefined && fromToken === undefined) {
    return { id: 'clock', title: 'Clock', ok: 'skipped', detail: 'Skipped: Pocket ID sent no Date header and the agent has no ID token to compare with.' };
  }
  const seen = [
    ...(fromDate !== undefined ? [`by Pocket ID's Date header, about ${Math.round(Math.abs(fromDate) / 1000)} s ${fromDate > 0 ? 'ahead of' : 'behind'} Pocket ID's`] : []),
    ...(fromToken !== undefined ? [`by the agent's last ID token (iat, at ${token!.measuredAt}), ${skewWords(fromToken)} Pocket ID's`] : []),
  ].join('; ');
  const worst = Math.max(Math.abs(fromDate ?? 0), Math.abs(fromToken ?? 0));
  if (worst > ctx.maxSkewMs) {
    return {
      id: 'clock',
      title: 'Clock',
      ok: false,
      detail: `This machine's clock is off (${seen}); PocketKube refreshes by the token's lifetime regardless, but kube-apiserver has zero leeway on exp, and kubectl and other tools compare times with this clock.`,
      fix: 'Turn on time synchronisation (NTP) on this machine, and check the Talos nodes\' time servers (machine.time).',
    };
  }
  return { id: 'clock', title: 'Clock', ok: true, detail: `Within ${Math.max(1, Math.round(worst / 1000))} s of Pocket ID's clock (${seen}).` };
}

/** Callback URL: only Pocket ID's admin can see the registered list. */
function callbackCheck(ctx: DoctorContext): DoctorCheck {
  const p = ctx.p;
  return {
    id: 'callback',
    title: 'Callback URL',
    ok: 'skipped',
    detail: `Not checkable from here: Pocket ID client ${p.clientId} must list exactly http://localhost:${p.callbackPort} as a callback URL (localhost matches any port only when registered without one), or sign-in stops at "Invalid callback URL".`,
  };
}

// --- Scopes and the current ID token --------------------------------------------------------------------------------

const hasScope = (ctx: DoctorContext, scope: string): boolean => ctx.p.scopes.includes(scope);

function addScopeFix(ctx: DoctorContext, scope: string): string {
  const p = ctx.p;
  return `Add the ${scope} scope: pocketkube provider remove ${p.name}, then provider add ${p.name} --issuer ${p.issuer} --client-id ${p.clientId} ${[...new Set([...p.scopes, scope])].map((s) => `--scope ${s}`).join(' ')}; then ${ctx.relogin}.`;
}

function scopesCheck(ctx: DoctorContext): DoctorCheck {
  const scopes = ctx.p.scopes;
  return hasScope(ctx, 'groups')
    ? { id: 'scopes', title: 'Scopes', ok: true, detail: `Requested: ${scopes.join(' ')}.` }
    : { id: 'scopes', title: 'Scopes', ok: false, detail: `Requested: ${scopes.join(' ') || '(none)'}; without "groups" Pocket ID leaves the groups claim out and RBAC on groups answers 403.`, fix: addScopeFix(ctx, 'groups') };
}

function notSignedIn(ctx: DoctorContext): string {
  return `Skipped: not signed in to ${ctx.p.name} (sign in with ${ctx.relogin}).`;
}

function tokenCheck(ctx: DoctorContext): DoctorCheck {
  const { p, opts } = ctx;
  const claims = opts.claims;
  if (!claims) return { id: 'token', title: 'ID token issuer and audience', ok: 'skipped', detail: notSignedIn(ctx) };
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
  const problems: string[] = [];
  if (claims.iss !== p.issuer) problems.push(`iss is ${JSON.stringify(claims.iss)}, not ${JSON.stringify(p.issuer)}`);
  if (!aud.includes(p.clientId)) problems.push(`aud ${JSON.stringify(aud)} lacks ${p.clientId}`);
  return problems.length
    ? { id: 'token', title: 'ID token issuer and audience', ok: false, detail: `The ID token's ${problems.join(' and ')}; kube-apiserver would refuse it (401).`, fix: `Make the issuer and client id match Pocket ID exactly, then ${ctx.relogin}.` }
    : { id: 'token', title: 'ID token issuer and audience', ok: true, detail: `iss ${p.issuer}, aud includes ${p.clientId}.` };
}

function tokenGroupsCheck(ctx: DoctorContext): DoctorCheck {
  const { p, opts } = ctx;
  const title = 'ID token groups';
  if (!opts.claims) return { id: 'token-groups', title, ok: 'skipped', detail: notSignedIn(ctx) };
  const groups = opts.claims.groups;
  if (!Array.isArray(groups)) {
    return {
      id: 'token-groups',
      title,
      ok: false,
      detail: 'The ID token has no groups claim, so the API server sees no OIDC groups and group bindings answer 403.',
      fix: hasScope(ctx, 'groups') ? `Put the user in a Pocket ID group that the client allows, then ${ctx.relogin}.` : addScopeFix(ctx, 'groups'),
    };
  }
  if (opts.expectedGroup && !groups.includes(opts.expectedGroup)) {
    return {
      id: 'token-groups',
      title,
      ok: false,
      detail: `The ID token's groups are [${groups.join(', ')}], without ${opts.expectedGroup}.`,
      fix: `Add the user to the Pocket ID group named ${opts.expectedGroup} (its name, not display name), then \`pocketkube refresh ${p.name}\`.`,
    };
  }
  if (!groups.length) {
    return { id: 'token-groups', title, ok: false, detail: 'The ID token\'s groups claim is empty.', fix: `Add the user to a Pocket ID group, then \`pocketkube refresh ${p.name}\`.` };
  }
  return { id: 'token-groups', title, ok: true, detail: `groups: ${groups.join(', ')} (the API server sees ${groups.map((g) => `${ctx.prefix}${String(g)}`).join(', ')}).` };
}

function emailVerifiedCheck(ctx: DoctorContext): DoctorCheck {
  const { p, opts } = ctx;
  const claims = opts.claims;
  const title = 'Email verified';
  if (ctx.usernameClaim !== 'email') {
    return { id: 'email-verified', title, ok: 'skipped', detail: 'Skipped: the username claim is sub, so email_verified does not matter.' };
  }
  if (!claims) return { id: 'email-verified', title, ok: 'skipped', detail: `Skipped: not signed in to ${p.name}.` };
  if (typeof claims.email !== 'string') {
    return {
      id: 'email-verified',
      title,
      ok: false,
      detail: 'The username claim is email but the ID token has no email, so the API server refuses it (401).',
      fix: hasScope(ctx, 'email') ? `Give the user an email address in Pocket ID, then ${ctx.relogin}.` : addScopeFix(ctx, 'email'),
    };
  }
  if (claims.email_verified !== true) {
    return {
      id: 'email-verified',
      title,
      ok: false,
      detail: `email_verified is ${JSON.stringify(claims.email_verified ?? null)} for ${claims.email}; with username claim email kube-apiserver refuses the token ("oidc: email not verified", 401), and Pocket ID defaults it to false.`,
      fix: `Have a Pocket ID admin mark this user's email as verified and run \`pocketkube refresh ${p.name}\`, or use the sub username claim.`,
    };
  }
  return { id: 'email-verified', title, ok: true, detail: `email_verified is true for ${claims.email}.` };
}

// --- The cluster ----------------------------------------------------------------------------------------------------

async function apiServerCheck(ctx: DoctorContext): Promise<DoctorCheck> {
  const { opts } = ctx;
  try {
    ctx.loaded = loadKubeconfig({ kubeconfigFiles: opts.kubeconfigFiles, context: opts.context });
  } catch (e) {
    if (opts.context) {
      return { id: 'apiserver', title: 'API server reachable', ok: false, detail: reason(e), fix: 'Name an existing context (`pocketkube contexts` lists them).' };
    }
    return { id: 'apiserver', title: 'API server reachable', ok: 'skipped', detail: `Skipped: ${reason(e)}.` };
  }
  const reach = await apiServerVersion(ctx.loaded, ctx.timeoutMs);
  ctx.reachable = reach.ok !== false;
  return reach;
}

/** Why a check that needs the API server is skipped, or undefined when the API server answered. */
function clusterSkip(ctx: DoctorContext): string | undefined {
  if (!ctx.loaded) return 'Skipped: no cluster context to check.';
  if (!ctx.reachable) return 'Skipped: the API server is not reachable.';
  return undefined;
}

/** Earlier failures that each make kube-apiserver answer 401 on their own. */
const CAUSES_OF_401 = ['issuer', 'jwks', 'clock', 'token', 'email-verified'];

async function whoamiCheck(ctx: DoctorContext): Promise<DoctorCheck> {
  const title = 'API server accepts the token';
  const skip = clusterSkip(ctx);
  if (skip) return { id: 'whoami', title, ok: 'skipped', detail: skip };
  const loaded = ctx.loaded!;
  const causesOf401 = ctx.checks.filter((c) => CAUSES_OF_401.includes(c.id) && c.ok === false).map((c) => c.title);
  try {
    const who = await whoamiWith(loaded);
    ctx.who = who;
    return { id: 'whoami', title, ok: true, detail: `Context ${loaded.context} is ${who.username}, groups ${who.groups.join(', ') || '(none)'}.` };
  } catch (e) {
    const whoErr = e instanceof KubeRequestError ? e : describeKubeError(e, loaded, 'say who you are (SelfSubjectReview)');
    ctx.whoErr = whoErr;
    if (whoErr.kind !== 'unauthorized') return { id: 'whoami', title, ok: false, detail: whatOf(whoErr.message), fix: fixOf(whoErr.message) };
    return {
      id: 'whoami',
      title,
      ok: false,
      detail: `401 Unauthorized: the API server could not verify context ${loaded.context}'s token, which is an authentication problem (issuer, audience, CA, clock), not RBAC.`,
      fix: causesOf401.length
        ? `Fix the failures above first (${causesOf401.join('; ')}): each of them alone makes the API server answer 401.`
        : `Make the cluster's OIDC issuer exactly ${ctx.discoveredIssuer ?? ctx.p.issuer} and client id ${ctx.p.clientId}, let kube-apiserver trust Pocket ID's CA and reach its JWKS, and keep clocks in sync (the API server's log names the reason).`,
    };
  }
}

const expectedGroupSeen = (ctx: DoctorContext): string | undefined => (ctx.opts.expectedGroup ? `${ctx.prefix}${ctx.opts.expectedGroup}` : undefined);

/** Groups as the API server sees them. */
function groupCheck(ctx: DoctorContext): DoctorCheck {
  const title = 'Group seen by the API server';
  const skip = clusterSkip(ctx);
  if (skip) return { id: 'group', title, ok: 'skipped', detail: skip };
  const { who, prefix } = ctx;
  const wanted = expectedGroupSeen(ctx);
  if (!who) return { id: 'group', title, ok: 'skipped', detail: 'Skipped: the API server did not say who the token is.' };
  if (!wanted) return { id: 'group', title, ok: 'skipped', detail: 'Skipped: no expected group given (pass the Pocket ID group that RBAC binds).' };
  if (who.groups.includes(wanted)) return { id: 'group', title, ok: true, detail: `${who.username} is in ${wanted}.` };
  ctx.notInGroup = true;
  const bare = ctx.opts.expectedGroup!;
  const otherPrefix = who.groups.find((g) => g !== bare && g.endsWith(bare) && g.length > bare.length);
  const fix = who.groups.includes(bare)
    ? `The cluster adds no groups prefix: set oidc-groups-prefix / claimMappings.groups.prefix to "${prefix}" (pocketkube talos patch), or bind the group without it.`
    : otherPrefix
      ? `The cluster's groups prefix is "${otherPrefix.slice(0, -bare.length)}", not "${prefix}": bind ${otherPrefix}, or patch the cluster with prefix "${prefix}".`
      : `Add the user to the Pocket ID group named ${bare} and run \`pocketkube refresh ${ctx.p.name}\` (groups are read again at refresh).`;
  return { id: 'group', title, ok: false, detail: `${who.username} is in ${who.groups.join(', ') || 'no groups'}, not ${wanted}.`, fix };
}

/** RBAC: authenticated but not allowed is a 403, a missing binding rather than a token problem. */
async function rbacCheck(ctx: DoctorContext): Promise<DoctorCheck> {
  const title = 'RBAC allows access';
  const skip = clusterSkip(ctx);
  if (skip) return { id: 'rbac', title, ok: 'skipped', detail: skip };
  const { who, loaded, prefix, opts } = ctx;
  if (!who) {
    return {
      id: 'rbac',
      title,
      ok: 'skipped',
      detail: ctx.whoErr?.kind === 'unauthorized' ? 'Skipped: with a 401 the request never reaches RBAC.' : 'Skipped: the API server did not accept the credentials.',
    };
  }
  try {
    const api = loaded!.kc.makeApiClient(CoreV1Api);
    await api.listNamespace({ limit: 1 });
    return { id: 'rbac', title, ok: true, detail: `${who.username} may list namespaces.` };
  } catch (e) {
    const err = describeKubeError(e, loaded!, 'list namespaces');
    if (err.kind !== 'forbidden') return { id: 'rbac', title, ok: false, detail: whatOf(err.message), fix: fixOf(err.message) };
    const wanted = expectedGroupSeen(ctx);
    return {
      id: 'rbac',
      title,
      ok: false,
      detail: `403 Forbidden: the token was accepted (${who.username}) but no RBAC binding lets it list namespaces, which is an authorization problem, not the token.`,
      fix: ctx.notInGroup
        ? `The user is not in ${wanted} (see above): add them to that Pocket ID group, or from an admin context bind a group they are in with \`pocketkube talos rbac --group G --apply --context admin@NAME\`.`
        : opts.expectedGroup
          ? `From an admin context run \`pocketkube talos rbac --group ${opts.expectedGroup} --apply --context admin@NAME\`, which binds ${wanted}.`
          : `From an admin context run \`pocketkube talos rbac --group G --apply --context admin@NAME\`, G being the Pocket ID group's name (the subject becomes ${prefix}G).`,
    };
  }
}

/** Every check, in the order they run and are shown; a check may use what the ones before it learned. */
const CHECKS: Check[] = [
  issuerCheck,
  jwksCheck,
  clockCheck,
  callbackCheck,
  scopesCheck,
  tokenCheck,
  tokenGroupsCheck,
  emailVerifiedCheck,
  apiServerCheck,
  whoamiCheck,
  groupCheck,
  rbacCheck,
];

/** The "what (why)" half of one of our error messages. */
function whatOf(message: string): string {
  const i = message.indexOf('): ');
  return i >= 0 ? `${message.slice(0, i + 1)}.` : message;
}

/** Our error messages are "what (why): fix."; the fix is what follows the first ": " after the closing parenthesis. */
function fixOf(message: string): string {
  const i = message.indexOf('): ');
  const rest = i >= 0 ? message.slice(i + 3) : message;
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** GET /version with the cluster's TLS settings and no credentials: any HTTP answer means reachable. */
async function apiServerVersion(loaded: LoadedKubeconfig, timeoutMs: number): Promise<DoctorCheck> {
  const c = loaded.cluster;
  const title = 'API server reachable';
  let ca: string | undefined;
  try {
    ca = c.caData ? Buffer.from(c.caData, 'base64').toString('utf8') : c.caFile ? await readFile(c.caFile, 'utf8') : undefined;
  } catch (e) {
    return { id: 'apiserver', title, ok: false, detail: `The cluster CA file ${c.caFile} cannot be read (${(e as NodeJS.ErrnoException).code}).`, fix: `Fix certificate-authority of cluster ${c.name} in the kubeconfig.` };
  }
  try {
    const { status, text } = await httpsGet(`${c.server}/version`, { ...(ca ? { ca } : {}), rejectUnauthorized: !c.skipTLSVerify, ...(c.tlsServerName ? { servername: c.tlsServerName } : {}) }, timeoutMs);
    if (status === 200) {
      let version = '';
      try {
        const v = JSON.parse(text) as { gitVersion?: string };
        version = v.gitVersion ? `Kubernetes ${v.gitVersion} ` : '';
      } catch {
        /* not JSON */
      }
      return { id: 'apiserver', title, ok: true, detail: `${version}answers at ${c.server} (context ${loaded.context}).` };
    }
    if (status === 401 || status === 403) {
      return { id: 'apiserver', title, ok: true, detail: `Answers at ${c.server} (HTTP ${status} to an anonymous /version; Talos 1.14 allows anonymous requests on health paths only).` };
    }
    return { id: 'apiserver', title, ok: false, detail: `${c.server}/version answered HTTP ${status}.`, fix: 'Check that the kubeconfig\'s server is the Kubernetes API endpoint (port 6443), not the Talos API (50000).' };
  } catch (e) {
    const code = errorCode(e);
    const tls = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(code);
    return {
      id: 'apiserver',
      title,
      ok: false,
      detail: `${c.server} cannot be reached from context ${loaded.context}: ${code}.`,
      fix: tls
        ? `Set the kubeconfig's certificate-authority-data for cluster ${c.name} to the cluster CA (\`talosctl kubeconfig\` writes it).`
        : 'Check the server address (cluster.controlPlane.endpoint / KubeClusterConfig endpoint) and that the control plane is up.',
    };
  }
}

/** node:https rather than fetch: fetch refuses some ports outright, and an API server may listen on any. */
function httpsGet(url: string, tls: https.RequestOptions, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, agent: false, timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 64 * 1024) text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Text for the CLI: one line per check, the fix indented below a failure. */
export function formatChecks(checks: DoctorCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    const mark = c.ok === true ? '✔' : c.ok === false ? '✖' : '–';
    lines.push(`${mark} ${c.title}: ${c.detail}`);
    if (c.ok === false && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.ok === false).length;
  lines.push(failed ? `${failed} problem${failed === 1 ? '' : 's'} found.` : 'No problems found.');
  return lines.join('\n');
}
