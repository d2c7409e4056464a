/** `pocketkube provider add|list|remove`: the providers, through the agent when one runs, else in the files. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PocketKubeError, UsageError } from '../../core/platform/errors.js';
import { ensureHome, type Home } from '../../core/platform/home.js';
import {
  deleteProviderSecrets,
  providerFromInput,
  ProviderRegistry,
  saveProvider,
  validateProviderName,
  type ProviderConfig,
} from '../../core/session/providers.js';
import { FileSecretStore } from '../../core/session/secret-store.js';
import { AgentNotRunningError, type AgentClient } from '../../client/agent-client.js';
import { out, parse } from '../io.js';

/** A running agent owns the secret store (the OS keychain in the tray app): hand it the provider; else save it here. */
export async function saveProviderAnywhere(home: Home, client: AgentClient, provider: ProviderConfig, clientSecret: string | undefined): Promise<void> {
  try {
    await client.addProvider({ ...provider, clientSecret });
  } catch (e) {
    if (!(e instanceof AgentNotRunningError)) throw e;
    await ensureHome(home);
    await saveProvider(new ProviderRegistry(home.settingsFile), new FileSecretStore(home.secretsFile), provider, clientSecret);
  }
}

export async function cmdProvider(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const registry = new ProviderRegistry(home.settingsFile);
  if (sub === 'list') {
    const { values } = parse(rest, { json: { type: 'boolean' } });
    const providers = await registry.list();
    if (values.json) return out(JSON.stringify({ providers }, null, 2));
    if (!providers.length) return out('No providers yet: add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
    for (const p of providers) {
      out(`${p.name}\t${p.issuer}\tclient ${p.clientId}${p.confidential ? ' (confidential)' : ''}\tredirect http://localhost:${p.callbackPort}\tscopes ${p.scopes.join(' ')}`);
    }
    return;
  }
  if (sub === 'add') {
    const { values, positionals } = parse(rest, {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'callback-port': { type: 'string' },
      'ca-file': { type: 'string' },
    });
    const name = validateProviderName(positionals[0] ?? '');
    if (!values.issuer) throw new UsageError('provider add needs --issuer URL (your Pocket ID address).');
    if (!values['client-id']) throw new UsageError('provider add needs --client-id ID (the Client ID from Pocket ID).');
    let clientSecret: string | undefined;
    if (values['client-secret-file']) {
      const f = values['client-secret-file'];
      try {
        clientSecret = (await readFile(f, 'utf8')).trim();
      } catch (e) {
        throw new PocketKubeError('unreadable_file', `cannot read the client secret file ${f} (${(e as NodeJS.ErrnoException).code}); nothing was saved.`);
      }
      if (!clientSecret) throw new PocketKubeError('empty_secret', `the client secret file ${f} is empty; nothing was saved.`);
    }
    const scopes = values.scope?.flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
    const provider = providerFromInput({
      name,
      issuer: values.issuer,
      clientId: values['client-id'],
      confidential: Boolean(clientSecret),
      // openid first, whatever else was asked for.
      scopes: scopes?.length ? [...new Set(['openid', ...scopes])] : undefined,
      callbackPort: values['callback-port'] ? Number(values['callback-port']) : undefined,
      caFile: values['ca-file'] ? path.resolve(values['ca-file']) : undefined,
    });
    await saveProviderAnywhere(home, client, provider, clientSecret);
    out(`Provider ${name} saved: ${provider.issuer}, client ${provider.clientId}${clientSecret ? ' (secret stored)' : ' (public client, PKCE)'}.`);
    out(`Register the callback URL http://localhost:${provider.callbackPort} on the Pocket ID client, then run \`pocketkube login ${name}\`.`);
    return;
  }
  if (sub === 'remove') {
    const { positionals } = parse(rest, {});
    const name = positionals[0];
    if (!name || positionals.length > 1) throw new UsageError('provider remove takes one provider NAME.');
    try {
      await client.removeProvider(name);
    } catch (e) {
      if (!(e instanceof AgentNotRunningError)) throw e;
      if (!(await registry.remove(name))) throw new PocketKubeError('unknown_provider', `No provider named ${name}.`);
      await deleteProviderSecrets(new FileSecretStore(home.secretsFile), name);
    }
    out(`Provider ${name} removed (its stored session and secret too).`);
    return;
  }
  throw new UsageError('provider takes add, list or remove. See `pocketkube --help`.');
}
