/** `pocketkube cluster add|list|remove`, `contexts` and `use`: the kubeconfig, as kubectl reads it. */
import { readFile } from 'node:fs/promises';
import { PocketKubeError, UsageError } from '../../core/platform/errors.js';
import type { Home } from '../../core/platform/home.js';
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
    let name = positionals[0];
    let server = values.server;
    let caData: string | undefined;
    if (values['from-kubeconfig']) {
      // A kubeconfig that `talosctl kubeconfig -` printed: take its cluster's server and CA only.
      const file = values['from-kubeconfig'];
      const text = await readFile(file === '-' ? '/dev/stdin' : file, 'utf8').catch((e: NodeJS.ErrnoException) => {
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
    const { values } = parse(rest, { json: { type: 'boolean' } });
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
    const ctx = rest[0];
    if (!ctx) throw new UsageError('cluster remove needs the CONTEXT name (e.g. pocket-id@prod).');
    const res = await (await kubeconfig()).removeContext(ctx);
    out(`Removed ${res.removed.join(', ') || 'nothing'}.`);
    return;
  }
  throw new UsageError('cluster takes add, list or remove. See `pocketkube --help`.');
}

export async function cmdContexts(args: string[]): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  const { listContexts, kubeconfigFiles } = await kubeconfig();
  const res = await listContexts();
  if (values.json) return out(JSON.stringify({ files: kubeconfigFiles(), currentContext: res.currentContext ?? null, contexts: res.contexts, errors: res.errors.map((e) => e.message) }, null, 2));
  for (const e of res.errors) err(e.message);
  for (const c of res.contexts) out(`${c.current ? '*' : ' '} ${c.name}${c.ours ? '  (PocketKube)' : ''}\t${c.server ?? c.cluster}\t${c.file}`);
}

export async function cmdUse(args: string[]): Promise<void> {
  const name = args[0];
  if (!name) throw new UsageError('use needs a CONTEXT name; list them with `pocketkube contexts`.');
  const res = await (await kubeconfig()).useContext(name);
  out(`Switched to context "${name}"${res.previous && res.previous !== name ? ` (was ${res.previous})` : ''}.`);
}
