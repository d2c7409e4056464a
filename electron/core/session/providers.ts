import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { UsageError } from '../platform/errors.js';
import type { ProviderConfig } from '../../shared/api.js';
import { isLoopbackHost } from '../../shared/loopback.js';
import type { SecretStore } from './secret-store.js';

/** A provider is an issuer plus a client; each has one session. Declared with the API's types (it is on the wire). */
export type { ProviderConfig };

export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'groups'];
export const DEFAULT_CALLBACK_PORT = 8000;
const SETTINGS_VERSION = 1;

/** A provider name: letters, digits, '.', '_' or '-', at most 63, not starting with '.', '_' or '-' (it becomes a kubeconfig name). */
export function isProviderName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name);
}

export function validateProviderName(name: string): string {
  if (!isProviderName(name)) {
    throw new UsageError(
      `provider name "${name}" is not allowed: use letters, digits, '.', '_' or '-' (it becomes a kubeconfig user name)`,
    );
  }
  return name;
}

/**
 * A provider name for an issuer nobody named (kubelogin's flags, import-kubelogin): its host, made to pass
 * validateProviderName like a typed name (no leading '-', which a shell command would read as an option;
 * no runs of '-'; at most 56 characters, leaving room for "-2"... when taken).
 */
export function providerNameForIssuer(issuer: string, taken: ReadonlySet<string>): string {
  let host = '';
  try {
    host = new URL(issuer).hostname;
  } catch {
    // normalizeIssuer accepted it before, so this does not happen; the default name stands in.
  }
  // An IP-literal host ([::1]) would leave only digits and dashes: the default name says more.
  const cleaned = host.startsWith('[') ? '' : host.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-{2,}/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56).replace(/[^A-Za-z0-9]+$/, '');
  const base = cleaned || 'pocket-id';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  return validateProviderName(name);
}

/** Issuers are compared exactly by the API server, so keep what the user typed but drop a bare trailing slash. */
export function normalizeIssuer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`issuer "${raw}" is not a URL: give the Pocket ID address, e.g. https://id.example.com`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new UsageError(`issuer "${raw}" must use https (Kubernetes only accepts https issuers)`);
  }
  // Not quoted: the user name and password are the point of refusing it.
  if (url.username || url.password) throw new UsageError(`issuer ${url.origin} must not carry a user name or password (Pocket ID's address has none)`);
  if (url.search || url.hash) throw new UsageError(`issuer "${raw}" must not have a query or fragment`);
  return raw.replace(/\/+$/, '');
}

export function validatePort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UsageError(`callback port ${value} is not a TCP port (1-65535)`);
  }
  return value;
}

/** A provider as a user gives it (CLI flags, the socket API's body, kubelogin's flags), before it is checked. */
export interface ProviderInput {
  name: string;
  issuer: string;
  clientId: string;
  confidential?: boolean;
  /** Empty or absent: the default scopes. */
  scopes?: string[];
  callbackPort?: number;
  caFile?: string;
}

/** The one way a provider is built from input: name, issuer and port checked, defaults filled in. */
export function providerFromInput(input: ProviderInput): ProviderConfig {
  return {
    name: validateProviderName(input.name),
    issuer: normalizeIssuer(input.issuer),
    clientId: input.clientId,
    confidential: input.confidential ?? false,
    scopes: input.scopes?.length ? input.scopes : DEFAULT_SCOPES,
    callbackPort: validatePort(input.callbackPort ?? DEFAULT_CALLBACK_PORT),
    ...(input.caFile ? { caFile: input.caFile } : {}),
  };
}

interface SettingsFile {
  version: number;
  providers: ProviderConfig[];
}

/** settings.json in POCKETKUBE_HOME: the list of providers. Written atomically, mode 0600. */
export class ProviderRegistry {
  constructor(private readonly file: string) {}

  async list(): Promise<ProviderConfig[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: SettingsFile;
    try {
      parsed = JSON.parse(text) as SettingsFile;
    } catch (err) {
      throw new UsageError(`${this.file} is not valid JSON (${(err as Error).message}); fix or remove it`, 'bad_settings');
    }
    if (!parsed || !Array.isArray(parsed.providers)) {
      throw new UsageError(`${this.file} has no "providers" list; fix or remove it`, 'bad_settings');
    }
    if (parsed.version > SETTINGS_VERSION) {
      throw new UsageError(`${this.file} was written by a newer PocketKube (version ${parsed.version}); upgrade PocketKube`, 'bad_settings');
    }
    return parsed.providers.map((p) => ({
      ...p,
      scopes: p.scopes?.length ? p.scopes : DEFAULT_SCOPES,
      callbackPort: p.callbackPort ?? DEFAULT_CALLBACK_PORT,
      confidential: Boolean(p.confidential),
    }));
  }

  /** The provider named, or the only one there is; one sentence saying what to do otherwise. */
  async pick(name?: string): Promise<ProviderConfig> {
    const all = await this.list();
    if (name) {
      const p = all.find((x) => x.name === name);
      if (!p) throw new UsageError(`No provider named ${name}; add it with \`pocketkube provider add\`.`);
      return p;
    }
    if (all.length === 1) return all[0]!;
    if (!all.length) throw new UsageError('No provider is configured; add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
    throw new UsageError(`Several providers are configured (${all.map((p) => p.name).join(', ')}); name one.`);
  }

  async get(name: string): Promise<ProviderConfig | undefined> {
    return (await this.list()).find((p) => p.name === name);
  }

  async save(providers: ProviderConfig[]): Promise<void> {
    const body: SettingsFile = { version: SETTINGS_VERSION, providers };
    await writeFileAtomic(this.file, JSON.stringify(body, null, 2) + '\n', 0o600);
  }

  async upsert(provider: ProviderConfig): Promise<void> {
    const all = (await this.list()).filter((p) => p.name !== provider.name);
    all.push(provider);
    await this.save(all);
  }

  async remove(name: string): Promise<boolean> {
    const all = await this.list();
    const rest = all.filter((p) => p.name !== name);
    if (rest.length === all.length) return false;
    await this.save(rest);
    return true;
  }
}

export const secretKeys = {
  clientSecret: (provider: string) => `provider/${provider}/client-secret`,
  refreshToken: (provider: string) => `provider/${provider}/refresh-token`,
  idToken: (provider: string) => `provider/${provider}/id-token`,
  /** Not a secret, kept beside the ID token it was measured with: this clock minus Pocket ID's, in ms. */
  clockSkew: (provider: string) => `provider/${provider}/clock-skew`,
  /** Not a secret: the issuer and client id the stored tokens were issued to, so they never go anywhere else. */
  tokenOwner: (provider: string) => `provider/${provider}/token-owner`,
  /** The stored session: what signing out (or re-pointing the provider) deletes. */
  session: (provider: string) => [secretKeys.refreshToken(provider), secretKeys.idToken(provider), secretKeys.clockSkew(provider), secretKeys.tokenOwner(provider)],
  /** Every secret kept for a provider: what removing it deletes. */
  all: (provider: string) => [secretKeys.clientSecret(provider), ...secretKeys.session(provider)],
};

/** Who a provider's tokens belong to, as stored beside them. */
export function tokenOwner(provider: Pick<ProviderConfig, 'issuer' | 'clientId'>): string {
  return JSON.stringify({ issuer: provider.issuer, clientId: provider.clientId });
}

/**
 * Saves a provider in settings and its client secret in the store (the agent does this, or the CLI when none
 * runs). A provider re-pointed at another issuer or client id without a new secret becomes public and its old
 * secret is deleted: a secret belongs to one client and must never be sent to another.
 */
export async function saveProvider(registry: ProviderRegistry, store: SecretStore, provider: ProviderConfig, clientSecret?: string): Promise<void> {
  const before = await registry.get(provider.name);
  const repointed = before !== undefined && (before.issuer !== provider.issuer || before.clientId !== provider.clientId);
  if (clientSecret) await store.set(secretKeys.clientSecret(provider.name), clientSecret);
  else if (repointed) await store.delete(secretKeys.clientSecret(provider.name));
  // Same issuer and client without a secret (the socket route or a join updating scopes or the port): the stored
  // secret still belongs to this client, so the provider stays confidential.
  const keepsSecret = !repointed && (provider.confidential || Boolean(before?.confidential));
  await registry.upsert({ ...provider, confidential: Boolean(clientSecret) || keepsSecret });
}

/** Deletes every secret kept for a provider: its client secret and its session. */
export async function deleteProviderSecrets(store: SecretStore, name: string): Promise<void> {
  await Promise.all(secretKeys.all(name).map((key) => store.delete(key)));
}
