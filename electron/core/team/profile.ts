/**
 * The team profile as a file: parsed and checked (one sentence per problem), read from a path, standard input
 * or an https address, written as YAML or JSON, and exported from a provider and the contexts that use it.
 * No Electron, no printing: the CLI and the window both call these.
 */
import { X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { Document, parseDocument } from 'yaml';
import { yamlProblem } from '../platform/yaml-error.js';
import { PocketKubeError } from '../platform/errors.js';
import { DEFAULT_CALLBACK_PORT, DEFAULT_SCOPES, isProviderName, normalizeIssuer, type ProviderConfig } from '../session/providers.js';
import { isNamespaceName } from '../kubeconfig/kubeconfig.js';
import {
  displayUrl,
  profileUrlProblem,
  TEAM_PROFILE_API_VERSION,
  TEAM_PROFILE_KIND,
  type TeamCluster,
  type TeamProfile,
  type TeamProvider,
} from '../../shared/team.js';
import { JOIN_SCHEME, parseJoinLink } from '../../shared/join-link.js';
import { ourContexts, readKubeconfigEntries } from './kubeconfig-entries.js';

export type { TeamProfile };
export { displayUrl };

/** A profile is a few kilobytes; anything much larger is not one. */
export const PROFILE_MAX_BYTES = 256 * 1024;
export const PROFILE_FETCH_TIMEOUT_MS = 15_000;

/** Why a team's profile never carries a secret: said wherever one is refused. */
export const PUBLIC_CLIENT_REASON =
  'a team profile is shared with every developer, so a client secret in it would be no secret; make the Pocket ID client public (no secret: PKCE protects each sign-in instead)';

/**
 * Characters a terminal, a log or a kubeconfig would act on instead of show: C0 controls (newline, ESC...),
 * DEL, C1 controls and the bidi overrides and isolates that reorder what a reader sees.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');
/** Line breaks and tabs, which PEM and wrapped base64 hold; no other control character. */
const LAYOUT = /[\t\n\r]/g;
/** A value as a message may quote it: control characters written as \u escapes, never themselves. */
const printable = (s: string): string => s.replace(CONTROL_ALL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** Field names that hold a secret wherever they appear (clientSecret, client_secret, refresh-token, password...). */
const SECRET_FIELD = /secret|password|passwd|token|private[-_]?key|client[-_]?key/i;

function badProfile(where: string, what: string): PocketKubeError {
  return new PocketKubeError('bad-profile', `${where}: ${what}; nothing was changed.`);
}

function tooBig(where: string, maxBytes: number): PocketKubeError {
  return badProfile(where, `is over ${Math.round(maxBytes / 1024)} KiB, far more than a team profile; check that this is the profile file`);
}

/**
 * At most `maxBytes + 1` bytes of a stream (one more than allowed, so that "too large" can be told), then
 * stops: leaving the loop destroys the stream, so /dev/zero or an endless pipe costs 256 KiB, not the memory.
 */
export async function readAtMost(stream: AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    chunks.push(bytes);
    size += bytes.byteLength;
    if (size > maxBytes) break;
  }
  return Buffer.concat(chunks, Math.min(size, maxBytes + 1));
}

/** A profile file's text, read bounded: one sentence when it is missing, unreadable or over `maxBytes`. */
export async function readProfileFile(file: string, maxBytes = PROFILE_MAX_BYTES): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readAtMost(createReadStream(file, { end: maxBytes }), maxBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : code === 'EACCES' ? 'not readable by you' : code;
    throw new PocketKubeError('bad-profile', `Cannot read the team profile ${file} (${hint}): give the profile's file path or https address; nothing was changed.`);
  }
  if (raw.byteLength > maxBytes) throw tooBig(file, maxBytes);
  return raw.toString('utf8');
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `clusters[1].server`: the way a reader finds the field in the file. */
function fieldPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? printable(p) : `.${printable(p)}`)).join('');
}

/** The first field that holds a secret, anywhere in the document, or a PEM private key in any value. */
function findSecret(value: unknown, path: (string | number)[] = []): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findSecret(value[i], [...path, i]);
      if (found) return found;
    }
  } else if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELD.test(k)) return fieldPath([...path, k]);
      const found = findSecret(v, [...path, k]);
      if (found) return found;
    }
  } else if (typeof value === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
    return fieldPath(path);
  }
  return undefined;
}

/** PEM certificates in `pem`, each checked by parsing it; a sentence naming the problem when there is one. */
export function certificateProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      return 'holds a PEM block that is not a valid certificate';
    }
  }
  return undefined;
}

/** The first certificate's SHA-256 fingerprint, short: how a plan shows that a CA changed without printing it. */
export function caFingerprint(pem: string): string {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0];
  try {
    return block ? `CA ${new X509Certificate(block).fingerprint256.slice(0, 23)}` : 'CA (unreadable)';
  } catch {
    return 'CA (unreadable)';
  }
}

class Checker {
  constructor(readonly where: string) {}

  fail(path: (string | number)[], what: string): never {
    throw badProfile(this.where, `${fieldPath(path)} ${what}`);
  }

  map(v: unknown, path: (string | number)[]): Json {
    if (v === undefined || v === null) this.fail(path, 'is missing: every profile has it (see the README, "Onboard your team")');
    if (!isMap(v)) this.fail(path, 'must be a mapping of fields');
    return v;
  }

  only(v: Json, path: (string | number)[], allowed: string[]): void {
    const extra = Object.keys(v).find((k) => !allowed.includes(k));
    if (extra !== undefined) {
      this.fail([...path, extra], `is not a ${TEAM_PROFILE_API_VERSION} profile field (known here: ${allowed.join(', ')}): fix its spelling or remove it`);
    }
  }

  /** A string field; `multiline` lets PEM and wrapped base64 keep their line breaks, never other controls. */
  string(v: Json, path: (string | number)[], key: string, required: true, multiline?: boolean): string;
  string(v: Json, path: (string | number)[], key: string, required: false, multiline?: boolean): string | undefined;
  string(v: Json, path: (string | number)[], key: string, required: boolean, multiline = false): string | undefined {
    const value = v[key];
    if (value === undefined || value === null) {
      if (required) this.fail([...path, key], 'is missing: every profile has it (see the README, "Onboard your team")');
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') this.fail([...path, key], 'must be a non-empty string');
    // Checked before anything quotes or keeps the value: a newline or ESC would fake plan lines or kubeconfig text.
    if (CONTROL.test(multiline ? value.replace(LAYOUT, '') : value)) {
      this.fail([...path, key], 'holds a control character (a line break, an escape or a bidi override), which no value here has: ask your admin for a clean profile');
    }
    return value;
  }

  name(v: Json, path: (string | number)[], key: string, what: string): string {
    const value = this.string(v, path, key, true);
    if (!isProviderName(value)) this.fail([...path, key], `"${value}" is not a valid ${what} name: use letters, digits, '.', '_' or '-' (it becomes a kubeconfig name), at most 63`);
    return value;
  }
}

function checkServer(c: Checker, path: (string | number)[], server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    c.fail(path, `"${server}" is not a URL: give the API server's https address, such as https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'https:') c.fail(path, `${server} is not https: kubectl sends your token only to an https API server, so ask your admin for its https address`);
  if (url.username || url.password || url.search || url.hash) c.fail(path, `${url.origin} must be a plain https address, without credentials, query or fragment`);
  // What the URL parser read, not the raw text: https://host:port (a path kept, the trailing slash dropped), as kubectl takes it.
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function checkProvider(c: Checker, doc: Json): TeamProvider {
  const p = c.map(doc['provider'], ['provider']);
  const path = ['provider'];
  c.only(p, path, ['name', 'issuer', 'clientId', 'scopes', 'callbackPort', 'caData']);
  const name = c.name(p, path, 'name', 'provider');
  const rawIssuer = c.string(p, path, 'issuer', true);
  let issuer: string;
  try {
    issuer = normalizeIssuer(rawIssuer);
  } catch (e) {
    c.fail([...path, 'issuer'], `${(e as Error).message.replace(/^issuer /, '')}`);
  }
  const clientId = c.string(p, path, 'clientId', true);
  if (clientId === issuer || /^https?:\/\//.test(clientId)) {
    c.fail([...path, 'clientId'], 'is a URL, but Pocket ID client ids are the Client ID shown on the OIDC client (a UUID), not the issuer');
  }
  const provider: TeamProvider = { name, issuer, clientId };
  if (p['scopes'] !== undefined) {
    const scopes = p['scopes'];
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
      c.fail([...path, 'scopes'], 'must be a list of scope names without spaces, such as [openid, profile, email, groups]');
    }
    if (!scopes.includes('openid')) c.fail([...path, 'scopes'], 'must include openid (without it Pocket ID issues no ID token)');
    provider.scopes = scopes as string[];
  }
  if (p['callbackPort'] !== undefined) {
    const port = p['callbackPort'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      c.fail([...path, 'callbackPort'], 'must be a TCP port number (1-65535), the port of the callback URL registered on the Pocket ID client');
    }
    provider.callbackPort = port;
  }
  const caData = c.string(p, path, 'caData', false, true);
  if (caData !== undefined) {
    const problem = certificateProblem(caData);
    if (problem) c.fail([...path, 'caData'], `${problem}: give the PEM text of the CA that signed Pocket ID's certificate, or remove the field`);
    provider.caData = caData;
  }
  return provider;
}

function checkCluster(c: Checker, value: unknown, i: number): TeamCluster {
  const path: (string | number)[] = ['clusters', i];
  const v = c.map(value, path);
  c.only(v, path, ['name', 'server', 'certificateAuthorityData', 'namespace', 'group']);
  const name = c.name(v, path, 'name', 'cluster');
  const server = checkServer(c, [...path, 'server'], c.string(v, path, 'server', true));
  const ca = c.string(v, path, 'certificateAuthorityData', true, true).replace(/\s/g, '');
  const pem = /^[A-Za-z0-9+/]*={0,2}$/.test(ca) && ca.length % 4 === 0 ? Buffer.from(ca, 'base64').toString('utf8') : undefined;
  const problem = pem === undefined ? 'is not base64' : certificateProblem(pem);
  if (problem) {
    c.fail([...path, 'certificateAuthorityData'], `${problem}: give the cluster CA as in a kubeconfig's certificate-authority-data (base64 of the PEM), as in the output of \`talosctl kubeconfig -\``);
  }
  const cluster: TeamCluster = { name, server, certificateAuthorityData: ca };
  const namespace = c.string(v, path, 'namespace', false);
  if (namespace !== undefined) {
    if (!isNamespaceName(namespace)) c.fail([...path, 'namespace'], `"${namespace}" is not a namespace name (lowercase letters, digits and '-', at most 63)`);
    cluster.namespace = namespace;
  }
  const group = c.string(v, path, 'group', false);
  if (group !== undefined) cluster.group = group;
  return cluster;
}

/**
 * Parses and checks a profile (YAML, or JSON, which is YAML). `where` names the source in messages (a path,
 * an address, "standard input"). Throws one PocketKubeError `bad-profile` whose sentence says what, where
 * and what to do; a secret anywhere is refused first, with why teams use a public client.
 */
export function parseTeamProfile(text: string, where: string): TeamProfile {
  if (Buffer.byteLength(text) > PROFILE_MAX_BYTES) throw tooBig(where, PROFILE_MAX_BYTES);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    // The same words and line as a kubeconfig's or machine config's error (the line is one the file has).
    const { line, reason } = yamlProblem(text, error, doc);
    throw new PocketKubeError('bad-profile', `${where} line ${line}: not valid YAML or JSON (${reason}); fix the file; nothing was changed.`);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 0 });
  } catch {
    // maxAliasCount 0: an alias could expand a small file into a huge one, and a profile never needs one.
    throw badProfile(where, 'uses YAML aliases (*name), which a team profile does not: write each value out');
  }
  const c: Checker = new Checker(where);
  if (!isMap(js)) throw badProfile(where, `is not a team profile (expected a mapping with apiVersion: ${TEAM_PROFILE_API_VERSION}); check that this is the profile file`);
  const secret = findSecret(js);
  if (secret) throw badProfile(where, `${secret} holds a secret, which a team profile must never carry: ${PUBLIC_CLIENT_REASON}, then export the profile again`);
  if (js['apiVersion'] !== TEAM_PROFILE_API_VERSION) {
    c.fail(['apiVersion'], `${js['apiVersion'] === undefined ? 'is missing' : `"${printable(String(js['apiVersion']))}" is not one this PocketKube reads`} (it reads ${TEAM_PROFILE_API_VERSION}): upgrade PocketKube, or ask your admin for a ${TEAM_PROFILE_API_VERSION} profile`);
  }
  if (js['kind'] !== TEAM_PROFILE_KIND) c.fail(['kind'], `must be ${TEAM_PROFILE_KIND}${js['kind'] === undefined ? '' : `, not "${printable(String(js['kind']))}"`}: check that this is a PocketKube team profile`);
  c.only(js, [], ['apiVersion', 'kind', 'team', 'revision', 'provider', 'clusters']);
  const team = c.name(js, [], 'team', 'team');
  const revision = js['revision'];
  if (revision === undefined) c.fail(['revision'], 'is missing: every profile has it (1 for the first, raised on each change)');
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) c.fail(['revision'], 'must be a whole number from 1, raised by the admin on each change');
  const provider = checkProvider(c, js);
  const clusters = js['clusters'];
  if (clusters === undefined) c.fail(['clusters'], 'is missing: a profile lists at least one cluster');
  if (!Array.isArray(clusters) || clusters.length === 0) c.fail(['clusters'], 'must be a list of at least one cluster');
  const checked = clusters.map((v, i) => checkCluster(c, v, i));
  checked.forEach((cl, i) => {
    const first = checked.findIndex((o) => o.name === cl.name);
    if (first !== i) c.fail(['clusters', i, 'name'], `"${cl.name}" is also the name of clusters[${first}]: each cluster needs its own name (it names the context ${provider.name}@${cl.name})`);
  });
  return { apiVersion: TEAM_PROFILE_API_VERSION, kind: TEAM_PROFILE_KIND, team, revision, provider, clusters: checked };
}

export interface ReadProfileOptions {
  /** The text of standard input, for the source `-`: the caller reads at most `maxBytes + 1` bytes (readAtMost). */
  stdin?: (maxBytes: number) => Promise<string>;
  timeoutMs?: number;
  maxBytes?: number;
  /** Fetch (tests pass one with their CA); the global fetch by default. */
  fetch?: typeof fetch;
}

async function fetchProfileText(url: string, opts: ReadProfileOptions): Promise<{ text: string; where: string }> {
  const where = displayUrl(url);
  const problem = profileUrlProblem(url);
  if (problem) throw new PocketKubeError('bad-profile-url', `${problem} Nothing was changed.`);
  const maxBytes = opts.maxBytes ?? PROFILE_MAX_BYTES;
  const timeoutMs = opts.timeoutMs ?? PROFILE_FETCH_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let at = url;
  // Redirects are followed by hand, so that none leaves https (a captive portal, a downgrade) even for a moment,
  // and none carries a user name or password.
  for (let hops = 0; ; hops++) {
    try {
      res = await (opts.fetch ?? fetch)(at, { signal, redirect: 'manual', headers: { accept: 'application/yaml, application/json, text/plain;q=0.9, */*;q=0.1' } });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      // Only a code (ECONNREFUSED...): fetch's and undici's messages may quote the whole address, query included.
      const why = err.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (err.cause?.code ?? 'the request failed');
      throw new PocketKubeError('profile-unreachable', `Cannot fetch the team profile from ${where} (${why}): check the address and your network, or download the file and join from it; nothing was changed.`);
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (location === null) break;
    await res.body?.cancel();
    let next: string;
    try {
      next = new URL(location, at).href;
    } catch {
      throw new PocketKubeError('bad-profile-url', `${where} redirected to an address that is not a URL: check the address with your admin; nothing was changed.`);
    }
    // Once https, always https: a plain http hop (loopback included) could be read or changed on the way.
    const downgrade = new URL(at).protocol === 'https:' && new URL(next).protocol !== 'https:';
    const problem = downgrade ? 'an https address may only redirect to another https address; ask your admin for the final address.' : profileUrlProblem(next);
    if (problem) throw new PocketKubeError('bad-profile-url', `${where} redirected to ${displayUrl(next)}: ${problem} Nothing was changed.`);
    if (hops === 5) throw new PocketKubeError('profile-unreachable', `${where} redirects more than five times: check the address with your admin; nothing was changed.`);
    at = next;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new PocketKubeError('profile-unreachable', `${where} answered HTTP ${res.status}${res.statusText ? ` (${res.statusText})` : ''}, not a team profile: check the address with your admin; nothing was changed.`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new PocketKubeError('bad-profile', `${where}: the answer is over ${Math.round(maxBytes / 1024)} KiB, far more than a team profile; check the address with your admin; nothing was changed.`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof PocketKubeError) throw e;
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (err.cause?.code ?? 'the connection broke');
    throw new PocketKubeError('profile-unreachable', `Cannot read the team profile from ${where} (${why}); nothing was changed.`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = res.headers.get('content-type') ?? '';
  if (/html/i.test(type) || /^\s*<(!doctype|html|head|body)/i.test(text)) {
    throw new PocketKubeError('bad-profile', `${where} is a web page, not a team profile (a sign-in page, or a link to a page that shows the file?): give the address of the raw file; nothing was changed.`);
  }
  return { text, where };
}

/**
 * Reads a profile from a path, `-` (standard input, through `opts.stdin`), an https address (http only for
 * loopback) or a `pocketkube://join?profile=<https URL>` link, with a time and size limit, and parses it. Every failure is one sentence; nothing is written.
 */
export async function readTeamProfile(source: string, opts: ReadProfileOptions = {}): Promise<{ profile: TeamProfile; source: string }> {
  if (source === '-') {
    if (!opts.stdin) throw new PocketKubeError('bad-profile', 'Reading a team profile from standard input is not possible here: give a file or an https address; nothing was changed.');
    const where = 'standard input';
    const maxBytes = opts.maxBytes ?? PROFILE_MAX_BYTES;
    const text = await opts.stdin(maxBytes);
    if (Buffer.byteLength(text) > maxBytes) throw tooBig(where, maxBytes);
    return { profile: parseTeamProfile(text, where), source: where };
  }
  if (source.trim().toLowerCase().startsWith(`${JOIN_SCHEME}:`)) {
    // The link the app opens, pasted where links do not open: the same parser, so the same rules (https only).
    const link = parseJoinLink(source);
    if (!link.ok) throw new PocketKubeError('bad-profile-url', `${link.problem} Nothing was changed.`);
    const { text, where } = await fetchProfileText(link.profileUrl, opts);
    return { profile: parseTeamProfile(text, where), source: where };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    const { text, where } = await fetchProfileText(source, opts);
    return { profile: parseTeamProfile(text, where), source: where };
  }
  return { profile: parseTeamProfile(await readProfileFile(source, opts.maxBytes), source), source };
}

/** The profile as the file an admin shares: YAML with a comment saying what it is, or JSON. */
export function teamProfileText(profile: TeamProfile, format: 'yaml' | 'json'): string {
  const ordered = orderedProfile(profile);
  if (format === 'json') return JSON.stringify(ordered, null, 2) + '\n';
  const doc = new Document(ordered);
  doc.commentBefore =
    ` PocketKube team profile for ${profile.team}: join with \`pocketkube join FILE\` (README, "Onboard your team").\n` +
    ' It holds no secret: the client is public (PKCE).';
  return doc.toString({ lineWidth: 0 });
}

/** Fields in the README's order, absent optional ones left out. */
function orderedProfile(p: TeamProfile): TeamProfile {
  const provider: TeamProvider = { name: p.provider.name, issuer: p.provider.issuer, clientId: p.provider.clientId };
  if (p.provider.scopes) provider.scopes = [...p.provider.scopes];
  if (p.provider.callbackPort !== undefined) provider.callbackPort = p.provider.callbackPort;
  if (p.provider.caData !== undefined) provider.caData = p.provider.caData;
  return {
    apiVersion: TEAM_PROFILE_API_VERSION,
    kind: TEAM_PROFILE_KIND,
    team: p.team,
    revision: p.revision,
    provider,
    clusters: p.clusters.map((c) => ({
      name: c.name,
      server: c.server,
      certificateAuthorityData: c.certificateAuthorityData,
      ...(c.namespace !== undefined ? { namespace: c.namespace } : {}),
      ...(c.group !== undefined ? { group: c.group } : {}),
    })),
  };
}

export interface ExportDeps {
  /** The providers configured here (settings.json, or the agent's list). */
  providers: () => Promise<ProviderConfig[]>;
  /** The kubeconfig files as kubectl reads them; KUBECONFIG (or ~/.kube/config) by default. */
  kubeconfigFiles?: string[];
  /** Reads a provider's CA file (default: the file system). */
  readCaFile?: (file: string) => Promise<string>;
}

export interface ExportOptions {
  /** The provider to share; the only one when there is one. */
  provider?: string;
  /** Our contexts to include (default: every PocketKube context that uses the provider). */
  contexts?: string[];
  /** The team's name (default: the provider's name). */
  team?: string;
  revision?: number;
  /** The group the clusters' RBAC binds, shown to developers. */
  group?: string;
}

/**
 * Builds the profile for a provider and the PocketKube contexts that use it: server, CA data and namespace
 * from the kubeconfig, the provider's CA file as PEM. A confidential provider is refused (no secret leaves).
 */
export async function exportTeamProfile(deps: ExportDeps, opts: ExportOptions = {}): Promise<TeamProfile> {
  const providers = await deps.providers();
  let p: ProviderConfig | undefined;
  if (opts.provider) {
    p = providers.find((x) => x.name === opts.provider);
    if (!p) throw new PocketKubeError('unknown_provider', `No provider named ${opts.provider} to export; \`pocketkube provider list\` shows the names.`);
  } else if (providers.length === 1) p = providers[0];
  else if (!providers.length) throw new PocketKubeError('unknown_provider', 'No provider is configured, so there is nothing to export; add one with `pocketkube provider add`.');
  else throw new PocketKubeError('unknown_provider', `Several providers are configured (${providers.map((x) => x.name).join(', ')}); name the one to export with --provider.`);
  p = p!;
  if (p.confidential) {
    // Adding it again keeps the stored secret while the client is the same (saveProvider): it must go first.
    const q = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
    const again = [`pocketkube provider add ${q(p.name)} --issuer ${q(p.issuer)} --client-id ${q(p.clientId)}`];
    if (!isDeepStrictEqual(p.scopes, DEFAULT_SCOPES)) again.push(...p.scopes.map((x) => `--scope ${q(x)}`));
    if (p.callbackPort !== DEFAULT_CALLBACK_PORT) again.push(`--callback-port ${p.callbackPort}`);
    if (p.caFile) again.push(`--ca-file ${q(p.caFile)}`);
    throw new PocketKubeError('confidential-provider', `Provider ${p.name} has a client secret, so it cannot be exported: ${PUBLIC_CLIENT_REASON}, then drop the stored secret with \`pocketkube provider remove ${q(p.name)}\` and \`${again.join(' ')}\` (your contexts stay), and export again.`);
  }
  const where = 'the export';
  const provider: TeamProvider = { name: p.name, issuer: p.issuer, clientId: p.clientId };
  if (!isDeepStrictEqual(p.scopes, DEFAULT_SCOPES)) provider.scopes = [...p.scopes];
  if (p.callbackPort !== DEFAULT_CALLBACK_PORT) provider.callbackPort = p.callbackPort;
  if (p.caFile) {
    let pem: string;
    try {
      pem = await (deps.readCaFile ?? ((f) => readFile(f, 'utf8')))(p.caFile);
    } catch (e) {
      throw new PocketKubeError('unreadable_file', `Cannot read provider ${p.name}'s CA file ${p.caFile} (${(e as NodeJS.ErrnoException).code}): fix the file or add the provider again with --ca-file; nothing was exported.`);
    }
    if (certificateProblem(pem)) throw new PocketKubeError('bad-ca', `Provider ${p.name}'s CA file ${p.caFile} ${certificateProblem(pem)}: fix the file or add the provider again with --ca-file; nothing was exported.`);
    provider.caData = pem;
  }
  const entries = await readKubeconfigEntries(deps.kubeconfigFiles);
  const mine = await ourContexts(entries, p.name);
  let picked = mine;
  if (opts.contexts?.length) {
    picked = opts.contexts.map((name) => {
      const found = mine.find((c) => c.context === name);
      if (!found) {
        const other = entries.contexts.get(name);
        throw new PocketKubeError(
          'unknown_context',
          other
            ? `Context ${name} does not use provider ${p!.name} through PocketKube, so it cannot be in its team profile; pick one of: ${mine.map((c) => c.context).join(', ') || '(none yet)'}.`
            : `There is no context ${name}; \`pocketkube cluster list\` shows PocketKube's contexts.`,
        );
      }
      return found;
    });
  }
  if (!picked.length) {
    throw new PocketKubeError('nothing-to-export', `No PocketKube context uses provider ${p.name} yet: add the team's clusters with \`pocketkube cluster add NAME --provider ${p.name} ...\`, then export.`);
  }
  const clusters: TeamCluster[] = picked.map((c) => {
    if (!c.server) throw new PocketKubeError('nothing-to-export', `Context ${c.context}'s cluster ${c.cluster} has no server in ${c.file}; fix it or leave the context out with --context.`);
    if (!c.caData) throw new PocketKubeError('nothing-to-export', `Context ${c.context}'s cluster ${c.cluster} has no CA data in ${c.file} (a developer's kubectl could not check the server); give it certificate-authority-data, or leave the context out with --context.`);
    // The name the admin's context uses (PROVIDER@NAME), so developers get the same context names.
    const name = c.context.startsWith(`${p!.name}@`) ? c.context.slice(p!.name.length + 1) : c.cluster;
    const out: TeamCluster = { name, server: c.server, certificateAuthorityData: c.caData };
    if (c.namespace) out.namespace = c.namespace;
    if (opts.group) out.group = opts.group;
    return out;
  });
  const profile: TeamProfile = {
    apiVersion: TEAM_PROFILE_API_VERSION,
    kind: TEAM_PROFILE_KIND,
    team: opts.team ?? p.name,
    revision: opts.revision ?? 1,
    provider,
    clusters,
  };
  // What we export must be what join accepts: the same checks, so a bad export is caught here, not by the team.
  parseTeamProfile(teamProfileText(profile, 'json'), where);
  return profile;
}
