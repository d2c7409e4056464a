/** The Talos setup steps as the CLI and the window both run them: provider settings in, checked results out. */
import { readFile } from 'node:fs/promises';
import type { AgentStatus } from '../agent/agent.js';
import type { DoctorRequest, TalosPatchRequest } from '../ipc/schema.js';
import { OidcClient } from '../session/oidc.js';
import { ProviderRegistry, UsageError, type ProviderConfig } from '../session/providers.js';
import type { Home } from '../session/home.js';
import type { AgentClient } from '../socket/client.js';
import { doctor, talosPatch, type DoctorCheck, type TalosPatch } from '../talos/index.js';

export async function providerNamed(home: Home, name: string | undefined): Promise<ProviderConfig> {
  const all = await new ProviderRegistry(home.settingsFile).list();
  if (name) {
    const p = all.find((x) => x.name === name);
    if (!p) throw new UsageError(`No provider named ${name}; add it with \`pocketkube provider add\`.`);
    return p;
  }
  if (all.length === 1) return all[0]!;
  if (!all.length) throw new UsageError('No provider is configured; add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
  throw new UsageError(`Several providers are configured (${all.map((p) => p.name).join(', ')}); name one.`);
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
    talosVersion: req.talosVersion,
    usernameClaim: req.usernameClaim,
    usernamePrefix: req.usernamePrefix,
    groupsPrefix: req.groupsPrefix,
    caPem,
    nodes: req.nodes,
  });
}

/** Doctor's checks, with the signed-in claims from the agent when one runs. */
export async function doctorForProvider(home: Home, client: AgentClient, req: Omit<DoctorRequest, 'provider'> & { provider?: string; groupsPrefix?: string }): Promise<DoctorCheck[]> {
  const provider = await providerNamed(home, req.provider);
  let claims: Record<string, unknown> | undefined;
  try {
    const status = await client.request<AgentStatus>('GET', '/v1/status', undefined, 5_000);
    claims = status.providers.find((p) => p.provider === provider.name)?.claims;
  } catch {
    claims = undefined; // no agent: the checks that need claims say they were skipped
  }
  return doctor({
    provider,
    claims,
    context: req.context,
    expectedGroup: req.group,
    usernameClaim: req.usernameClaim ?? 'sub',
    groupsPrefix: req.groupsPrefix,
  });
}
