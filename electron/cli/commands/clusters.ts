/** `pocketkube cluster add|list|remove`, `contexts` and `use`: the kubeconfig, as kubectl reads it. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { writeFileAtomic } from '../../core/platform/atomic-file.js';
import { PocketKubeError, UsageError } from '../../core/platform/errors.js';
import { ensureHome, type Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import { err, out, parse } from '../io.js';

const kubeconfig = () => import('../../core/kubeconfig/index.js');

export async function cmdCluster(home: Home, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    const { values, positionals } = parse(rest, {
      provider: { type: 'string' },
      server: { type: 'string' },
      'ca-file': { type: 'string' },
      'from-context': { type: 'string' },
      'from-kubeconfig': { type: 'string' },
      namespace: { type: 'string' },
      use: { type: 'boolean' },
    });
    if (positionals.length > 1) throw new UsageError('cluster add takes one cluster NAME.');
    let name = positionals[0];
    let server = values.server;
    let caData: string | undefined;
    if (values['from-kubeconfig']) {
      // A kubeconfig that `talosctl kubeconfig -` printed: take its cluster's server and CA only.
      const file = values['from-kubeconfig'];
      // stdin as a stream: opening /dev/stdin fails when it is a socket (ENXIO), and does not exist on Windows.
      const text = await (file === '-' ? streamText(process.stdin) : readFile(file, 'utf8')).catch((e: NodeJS.ErrnoException) => {
        throw new PocketKubeError('unreadable_file', `cannot read ${file} (${e.code}); nothing was written.`);
      });
      const { clusterFromKubeconfigText } = await import('../../core/talos/setup.js');
      const c = clusterFromKubeconfigText(text, file === '-' ? 'the kubeconfig on stdin' : file);
      server = c.server;
      caData = c.caData;
      name = name ?? c.name;
    }
    if (!values.provider) throw new UsageError('cluster add needs --provider P.');
    const sources = [values.server, values['from-context'], values['from-kubeconfig']].filter(Boolean).length;
    if (sources !== 1) throw new UsageError('cluster add takes one of --server URL, --from-context CTX or --from-kubeconfig FILE.');
    if (!name && !values['from-context']) throw new UsageError('cluster add needs a cluster NAME (or --from-context CTX).');
    const known = await new ProviderRegistry(home.settingsFile).get(values.provider);
    if (!known) throw new PocketKubeError('unknown_provider', `No provider named ${values.provider}; add it first with \`pocketkube provider add\`.`);
    const { addCluster } = await import('../../core/kubeconfig/cluster.js');
    const res = await addCluster(home, {
      name,
      provider: values.provider,
      server,
      caData,
      caFile: values['ca-file'],
      fromContext: values['from-context'],
      namespace: values.namespace,
      use: values.use,
    });
    out(`${res.changed ? 'Wrote' : 'Already present:'} context ${res.context} (cluster ${res.cluster}, user ${res.user}) in ${res.file}${values.use ? '; it is now current' : ''}.`);
    if (!values.use) out(`Switch to it with \`pocketkube use ${res.context}\`.`);
    return;
  }
  if (sub === 'list') {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
    noArguments('cluster list', positionals);
    const { contexts } = await (await kubeconfig()).listContexts();
    const { suggestClusters } = await import('../../core/talos/setup.js');
    const ours = contexts.filter((c) => c.ours);
    const candidates = suggestClusters(contexts);
    if (values.json) return out(JSON.stringify({ clusters: ours, canAdd: candidates }, null, 2));
    if (!ours.length) out('No PocketKube contexts yet.');
    for (const c of ours) out(`${c.current ? '*' : ' '} ${c.name}\t${c.server ?? c.cluster}\t${c.file}`);
    if (candidates.length) {
      out('\nClusters you can add (server and CA are reused):');
      for (const c of candidates) out(`  pocketkube cluster add --from-context ${c.context} --provider P${c.talos ? '   # talosctl admin context' : ''}`);
    }
    return;
  }
  if (sub === 'remove') {
    const { positionals } = parse(rest, {});
    const ctx = positionals[0];
    if (!ctx || positionals.length > 1) throw new UsageError('cluster remove takes one CONTEXT name (e.g. pocket-id@prod).');
    const res = await (await kubeconfig()).removeContext(ctx);
    if (!res.removed.length) {
      throw new PocketKubeError('unknown_context', `There is no context "${ctx}" in your kubeconfig; \`pocketkube cluster list\` shows PocketKube's contexts. Nothing was written.`);
    }
    out(`Removed ${res.removed.join(', ')}.`);
    return;
  }
  throw new UsageError('cluster takes add, list or remove. See `pocketkube --help`.');
}

/** A command that takes flags only: a stray word is a usage mistake, not something to ignore. */
function noArguments(command: string, positionals: string[]): void {
  if (positionals.length) throw new UsageError(`${command} takes no arguments (got "${positionals[0]}"). See \`pocketkube help ${command.split(' ')[0]}\`.`);
}

export async function cmdContexts(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  noArguments('contexts', positionals);
  const { listContexts, kubeconfigFiles } = await kubeconfig();
  const res = await listContexts();
  if (values.json) return out(JSON.stringify({ files: kubeconfigFiles(), currentContext: res.currentContext ?? null, contexts: res.contexts, errors: res.errors.map((e) => e.message) }, null, 2));
  for (const e of res.errors) err(e.message);
  for (const c of res.contexts) out(`${c.current ? '*' : ' '} ${c.name}${c.ours ? '  (PocketKube)' : ''}\t${c.server ?? c.cluster}\t${c.file}`);
}

/** What `use -` and `ns -` go back to, as kubectx and kubens keep it: one small file in POCKETKUBE_HOME. */
interface Previous {
  context?: string;
  /** Per context, the namespace it had before the last `pocketkube ns`. */
  namespaces?: Record<string, string>;
}

const previousFile = (home: Home) => path.join(home.dir, 'previous.json');

async function readPrevious(home: Home): Promise<Previous> {
  try {
    const v = JSON.parse(await readFile(previousFile(home), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Previous) : {};
  } catch {
    return {}; // none yet, or unreadable: `use -` then says there is nothing to go back to
  }
}

async function savePrevious(home: Home, change: (p: Previous) => void): Promise<void> {
  const p = await readPrevious(home);
  change(p);
  await ensureHome(home);
  await writeFileAtomic(previousFile(home), JSON.stringify(p) + '\n', 0o600);
}

/** kubectx's picker: the contexts on fzf's stdin, the terminal for its screen; undefined when cancelled. */
function pickWithFzf(names: string[], current: string | undefined): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('fzf', ['--reverse', ...(current ? [`--header=current: ${current}`] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    let picked = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (picked += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 && picked.trim() ? picked.trim() : undefined));
    child.stdin.end(names.join('\n') + '\n');
  });
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export async function cmdUse(home: Home, args: string[]): Promise<number | void> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  let name = positionals[0];
  if (positionals.length > 1) throw new UsageError('use takes one CONTEXT (or `-` for the previous one).');
  const { useContext, listContexts } = await kubeconfig();
  if (name === undefined) {
    const res = await listContexts();
    for (const e of res.errors) err(e.message);
    if (values.json) return out(JSON.stringify({ currentContext: res.currentContext ?? null, contexts: res.contexts.map((c) => c.name) }, null, 2));
    if (!process.stdout.isTTY || !onPath('fzf')) {
      if (!res.contexts.length) return out('No contexts yet: add one with `pocketkube cluster add`.');
      for (const c of res.contexts) out(`${c.current ? '*' : ' '} ${c.name}`);
      return;
    }
    name = await pickWithFzf(res.contexts.map((c) => c.name), res.currentContext);
    if (name === undefined) {
      err('No context picked; nothing changed.');
      return 1;
    }
  }
  if (name === '-') {
    const previous = (await readPrevious(home)).context;
    if (!previous) throw new PocketKubeError('no_previous_context', 'There is no previous context yet: `pocketkube use -` goes back to the one before your last `pocketkube use CONTEXT`.');
    name = previous;
  }
  const res = await useContext(name);
  if (res.previous && res.previous !== name) await savePrevious(home, (p) => (p.context = res.previous));
  out(`Switched to context "${name}"${res.previous && res.previous !== name ? ` (was ${res.previous})` : ''}.`);
}

/** `pocketkube ns [NAMESPACE|-]`: the current context's namespace, as kubens shows and sets it. */
export async function cmdNamespace(home: Home, args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length > 1) throw new UsageError('ns takes one NAMESPACE (or `-` for the previous one).');
  const { listContexts, setCurrentNamespace, isNamespaceName } = await kubeconfig();
  let ns = positionals[0];
  if (ns === undefined) {
    const res = await listContexts();
    for (const e of res.errors) err(e.message);
    const current = res.contexts.find((c) => c.current);
    if (!current) throw new PocketKubeError('no_current_context', 'No current context is set, so there is no namespace; pick one with `pocketkube use CONTEXT`.');
    return out(current.namespace ?? 'default');
  }
  if (ns === '-') {
    const { currentContext } = await listContexts();
    const previous = currentContext ? (await readPrevious(home)).namespaces?.[currentContext] : undefined;
    if (!previous) throw new PocketKubeError('no_previous_namespace', `There is no previous namespace for context "${currentContext ?? '(none)'}" yet: \`pocketkube ns -\` goes back to the one before your last \`pocketkube ns NAMESPACE\`.`);
    ns = previous;
  }
  if (!isNamespaceName(ns)) throw new UsageError(`"${ns}" is not a namespace name (lowercase letters, digits and "-", at most 63 characters); nothing was written.`);
  const res = await setCurrentNamespace(ns);
  const was = res.previous ?? 'default';
  if (was !== ns) await savePrevious(home, (p) => (p.namespaces = { ...p.namespaces, [res.context]: was }));
  out(`Context "${res.context}" now uses namespace "${ns}"${was !== ns ? ` (was ${was})` : ''}.`);
}
