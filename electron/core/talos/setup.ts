/** The Talos setup steps as the CLI and the window both run them: provider settings in, checked results out. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ContextInfo } from '../kubeconfig/index.js';
import type { AgentStatus } from '../../shared/api.js';
import type { DoctorRequest, TalosPatchRequest } from '../../shared/ipc.js';
import { OidcClient } from '../oidc/oidc.js';
import { UsageError } from '../platform/errors.js';
import { ProviderRegistry, type ProviderConfig } from '../session/providers.js';
import type { Home } from '../platform/home.js';
import { doctor, talosPatch, type DoctorCheck, type TalosPatch } from './index.js';

export function providerNamed(home: Home, name: string | undefined): Promise<ProviderConfig> {
  return new ProviderRegistry(home.settingsFile).pick(name);
}

/** The patch for the cluster's shape, with the issuer exactly as Pocket ID's discovery states it. */
export async function patchForProvider(home: Home, req: Omit<TalosPatchRequest, 'provider'> & { provider?: string }): Promise<TalosPatch> {
  const provider = await providerNamed(home, req.provider);
  // kube-apiserver compares the issuer byte for byte: take it from the discovery document, not from settings.
  const issuer = (await new OidcClient(provider, undefined).config()).serverMetadata().issuer;
  const caPem = provider.caFile ? await readFile(provider.caFile, 'utf8') : undefined;
  return talosPatch({
    issuer,
    clientId: provider.clientId,
    machineConfigText: req.machineConfigText,
    machineConfigName: req.machineConfigName,
    talosVersion: req.talosVersion,
    usernameClaim: req.usernameClaim,
    usernamePrefix: req.usernamePrefix,
    groupsPrefix: req.groupsPrefix,
    caPem,
    nodes: req.nodes,
  });
}

/**
 * Doctor's checks, with the signed-in claims from the agent when one runs. `agentStatus` asks the agent (the
 * caller's client); when it fails, the checks that need claims say they were skipped.
 */
export async function doctorForProvider(
  home: Home,
  agentStatus: () => Promise<AgentStatus>,
  req: Omit<DoctorRequest, 'provider'> & { provider?: string; groupsPrefix?: string; kubeconfigFiles?: string[] },
): Promise<DoctorCheck[]> {
  const provider = await providerNamed(home, req.provider);
  let claims: Record<string, unknown> | undefined;
  let tokenClock: AgentStatus['providers'][number]['clock'];
  try {
    const status = await agentStatus();
    const snap = status.providers.find((p) => p.provider === provider.name);
    claims = snap?.claims;
    tokenClock = snap?.clock;
  } catch {
    claims = undefined; // no agent: the checks that need claims say they were skipped
  }
  return doctor({
    provider,
    claims,
    tokenClock,
    context: req.context,
    kubeconfigFiles: req.kubeconfigFiles,
    expectedGroup: req.group,
    usernameClaim: req.usernameClaim ?? 'sub',
    groupsPrefix: req.groupsPrefix,
  });
}

/** The first cluster of a kubeconfig that `talosctl kubeconfig -` printed: its name, server and CA, nothing else. */
export function clusterFromKubeconfigText(text: string, where = 'that kubeconfig'): { name?: string; server: string; caData?: string } {
  let doc: { clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[] };
  try {
    doc = parseYaml(text) as typeof doc;
  } catch (err) {
    throw new UsageError(`${where} does not parse (${(err as Error).message.split('\n')[0]}); nothing was written.`);
  }
  const first = doc?.clusters?.[0];
  if (!first?.cluster?.server) throw new UsageError(`${where} has no cluster with a server; nothing was written.`);
  return { name: first.name, server: first.cluster.server, caData: first.cluster['certificate-authority-data'] };
}

export interface ClusterSuggestion {
  /** The context to add from, e.g. admin@prod. */
  context: string;
  cluster: string;
  server?: string;
  /** Made by `talosctl kubeconfig` (admin@NAME, or a renamed admin@NAME-1 leftover). */
  talos: boolean;
}

/**
 * Contexts the user already has that PocketKube can offer as its own: talosctl's admin@NAME first, then
 * any other, skipping clusters a PocketKube context already uses.
 */
export function suggestClusters(contexts: ContextInfo[]): ClusterSuggestion[] {
  const covered = new Set(contexts.filter((c) => c.ours).map((c) => c.cluster));
  const seen = new Set<string>();
  const out: ClusterSuggestion[] = [];
  for (const c of contexts) {
    if (c.ours || covered.has(c.cluster) || seen.has(c.cluster)) continue;
    seen.add(c.cluster);
    const talos = /^admin@.+$/.test(c.name) && (c.name === `admin@${c.cluster}` || /^admin@.+-\d+$/.test(c.name) || c.user === c.name);
    out.push({ context: c.name, cluster: c.cluster, server: c.server, talos });
  }
  return out.sort((a, b) => Number(b.talos) - Number(a.talos) || a.context.localeCompare(b.context));
}
