/**
 * Joining a team: what a profile would change here (planJoin, a pure decision over the providers, the
 * kubeconfig and the last join of that team) and doing it (applyJoin: the issuer checked against its
 * discovery document first, then every context in one write of the same writer as `cluster add`, then the provider).
 * Starting the sign-in is the caller's: the CLI opens the browser as `pocketkube login` does, the window its way.
 *
 * What is the user's, and so never changed by a join: contexts and clusters not named by the profile, any
 * cluster entry a context other than the team's uses or the team's last join did not write (a new context gets
 * an entry of its own, PROVIDER@CLUSTER; an existing one stops the join), another tool's entries (a name clash
 * stops the join), a context's namespace the user changed since the team's last join (or that was set before
 * any join), and a provider's own CA file when the profile names no CA.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { addClusters } from '../kubeconfig/cluster.js';
import { where } from '../kubeconfig/errors.js';
import { clusterCreatedByUs, isOurs, providerOf } from '../kubeconfig/ours.js';
import { describeOidcError } from '../oidc/oidc.js';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { PocketKubeError } from '../platform/errors.js';
import { ensureHome, type Home } from '../platform/home.js';
import { DEFAULT_CALLBACK_PORT, DEFAULT_SCOPES, providerFromInput, type ProviderConfig } from '../session/providers.js';
import type { JoinChange, JoinPlan, JoinReason, JoinResult, TeamProfile, TeamProvider } from '../../shared/team.js';
import { clusterCaData, readKubeconfigEntries, type KubeconfigEntries } from './kubeconfig-entries.js';
import { caFingerprint } from './profile.js';

export interface JoinDeps {
  home: Home;
  /** The kubeconfig files as kubectl reads them; KUBECONFIG (or ~/.kube/config) by default. */
  kubeconfigFiles?: string[];
  /** The providers configured here (settings.json, or the agent's list). */
  providers: () => Promise<ProviderConfig[]>;
  /**
   * Adds or replaces a provider. The CLI goes through the running agent (it owns the secret store) and falls
   * back to the files; the window calls its agent. Either way saveProvider's rules apply (a re-pointed
   * provider loses its stored client secret).
   */
  saveProvider: (provider: ProviderConfig) => Promise<void>;
  /** Checks the issuer against its discovery document; openid-client discovery by default. */
  checkIssuer?: (provider: TeamProvider) => Promise<void>;
  readCaFile?: (file: string) => Promise<string>;
  now?: () => Date;
}

/** What a join leaves in POCKETKUBE_HOME/teams/TEAM.json: the profile last joined, to tell the user's changes from ours. */
export interface JoinRecord {
  team: string;
  revision: number;
  source: string;
  joinedAt: string;
  profile: TeamProfile;
}

const teamsDir = (home: Home) => path.join(home.dir, 'teams');
export const joinRecordPath = (home: Home, team: string) => path.join(teamsDir(home), `${team}.json`);
/** The issuer's CA from a profile, as the file the provider's caFile names. */
export const issuerCaPath = (home: Home, provider: string) => path.join(teamsDir(home), `${provider}-issuer-ca.pem`);

async function ensureTeamsDir(home: Home): Promise<void> {
  await ensureHome(home);
  await mkdir(teamsDir(home), { recursive: true, mode: 0o700 });
}

export async function readJoinRecord(home: Home, team: string): Promise<JoinRecord | undefined> {
  try {
    const v = JSON.parse(await readFile(joinRecordPath(home, team), 'utf8')) as JoinRecord;
    return v && typeof v.revision === 'number' && v.profile ? v : undefined;
  } catch {
    return undefined; // never joined (or the record is unreadable: every namespace then counts as the user's)
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const samePem = (a: string, b: string) => a.replace(/\s/g, '') === b.replace(/\s/g, '');
const pemOf = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

async function providerChanges(existing: ProviderConfig, want: TeamProvider, readCa: (f: string) => Promise<string>): Promise<JoinChange[]> {
  const changes: JoinChange[] = [];
  if (existing.issuer !== want.issuer) changes.push({ field: 'issuer', from: existing.issuer, to: want.issuer });
  if (existing.clientId !== want.clientId) changes.push({ field: 'clientId', from: existing.clientId, to: want.clientId });
  const scopes = want.scopes ?? DEFAULT_SCOPES;
  if (!isDeepStrictEqual(existing.scopes, scopes)) changes.push({ field: 'scopes', from: existing.scopes.join(' '), to: scopes.join(' ') });
  const port = want.callbackPort ?? DEFAULT_CALLBACK_PORT;
  if (existing.callbackPort !== port) changes.push({ field: 'callbackPort', from: String(existing.callbackPort), to: String(port) });
  if (want.caData !== undefined) {
    const have = existing.caFile ? await readCa(existing.caFile).catch(() => undefined) : undefined;
    if (have === undefined || !samePem(have, want.caData)) {
      changes.push({ field: 'caData', ...(have !== undefined ? { from: caFingerprint(have) } : {}), to: caFingerprint(want.caData) });
    }
  }
  return changes;
}

/** The sentence for an entry another tool (or the user) wrote under a name the profile needs. */
function clashSentence(kind: string, name: string, file: string, what: string): string {
  return `${kind} ${JSON.stringify(name)} in ${where(file)} ${what}`;
}

/** The contexts whose `field` (cluster or user) names `entry`. */
function contextsUsing(entries: KubeconfigEntries, field: 'cluster' | 'user', entry: string): string[] {
  return [...entries.contexts.values()].filter((x) => str(x.body[field]) === entry).map((x) => x.name);
}

/**
 * What joining `profile` would do here, before anything is written: the provider and each context as
 * add/update/unchanged with the fields that change, whether it needs confirming, and warnings. A name
 * another tool owns is a clash: one sentence (PocketKubeError `join-clash`), and nothing is planned.
 */
export async function planJoin(deps: JoinDeps, profile: TeamProfile, source: string): Promise<JoinPlan> {
  const readCa = deps.readCaFile ?? ((f: string) => readFile(f, 'utf8'));
  const want = profile.provider;
  const warnings: string[] = [];
  const all = await deps.providers();
  const existing = all.find((p) => p.name === want.name);
  const twin = all.find((p) => p.name !== want.name && p.issuer === want.issuer && p.clientId === want.clientId);
  if (twin && !existing) {
    warnings.push(`Provider ${twin.name} already signs in to ${want.issuer} with this client; the team's provider ${want.name} will be a second one with its own sign-in (remove ${twin.name} with \`pocketkube provider remove ${twin.name}\` if you no longer use it).`);
  }
  const pChanges = existing ? await providerChanges(existing, want, readCa) : [];
  const repointed = pChanges.some((c) => c.field === 'issuer' || c.field === 'clientId');
  if (existing?.confidential && repointed) {
    warnings.push(`Provider ${want.name}'s stored client secret will be removed: the team's client is public (PKCE), and a secret must not follow a provider to another issuer or client.`);
  }
  if (repointed) warnings.push(`Provider ${want.name} will point at ${want.issuer} (client ${want.clientId}) instead of ${existing!.issuer} (client ${existing!.clientId}); you will sign in again.`);
  // The issuer's CA is what PocketKube trusts to be the issuer: swapping it is as weighty as the issuer itself.
  const caSwap = pChanges.find((c) => c.field === 'caData');
  if (caSwap) {
    warnings.push(`Provider ${want.name} will trust ${caSwap.from ? 'another' : 'a'} certificate authority for ${want.issuer} (${caSwap.from ? `${caSwap.from} becomes ` : ''}${caSwap.to}): confirm only if your admin told you the issuer's certificate changed.`);
  }

  const record = await readJoinRecord(deps.home, profile.team);
  const older = record !== undefined && profile.revision < record.revision;
  if (older) {
    warnings.push(`This profile is revision ${profile.revision} of ${profile.team}, older than revision ${record.revision} you joined on ${record.joinedAt.slice(0, 10)} from ${record.source}: joining it goes back to older settings.`);
  }

  const entries = await readKubeconfigEntries(deps.kubeconfigFiles);
  const clashes: string[] = [];
  const user = entries.users.get(want.name);
  if (user && !isOurs(user.value)) {
    clashes.push(clashSentence('user', want.name, user.file, 'is another tool\'s (it is not PocketKube\'s helper), and the team\'s provider needs that name: rename that user in your kubeconfig'));
  } else if (user && providerOf(user.value) !== undefined && providerOf(user.value) !== want.name) {
    const users = contextsUsing(entries, 'user', want.name);
    clashes.push(clashSentence('user', want.name, user.file, `runs PocketKube's helper for provider ${providerOf(user.value)}${users.length ? ` (for ${users.join(', ')})` : ''}, and the team's provider needs that name: rename that user (and the contexts using it) in your kubeconfig`));
  }
  // The entries this team's last join wrote (for this provider): the only ones a join may change.
  const recorded = new Set(record?.profile.provider.name === want.name ? record.profile.clusters.map((x) => `${want.name}@${x.name}`) : []);
  /** A cluster entry the team may rewrite: our mark, and used by no context but this team's `context`, as joined last time. */
  const teamOwns = (entry: string, context: string) => {
    const users = contextsUsing(entries, 'cluster', entry);
    return recorded.has(context) && users.every((u) => u === context) && clusterCreatedByUs(entries.clusters.get(entry)?.body);
  };
  const contexts: JoinPlan['contexts'] = [];
  for (const c of profile.clusters) {
    const name = `${want.name}@${c.name}`;
    const changes: JoinChange[] = [];
    const ctx = entries.contexts.get(name);
    // The cluster entry: the one the team's context uses; for a new context the profile's name, unless that
    // entry is someone else's (another team's, the user's, another tool's): then one of its own, PROVIDER@CLUSTER.
    const entryName = ctx ? (str(ctx.body['cluster']) ?? c.name) : !entries.clusters.has(c.name) || teamOwns(c.name, name) ? c.name : name;
    if (!ctx && entryName !== c.name) {
      const users = contextsUsing(entries, 'cluster', c.name);
      warnings.push(`Your kubeconfig already has a cluster named ${c.name}${users.length ? ` (used by ${users.join(', ')})` : ''}, which this join leaves as it is: ${name} gets a cluster entry of its own, named ${name}.`);
    }
    const cluster = entries.clusters.get(entryName);
    if (ctx && (!isOurs(entries.users.get(str(ctx.body['user']) ?? '')?.value) || str(ctx.body['user']) !== want.name || !cluster)) {
      clashes.push(clashSentence('context', name, ctx.file, `already exists for cluster ${JSON.stringify(str(ctx.body['cluster']) ?? '')} and user ${JSON.stringify(str(ctx.body['user']) ?? '')}: rename it with \`kubectl config rename-context\``));
      continue;
    }
    if (cluster) {
      const server = str(cluster.body['server']);
      const caData = str(cluster.body['certificate-authority-data'])?.replace(/\s/g, '');
      const sameServer = server === c.server;
      const sameCa = caData === c.certificateAuthorityData && !cluster.body['insecure-skip-tls-verify'];
      if (sameServer && sameCa) {
        // Nothing to change in it.
      } else if (teamOwns(entryName, name)) {
        if (!sameServer) changes.push({ field: 'server', ...(server ? { from: server } : {}), to: c.server });
        if (!sameCa) {
          const before = await clusterCaData(cluster);
          changes.push({ field: 'certificateAuthorityData', ...(before ? { from: caFingerprint(pemOf(before)) } : {}), to: caFingerprint(pemOf(c.certificateAuthorityData)) });
        }
      } else {
        const users = contextsUsing(entries, 'cluster', entryName);
        const why = !clusterCreatedByUs(cluster.body) ? 'is another tool\'s' : recorded.has(name) ? `is also used by ${users.filter((u) => u !== name).join(', ')}` : `was not written by joining ${profile.team}`;
        clashes.push(clashSentence('cluster', entryName, cluster.file, `(used by ${users.join(', ') || 'no context'}) ${why}, and the team's cluster ${c.name} has ${sameServer ? 'a different CA' : `server ${c.server}, not ${server ?? '(none)'}`}: a join changes no cluster that other contexts use, so delete context ${name} (\`kubectl config delete-context ${name}\`) and join again to give it a cluster of its own`));
      }
    }
    let namespace: string | undefined = c.namespace;
    if (ctx) {
      const have = str(ctx.body['namespace']);
      namespace = have;
      if (c.namespace !== undefined && have !== c.namespace) {
        // The namespace is ours to change only while it is what the team's last join wrote.
        const wrote = record?.profile.clusters.find((x) => x.name === c.name);
        if (wrote && have === wrote.namespace) {
          changes.push({ field: 'namespace', ...(have ? { from: have } : {}), to: c.namespace });
          namespace = c.namespace;
        } else {
          warnings.push(`Context ${name} keeps your namespace ${have ?? 'default'} (the profile suggests ${c.namespace}).`);
        }
      }
    }
    const action = !ctx ? 'add' : changes.length ? 'update' : 'unchanged';
    contexts.push({
      name,
      cluster: entryName,
      server: c.server,
      file: ctx?.file ?? entries.target,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(c.group !== undefined ? { group: c.group } : {}),
      action,
      changes,
    });
  }
  if (clashes.length) {
    const more = clashes.length > 1 ? ` (and ${clashes.length - 1} more name clash${clashes.length > 2 ? 'es' : ''})` : '';
    throw new PocketKubeError('join-clash', `Cannot join ${profile.team}: ${clashes[0]}${more}; nothing was written.`);
  }
  const providerAction = !existing ? 'add' : pChanges.length ? 'update' : 'unchanged';
  const changesAnything = providerAction !== 'unchanged' || contexts.some((c) => c.action !== 'unchanged');
  const plan: JoinPlan = {
    source,
    team: profile.team,
    revision: profile.revision,
    provider: { name: want.name, issuer: want.issuer, clientId: want.clientId, action: providerAction, changes: pChanges },
    contexts,
    needsConfirmation: false,
    warnings,
    profileDigest: profileDigest(profile),
  };
  const reasons: JoinReason[] = [];
  if (repointed) reasons.push('provider-identity');
  if (caSwap) reasons.push('issuer-ca');
  if (older && changesAnything) reasons.push('older-revision');
  plan.needsConfirmation = reasons.length > 0;
  plan.reasons = reasons;
  if (entries.currentContext === undefined && contexts.some((c) => c.action === 'add')) {
    plan.currentContext = contexts.find((c) => c.action === 'add')!.name;
  }
  return plan;
}

/** Why `plan` needs confirming, as words after "Joining TEAM" (e.g. "changes where provider pid signs in and goes back to an older revision"). */
export function confirmationWords(plan: JoinPlan): string {
  const words: Record<JoinReason, string> = {
    'provider-identity': `changes where provider ${plan.provider.name} signs in`,
    'issuer-ca': `changes the certificate authority provider ${plan.provider.name} trusts for its issuer`,
    'older-revision': 'goes back to an older revision',
  };
  const parts = (plan.reasons ?? []).map((r) => words[r]);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'changes what was joined before');
}

/** JSON with object keys sorted: the same value gives the same text however it was built or sent. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const profileDigest = (profile: TeamProfile) => createHash('sha256').update(canonical(profile)).digest('hex');

/**
 * Checks that the issuer's discovery document names this issuer exactly (as kube-apiserver will compare
 * it), trusting the profile's CA when it has one. Throws one sentence; writes nothing.
 */
export async function checkIssuerDiscovery(provider: TeamProvider, timeoutMs = 15_000): Promise<void> {
  const url = new URL(provider.issuer);
  const options: client.DiscoveryRequestOptions = { timeout: timeoutMs / 1000 };
  if (url.protocol === 'http:') options.execute = [client.allowInsecureRequests];
  const dispatcher = provider.caData ? new Agent({ connect: { ca: provider.caData } }) : undefined;
  if (dispatcher) options[client.customFetch] = ((input: string, init: RequestInit) => undiciFetch(input, { ...init, dispatcher } as never)) as never;
  try {
    await client.discovery(url, provider.clientId, undefined, client.None(), options);
  } catch (err) {
    const cause = (err as { code?: string; cause?: { attribute?: string; body?: { issuer?: unknown } } }).cause;
    if ((err as { code?: string }).code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && cause?.attribute === 'issuer') {
      const said = typeof cause.body?.issuer === 'string' ? cause.body.issuer : '(none)';
      throw new PocketKubeError('issuer-check-failed', `${provider.issuer}/.well-known/openid-configuration names the issuer ${said}, not ${provider.issuer} as the profile says: kube-apiserver and PocketKube compare issuers exactly, so ask your admin to correct the profile's provider.issuer; nothing was written.`);
    }
    const e = describeOidcError(err, `Checking ${provider.issuer}/.well-known/openid-configuration`, provider.issuer);
    throw new PocketKubeError('issuer-check-failed', `${e.message.replace(/\.$/, '')}; the issuer is checked before anything is written, so nothing was written.`);
  } finally {
    await dispatcher?.close();
  }
}

/**
 * Does what `plan` showed: checks the issuer's discovery document, then writes every context in one
 * transaction of `cluster add`'s writer, then adds or updates the provider, then records the join. The plan is made again first: if
 * what it would do changed since the user saw it, or it needs confirming and `confirmed` is not set, nothing
 * is written. The caller starts the sign-in and fills in `signedIn` / `signIn`.
 */
export async function applyJoin(deps: JoinDeps, profile: TeamProfile, plan: JoinPlan, opts: { confirmed?: boolean } = {}): Promise<JoinResult> {
  const fresh = await planJoin(deps, profile, plan.source);
  // Every field of the plan, and the digest of every field of the profile: the user agreed to all of it.
  if (canonical(fresh) !== canonical(plan)) {
    throw new PocketKubeError('plan-changed', `What joining ${profile.team} would change is no longer what was shown (the profile, the providers or the kubeconfig changed since): look at the plan again and confirm; nothing was written.`);
  }
  if (fresh.needsConfirmation && !opts.confirmed) {
    throw new PocketKubeError('needs-confirmation', `Joining ${profile.team} ${confirmationWords(fresh)}, which must be confirmed: run it on a terminal and answer y, or pass --yes; nothing was written.`);
  }
  const record = await readJoinRecord(deps.home, profile.team);
  const changes = fresh.provider.action !== 'unchanged' || fresh.contexts.some((c) => c.action !== 'unchanged');
  // Joined already, as it is: nothing to check, and not a byte to write.
  if (!changes && record?.revision === profile.revision) return { plan: fresh, signedIn: false };
  await (deps.checkIssuer ?? checkIssuerDiscovery)(profile.provider);

  const want = profile.provider;
  // Every context in one kubeconfig write (one backup: the file before the join; all of it or nothing), and
  // only then the provider: a write that fails leaves neither.
  const toWrite = fresh.contexts.filter((ctx) => ctx.action !== 'unchanged').map((ctx) => {
    const c = profile.clusters.find((x) => `${want.name}@${x.name}` === ctx.name)!;
    const setNamespace = ctx.action === 'add' ? c.namespace : ctx.changes.some((ch) => ch.field === 'namespace') ? c.namespace : undefined;
    return { provider: want.name, name: c.name, clusterEntry: ctx.cluster, server: c.server, caData: c.certificateAuthorityData, namespace: setNamespace, use: ctx.name === fresh.currentContext };
  });
  await addClusters(deps.home, toWrite, deps.kubeconfigFiles);

  if (fresh.provider.action !== 'unchanged') {
    const existing = (await deps.providers()).find((p) => p.name === want.name);
    let caFile = existing?.caFile;
    if (want.caData !== undefined && (!existing || fresh.provider.changes.some((c) => c.field === 'caData'))) {
      await ensureTeamsDir(deps.home);
      caFile = issuerCaPath(deps.home, want.name);
      await writeFileAtomic(caFile, want.caData.endsWith('\n') ? want.caData : `${want.caData}\n`, 0o600);
    }
    const repointed = fresh.provider.changes.some((c) => c.field === 'issuer' || c.field === 'clientId');
    const provider = providerFromInput({
      name: want.name,
      issuer: want.issuer,
      clientId: want.clientId,
      // A provider the user made confidential keeps its secret while it points at the same client.
      confidential: repointed ? false : (existing?.confidential ?? false),
      scopes: want.scopes,
      callbackPort: want.callbackPort,
      caFile,
    });
    await deps.saveProvider(provider);
  }

  const joined: JoinRecord = { team: profile.team, revision: profile.revision, source: plan.source, joinedAt: (deps.now?.() ?? new Date()).toISOString(), profile };
  await ensureTeamsDir(deps.home);
  await writeFileAtomic(joinRecordPath(deps.home, profile.team), JSON.stringify(joined, null, 2) + '\n', 0o600);
  return { plan: fresh, signedIn: false };
}
