/**
 * Adding a cluster, as the CLI's `cluster add` and the window's Add cluster both do it: one PocketKube
 * context whose user runs the credential helper for the provider.
 */
import path from 'node:path';
import { helperExec } from '../credential/helper-path.js';
import type { Home } from '../platform/home.js';
import { addContext, addContexts, type AddContextOptions, type AddContextResult } from './index.js';

export interface ClusterToAdd {
  provider: string;
  /** The cluster name (from an existing context, that context's cluster is used). */
  name?: string;
  server?: string;
  caFile?: string;
  caData?: string;
  /** Reuse this existing context's cluster entry (e.g. talosctl's admin@NAME) as it is. */
  fromContext?: string;
  namespace?: string;
  use?: boolean;
  /** The cluster entry's name when it is not `name` (see AddContextOptions.clusterEntry). */
  clusterEntry?: string;
}

function contextOptions(home: Home, cluster: ClusterToAdd, files?: string[]): AddContextOptions {
  return {
    files,
    name: cluster.name ?? '',
    provider: cluster.provider,
    server: cluster.fromContext ? undefined : cluster.server,
    caFile: cluster.caFile ? path.resolve(cluster.caFile) : undefined,
    caData: cluster.caData,
    fromContext: cluster.fromContext,
    clusterEntry: cluster.clusterEntry,
    namespace: cluster.namespace,
    use: cluster.use,
    exec: helperExec(home, cluster.provider),
  };
}

export function addCluster(home: Home, cluster: ClusterToAdd, files?: string[]): Promise<AddContextResult> {
  return addContext(contextOptions(home, cluster, files));
}

/** Several clusters in one kubeconfig write (a team join): one backup of the files as they were, and all or nothing. */
export function addClusters(home: Home, clusters: ClusterToAdd[], files?: string[]): Promise<AddContextResult[]> {
  return addContexts(clusters.map((c) => contextOptions(home, c, files)));
}
