/** `pocketkube team export` and `pocketkube join FILE|URL|-`: a team profile out, and in, through core/team. */
import { createInterface } from 'node:readline/promises';
import { displayPath } from '../../core/kubeconfig/errors.js';
import { writeFileAtomic } from '../../core/platform/atomic-file.js';
import { PocketKubeError, UsageError } from '../../core/platform/errors.js';
import { ensureHome, type Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import { AgentNotRunningError, type AgentClient } from '../../client/agent-client.js';
import type { JoinPlan } from '../../shared/team.js';
import { colourOn, err, out, paintLines, parse } from '../io.js';
import { saveProviderAnywhere } from './providers.js';

export async function cmdTeam(home: Home, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'export') throw new UsageError('team takes export. See `pocketkube help team`.');
  const { values, positionals } = parse(rest, {
    provider: { type: 'string' },
    context: { type: 'string', multiple: true },
    team: { type: 'string' },
    revision: { type: 'string' },
    group: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length) throw new UsageError(`team export takes no argument ("${positionals[0]}"): name the provider with --provider and the contexts with --context.`);
  const format = values.format ?? (values.output?.endsWith('.json') ? 'json' : 'yaml');
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format ${format} is not one of yaml, json.`);
  let revision: number | undefined;
  if (values.revision !== undefined) {
    revision = Number(values.revision);
    if (!Number.isSafeInteger(revision) || revision < 1) throw new UsageError(`--revision ${values.revision} is not a whole number from 1 (raise it on each change of the profile).`);
  }
  const { exportTeamProfile, teamProfileText } = await import('../../core/team/profile.js');
  const registry = new ProviderRegistry(home.settingsFile);
  const profile = await exportTeamProfile(
    { providers: () => registry.list() },
    { provider: values.provider, contexts: values.context, team: values.team, revision, group: values.group },
  );
  const text = teamProfileText(profile, format);
  if (!values.output || values.output === '-') return out(text);
  // A profile holds no secret: readable by others, like any file meant to be shared.
  await writeFileAtomic(values.output, text, 0o644).catch((e: NodeJS.ErrnoException) => {
    throw new PocketKubeError('unwritable_file', `Cannot write the team profile to ${values.output} (${e.code ?? e.message}): give a path in a folder you can write to; nothing was written.`);
  });
  err(`Wrote the team profile for ${profile.team} (revision ${profile.revision}, provider ${profile.provider.name}, ${profile.clusters.length} cluster${profile.clusters.length === 1 ? '' : 's'}) to ${values.output}; developers join with \`pocketkube join ${values.output}\` (or from an https address where you publish it).`);
}

const MARK: Record<string, string> = { add: '+', update: '~', unchanged: '=' };

/** The plan as `join --dry-run` and the prompt show it: one line per provider and context, changes beneath. */
export function formatJoinPlan(plan: JoinPlan): string {
  const lines = [`Team ${plan.team}, revision ${plan.revision}, from ${plan.source}:`];
  const p = plan.provider;
  lines.push(`  ${MARK[p.action]} provider ${p.name}  ${p.issuer}  client ${p.clientId}  (${p.action})`);
  for (const ch of p.changes) lines.push(`      ${ch.field}: ${ch.from ?? '(none)'} -> ${ch.to ?? '(none)'}`);
  for (const c of plan.contexts) {
    const extra = [c.namespace ? `namespace ${c.namespace}` : '', c.group ? `group ${c.group}` : ''].filter(Boolean).join(', ');
    lines.push(`  ${MARK[c.action]} context ${c.name}  ${c.server}${extra ? `  ${extra}` : ''}  (${c.action}, ${displayPath(c.file)})`);
    for (const ch of c.changes) lines.push(`      ${ch.field}: ${ch.from ?? '(none)'} -> ${ch.to ?? '(none)'}`);
  }
  if (plan.currentContext) lines.push(`  ${plan.currentContext} becomes the current context (there is none yet).`);
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}

const changesAnything = (plan: JoinPlan) => plan.provider.action !== 'unchanged' || plan.contexts.some((c) => c.action !== 'unchanged');

/** Standard input, at most `maxBytes + 1` bytes: an endless pipe (`cat /dev/zero |`) is refused, not loaded. */
async function readStdin(maxBytes: number): Promise<string> {
  const { readAtMost } = await import('../../core/team/profile.js');
  return (await readAtMost(process.stdin, maxBytes)).toString('utf8');
}

/** Asks once on the terminal; anything but y/yes is no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}

export async function cmdJoin(home: Home, client: AgentClient, args: string[]): Promise<number | void> {
  const { values, positionals } = parse(args, {
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    'no-sign-in': { type: 'boolean' },
    'no-browser': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('join takes one profile: a FILE, an https URL, or - for standard input (e.g. `pocketkube join team.yaml`).');
  const { readTeamProfile } = await import('../../core/team/profile.js');
  const { applyJoin, confirmationWords, planJoin } = await import('../../core/team/join.js');
  const { profile, source } = await readTeamProfile(positionals[0]!, { stdin: readStdin });
  const registry = new ProviderRegistry(home.settingsFile);
  const deps = {
    home,
    providers: () => registry.list(),
    saveProvider: (p: Parameters<typeof saveProviderAnywhere>[2]) => saveProviderAnywhere(home, client, p, undefined),
  };
  const plan = await planJoin(deps, profile, source);
  out(paintLines(formatJoinPlan(plan), colourOn()));
  if (values['dry-run']) {
    out('Dry run: nothing was written.');
    return;
  }
  const name = profile.provider.name;
  if (changesAnything(plan) && !values.yes) {
    const terminal = Boolean(process.stdin.isTTY && process.stderr.isTTY) && positionals[0] !== '-';
    if (terminal) {
      if (!(await confirm(`Join ${profile.team}${plan.needsConfirmation ? `, which ${confirmationWords(plan)} (see above)` : ''}? [y/N] `))) {
        err('Nothing was changed.');
        return 1;
      }
    } else if (plan.needsConfirmation) {
      throw new PocketKubeError('needs-confirmation', `Joining ${profile.team} changes an existing provider or goes back to an older revision (see above), which must be confirmed: run it on a terminal to answer, or pass --yes; nothing was written.`);
    }
  }
  await ensureHome(home);
  const result = await applyJoin(deps, profile, plan, { confirmed: true });
  const added = result.plan.contexts.filter((c) => c.action === 'add').length;
  const updated = result.plan.contexts.filter((c) => c.action === 'update').length;
  const did = [
    result.plan.provider.action !== 'unchanged' ? `provider ${name} ${result.plan.provider.action === 'add' ? 'added' : 'updated'}` : '',
    added ? `${added} context${added === 1 ? '' : 's'} added` : '',
    updated ? `${updated} context${updated === 1 ? '' : 's'} updated` : '',
  ].filter(Boolean);
  out(did.length ? `Joined ${profile.team} (revision ${profile.revision}): ${did.join(', ')}${result.plan.currentContext ? `; ${result.plan.currentContext} is now current` : ''}.` : `Already joined ${profile.team} (revision ${profile.revision}): nothing changed.`);
  if (values['no-sign-in']) {
    out(`Sign in with \`pocketkube login ${name}\`.`);
    return;
  }
  let signedIn: boolean;
  try {
    signedIn = (await client.provider(name)).state === 'signed-in';
  } catch (e) {
    if (e instanceof AgentNotRunningError) {
      throw new PocketKubeError('agent_not_running', `Joined ${profile.team}, but signing in needs the agent: start the PocketKube app or \`pocketkube agent\`, then run \`pocketkube login ${name}\`.`);
    }
    throw e;
  }
  if (signedIn) {
    out(`Already signed in to ${name}.`);
    return;
  }
  const { cmdLogin } = await import('./session.js');
  await cmdLogin(home, client, [name, ...(values['no-browser'] ? ['--no-browser'] : [])]);
}
