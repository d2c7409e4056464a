/** `pocketkube import-kubelogin`: kubelogin users in the kubeconfig become PocketKube users. */
import { helperExec } from '../../core/credential/helper-path.js';
import type { Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import type { AgentClient } from '../../client/agent-client.js';
import { err, out, parse } from '../io.js';
import { saveProviderAnywhere } from './providers.js';

const kubeconfig = () => import('../../core/kubeconfig/index.js');

/** Turns kubelogin users (the seed guide's `kubectl oidc-login get-token …`) into PocketKube users. */
export async function cmdImportKubelogin(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { values } = parse(args, { 'dry-run': { type: 'boolean' } });
  const { importKubelogin } = await kubeconfig();
  const registry = new ProviderRegistry(home.settingsFile);
  const request = async (dryRun: boolean) =>
    importKubelogin({ dryRun, exec: (provider) => helperExec(home, provider), providers: await registry.list() });
  // Plan first: the providers must exist before any user is pointed at them.
  const plan = await request(true);
  for (const u of plan.found) {
    if (u.skipped) err(`skipped user ${u.name} in ${u.file}${u.line ? ` line ${u.line}` : ''}: ${u.skipped}`);
  }
  const usable = plan.found.filter((u) => !u.skipped);
  if (!usable.length) {
    out(plan.found.length ? 'Nothing to import.' : 'No kubelogin users (kubectl oidc-login / kubelogin get-token) in your kubeconfig.');
    return;
  }
  for (const u of usable) out(`user ${u.name} (${u.file}) -> provider ${u.provider}${u.newProvider ? ' (new)' : ''}`);
  if (values['dry-run']) {
    for (const p of plan.providersToAdd) out(`would add provider ${p.name}: ${p.issuer}, client ${p.clientId}${p.clientSecret ? ' (secret stored in PocketKube, not the kubeconfig)' : ''}`);
    out(plan.diff);
    return;
  }
  for (const p of plan.providersToAdd) {
    const { clientSecret, ...rest } = p;
    const provider = { ...rest, confidential: Boolean(clientSecret) };
    await saveProviderAnywhere(home, client, provider, clientSecret);
    out(`added provider ${p.name}: ${p.issuer}, client ${p.clientId}${clientSecret ? ' (secret stored)' : ''}`);
  }
  const done = await request(false);
  out(`Rewrote ${usable.length} user(s) in ${done.changed.join(', ') || 'no file'}; backups: ${done.backups.join(', ') || 'none'}.`);
  const names = [...new Set(usable.map((u) => u.provider).filter(Boolean))];
  out(`Sign in once with ${names.map((n) => `\`pocketkube login ${n}\``).join(', ')}.`);
}
