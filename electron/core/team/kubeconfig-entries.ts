/**
 * The kubeconfig entries a join plans against and an export reads, merged as kubectl merges the files (the
 * first file that names an entry wins). Reading only: writes go through kubeconfig's addCluster.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveFiles } from '../kubeconfig/files.js';
import { clusterCreatedByUs, isOurs, providerOf } from '../kubeconfig/ours.js';
import type { Entry } from '../kubeconfig/parse.js';
import { readView } from '../kubeconfig/store.js';

export interface KubeconfigEntries {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext?: string;
  /** Where kubectl (and addCluster) put new entries: the first file that exists, else the last one named. */
  target: string;
}

/** Reads every kubeconfig file; one that does not parse stops here with its error (file and line), as a write would. */
export async function readKubeconfigEntries(files?: string[]): Promise<KubeconfigEntries> {
  const { view, errors } = await readView(resolveFiles(files));
  if (errors[0]) throw errors[0];
  const target = (view.files.find((f) => f.exists) ?? view.files[view.files.length - 1])?.path ?? '';
  const out: KubeconfigEntries = { clusters: new Map(), users: new Map(), contexts: new Map(), target };
  for (const f of view.files) {
    for (const e of f.lists.clusters.entries) if (!out.clusters.has(e.name)) out.clusters.set(e.name, e);
    for (const e of f.lists.users.entries) if (!out.users.has(e.name)) out.users.set(e.name, e);
    for (const e of f.lists.contexts.entries) if (!out.contexts.has(e.name)) out.contexts.set(e.name, e);
    if (out.currentContext === undefined && f.currentContext) out.currentContext = f.currentContext;
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export interface OurContext {
  context: string;
  cluster: string;
  file: string;
  server?: string;
  /** certificate-authority-data, or the certificate-authority file read and encoded the same way. */
  caData?: string;
  namespace?: string;
  /** The cluster entry carries PocketKube's mark (we wrote it, so a join may update it). */
  clusterIsOurs: boolean;
}

/** A cluster entry's CA as base64 of the PEM (its data, or its file read), undefined when it has none. */
export async function clusterCaData(cluster: Entry | undefined): Promise<string | undefined> {
  const data = str(cluster?.body['certificate-authority-data']);
  if (data) return data.replace(/\s/g, '');
  const file = str(cluster?.body['certificate-authority']);
  if (!file || !cluster) return undefined;
  try {
    return (await readFile(path.resolve(path.dirname(cluster.file), file))).toString('base64');
  } catch {
    return undefined;
  }
}

/** The PocketKube contexts whose helper runs for `provider`, with their cluster's server, CA and namespace. */
export async function ourContexts(entries: KubeconfigEntries, provider: string): Promise<OurContext[]> {
  const out: OurContext[] = [];
  for (const ctx of entries.contexts.values()) {
    const user = entries.users.get(str(ctx.body['user']) ?? '');
    if (!isOurs(user?.value) || providerOf(user?.value) !== provider) continue;
    const clusterName = str(ctx.body['cluster']) ?? '';
    const cluster = entries.clusters.get(clusterName);
    const item: OurContext = { context: ctx.name, cluster: clusterName, file: ctx.file, clusterIsOurs: clusterCreatedByUs(cluster?.body) };
    const server = str(cluster?.body['server']);
    if (server) item.server = server;
    const caData = await clusterCaData(cluster);
    if (caData) item.caData = caData;
    const ns = str(ctx.body['namespace']);
    if (ns) item.namespace = ns;
    out.push(item);
  }
  return out;
}
