import path from 'node:path';
import { DEFAULT_CALLBACK_PORT, DEFAULT_SCOPES, normalizeIssuer, providerNameForIssuer } from '../session/providers.js';
import { unifiedDiff } from './diff.js';
import { resolveFiles } from './files.js';
import { checkExec, execBody, lineOfEntry, type ExecSpec } from './kubeconfig.js';
import { isOurs } from './ours.js';
import type { FileEditor } from './edit.js';
import type { Entry, Json, KubeFile } from './parse.js';
import { backupPath, planEdits, transact, type Plan, type View, type WriteOptions } from './store.js';

/**
 * `pocketkube import-kubelogin`: find kubeconfig users that run kubelogin (`kubectl oidc-login get-token`
 * or `kubelogin get-token`, like the Talos guide's), work out the providers they use, and rewrite those
 * users to PocketKube's helper in place: same user name, every other byte of the files untouched, through
 * the same locked, backed-up, re-checked write as every other change.
 */

export interface KubeloginUser {
  /** The kubeconfig user's name (kept as it is, so contexts naming it keep working). */
  name: string;
  /** The file holding it, and the line where its entry starts. */
  file: string;
  line?: number;
  form: 'kubectl oidc-login' | 'kubelogin';
  /** The exec command as written ('' when missing, as in the Talos guide's example). */
  command: string;
  issuer?: string;
  clientId?: string;
  /** Whether it passes a client secret (the secret itself is only in providersToAdd, never here). */
  hasClientSecret: boolean;
  extraScopes: string[];
  /** The loopback port kubelogin listened on (--listen-address, --listen-port or --oidc-redirect-url). */
  callbackPort?: number;
  /** Names (never values) of the exec's env entries, which PocketKube's helper does not take over. */
  env: string[];
  /** The provider this user runs PocketKube's helper for (now, or after the import). */
  provider?: string;
  /** True when that provider is one of providersToAdd. */
  newProvider?: boolean;
  /** Why this user is left as it is, in one sentence; undefined when it is (or would be) rewritten. */
  skipped?: string;
  /** Things worth knowing about the import of this user (flags PocketKube does not carry over, ...). */
  notes: string[];
}

export interface ProviderToAdd {
  name: string;
  issuer: string;
  clientId: string;
  /** For the caller's secret store; PocketKube never writes it into a kubeconfig. */
  clientSecret?: string;
  scopes: string[];
  callbackPort: number;
  /** kubelogin's --certificate-authority: a CA file to trust for the issuer. */
  caFile?: string;
}

export interface ImportKubeloginOptions {
  files?: string[];
  /** Plan and return the diff; write nothing. */
  dryRun?: boolean;
  /** PocketKube's helper exec for a provider (absolute command, like addContext's). */
  exec: (provider: string) => ExecSpec;
  /** Providers PocketKube already has: a user with the same issuer and client ID reuses one. */
  providers: { name: string; issuer: string; clientId: string }[];
}

export interface ImportKubeloginResult {
  found: KubeloginUser[];
  providersToAdd: ProviderToAdd[];
  /** Unified diff of every file the import changes (or would change), client secrets shown as ***. */
  diff: string;
  /** Files changed (or, with dryRun, that would change). */
  changed: string[];
  /** Backups written (`<file>.pocketkube.bak`); empty with dryRun. */
  backups: string[];
}

// ---- reading kubelogin's command line -------------------------------------------------------------

/** kubelogin's get-token flags that never take a separate value (pflag booleans). */
const BOOL_FLAGS = new Set([
  'oidc-use-pkce',
  'oidc-use-access-token',
  'force-refresh',
  'force-keyring',
  'no-keyring',
  'skip-open-browser',
  'insecure-skip-tls-verify',
  'help',
]);

interface Flags {
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  extraScopes: string[];
  listenAddresses: string[];
  listenPorts: string[];
  redirectUrl?: string;
  caFiles: string[];
  caData: boolean;
  grantType?: string;
  useAccessToken: boolean;
  insecure: boolean;
}

function truthy(v: string): boolean {
  return v === '' || /^(?:1|t|true|TRUE|True)$/.test(v);
}

/** StringSlice values: comma-separated, each flag use adds to the list (pflag reads them as CSV). */
function csv(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter((s) => s !== '');
}

/** Parse get-token's flags, both `--flag=value` and `--flag value`, as pflag does. */
function parseFlags(args: string[]): Flags {
  const f: Flags = { extraScopes: [], listenAddresses: [], listenPorts: [], caFiles: [], caData: false, useAccessToken: false, insecure: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    let value: string;
    if (eq !== -1) value = body.slice(eq + 1);
    else if (BOOL_FLAGS.has(name)) value = 'true';
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i]!;
    else value = '';
    switch (name) {
      case 'oidc-issuer-url':
        f.issuer = value;
        break;
      case 'oidc-client-id':
        f.clientId = value;
        break;
      case 'oidc-client-secret':
        f.clientSecret = value;
        break;
      case 'oidc-extra-scope':
        f.extraScopes.push(...csv(value));
        break;
      case 'listen-address':
        f.listenAddresses.push(...csv(value));
        break;
      case 'listen-port':
        f.listenPorts.push(...csv(value));
        break;
      case 'oidc-redirect-url':
        f.redirectUrl = value;
        break;
      case 'certificate-authority':
        f.caFiles.push(...csv(value));
        break;
      case 'certificate-authority-data':
        f.caData = true;
        break;
      case 'grant-type':
        f.grantType = value;
        break;
      case 'oidc-use-access-token':
        f.useAccessToken = truthy(value);
        break;
      case 'insecure-skip-tls-verify':
        f.insecure = truthy(value);
        break;
    }
  }
  return f;
}

function validPort(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** kubelogin listens on the first --listen-address it can bind; Pocket ID must accept that port. */
function callbackPortOf(f: Flags): number | undefined {
  const addr = f.listenAddresses[0];
  if (addr !== undefined) return validPort(addr.slice(addr.lastIndexOf(':') + 1));
  if (f.listenPorts[0] !== undefined) return validPort(f.listenPorts[0]);
  if (f.redirectUrl) {
    try {
      const u = new URL(f.redirectUrl);
      return validPort(u.port || (u.protocol === 'https:' ? '443' : '80'));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Program name without directory or Windows extension. */
function programName(command: string): string {
  return path.win32.basename(path.posix.basename(command)).replace(/\.exe$/i, '');
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The kubelogin form of a user body's exec, and the arguments after `get-token`; undefined when not kubelogin. */
function kubeloginExec(body: Json): { form: KubeloginUser['form']; command: string; rest: string[]; env: string[] } | undefined {
  const exec = body['exec'];
  if (!isRecord(exec)) return undefined;
  const command = typeof exec['command'] === 'string' ? exec['command'] : '';
  const args = Array.isArray(exec['args']) ? exec['args'].filter((a): a is string => typeof a === 'string') : [];
  const env = Array.isArray(exec['env']) ? exec['env'].map((e) => (isRecord(e) && typeof e['name'] === 'string' ? e['name'] : '')).filter((n) => n !== '') : [];
  const prog = programName(command);
  // The Talos guide's example leaves out `command: kubectl`; its args still say what it meant.
  if ((prog === 'kubectl' || command === '') && args[0] === 'oidc-login' && args[1] === 'get-token') {
    return { form: 'kubectl oidc-login', command, rest: args.slice(2), env };
  }
  if ((prog === 'kubelogin' || prog === 'kubectl-oidc_login') && args[0] === 'get-token') {
    return { form: 'kubelogin', command, rest: args.slice(1), env };
  }
  return undefined;
}

function looksLikeUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s.trim());
}

const PLACEHOLDER = /^<[^>]*>$/;

/** Why a user cannot be imported as it is, in one sentence; undefined when it can. */
function whyNot(f: Flags): string | undefined {
  const guide = 'the Talos guide’s example puts the Pocket ID URL there';
  if (!f.issuer) {
    return 'it passes no --oidc-issuer-url, so there is no OpenID provider to import (Azure’s kubelogin, which has the same name, works differently).';
  }
  for (const [flag, v] of [['--oidc-issuer-url', f.issuer], ['--oidc-client-id', f.clientId], ['--oidc-client-secret', f.clientSecret]] as const) {
    if (v !== undefined && PLACEHOLDER.test(v.trim())) {
      return `its ${flag} is still the placeholder ${v} from the Talos guide: fill in the value from Pocket ID and import again.`;
    }
  }
  try {
    normalizeIssuer(f.issuer);
  } catch (e) {
    return `its --oidc-issuer-url cannot be used: ${(e as Error).message.replace(/\.?$/, '.')}`;
  }
  if (!f.clientId) return 'it passes no --oidc-client-id, which kubelogin needs too: add the Client ID from Pocket ID and import again.';
  if (looksLikeUrl(f.clientId)) {
    return `its --oidc-client-id is a URL (${f.clientId}), not a client ID — ${guide} — so copy the Client ID from the OIDC client’s page in Pocket ID into this user and import again.`;
  }
  if (f.clientSecret !== undefined && looksLikeUrl(f.clientSecret)) {
    return `its --oidc-client-secret is a URL, not a client secret — ${guide} — so copy the Client Secret from Pocket ID into this user (or drop the flag for a public client) and import again.`;
  }
  return undefined;
}

function notesFor(k: { form: KubeloginUser['form']; command: string; env: string[] }, f: Flags): string[] {
  const notes: string[] = [];
  if (k.command === '') notes.push('its exec has no command (the Talos guide’s example leaves out `command: kubectl`), so kubectl could not run it as written.');
  if (k.env.length > 0) notes.push(`its exec env (${k.env.join(', ')}) is not carried over: PocketKube’s helper does not need it.`);
  if (f.useAccessToken) {
    notes.push('kubelogin sent the access token (--oidc-use-access-token); PocketKube sends the ID token, whose audience is the client ID the API server checks.');
  }
  if (f.grantType && !['auto', 'authcode', 'authcode-keyboard', 'device-code'].includes(f.grantType)) {
    notes.push(`kubelogin used --grant-type=${f.grantType}; PocketKube signs in through the browser (or a device code) instead.`);
  }
  if (f.caData) notes.push('its --certificate-authority-data is not carried over: save the CA to a file and give it to the provider (--ca-file).');
  if (f.insecure) notes.push('it skipped TLS verification of the issuer (--insecure-skip-tls-verify); PocketKube verifies it.');
  return notes;
}

// ---- secrets in the diff ------------------------------------------------------------------------------

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The diff with every client secret replaced by ***: after `--oidc-client-secret=` or `--oidc-client-secret `
 * on a line, and wherever the value itself appears (a `--flag value` pair split over two list items). A
 * "secret" that is a URL is the Talos guide's mistake (the public issuer URL), masked by flag only.
 */
function maskSecrets(diff: string, secrets: string[]): string {
  let out = diff.replace(/(--oidc-client-secret(?:=|[ \t]+))("[^"\n]*"|'[^'\n]*'|[^\s,\]}"'#]+)/g, '$1***');
  for (const s of [...new Set(secrets)].filter((s) => s !== '' && !looksLikeUrl(s)).sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(escapeRegExp(s), 'g'), '***');
  }
  return out;
}

// ---- the import -------------------------------------------------------------------------------------

interface Candidate {
  user: KubeloginUser;
  entry: Entry;
  flags: Flags;
}

/**
 * Find kubelogin users in every kubeconfig file, propose the providers they need (reusing `providers`
 * with the same issuer and client ID), and rewrite those users' exec to PocketKube's helper. Users that
 * cannot be imported as they are (a URL where the client ID goes, a placeholder, no issuer) are left
 * alone, each with its reason. With `dryRun` nothing is written; the diff shows what would change.
 * `io` gives the write its file operations, observer and lock waiting (each defaults to the real one).
 */
export async function importKubelogin(opts: ImportKubeloginOptions, io: WriteOptions = {}): Promise<ImportKubeloginResult> {
  const paths = resolveFiles(opts.files);
  const execFor = (provider: string): Json => {
    const spec = opts.exec(provider);
    checkExec(spec);
    return execBody(spec);
  };

  let outcome: { found: KubeloginUser[]; providersToAdd: ProviderToAdd[]; secrets: string[] } | undefined;
  const plan = (view: View, edit: (file: KubeFile) => FileEditor): void => {
    const candidates: Candidate[] = [];
    const secrets: string[] = [];
    for (const file of view.files) {
      for (const entry of file.lists.users.entries) {
        if (isOurs(entry.value)) continue;
        const k = kubeloginExec(entry.body);
        if (!k) continue;
        const flags = parseFlags(k.rest);
        if (flags.clientSecret) secrets.push(flags.clientSecret);
        const user: KubeloginUser = {
          name: entry.name,
          file: entry.file,
          form: k.form,
          command: k.command,
          hasClientSecret: flags.clientSecret !== undefined && flags.clientSecret !== '',
          extraScopes: [...new Set(flags.extraScopes)],
          env: k.env,
          notes: notesFor(k, flags),
        };
        const line = lineOfEntry(view, entry);
        if (line !== undefined) user.line = line;
        if (flags.issuer !== undefined) user.issuer = flags.issuer;
        if (flags.clientId !== undefined) user.clientId = flags.clientId;
        const port = callbackPortOf(flags);
        if (port !== undefined) user.callbackPort = port;
        const why = whyNot(flags);
        if (why) user.skipped = why;
        candidates.push({ user, entry, flags });
      }
    }

    // One provider per issuer and client ID: an existing one, or a new one named after the issuer's host.
    const taken = new Set(opts.providers.map((p) => p.name));
    const toAdd = new Map<string, ProviderToAdd>();
    for (const c of candidates) {
      if (c.user.skipped) continue;
      const issuer = normalizeIssuer(c.flags.issuer!);
      const clientId = c.flags.clientId!;
      const existing = opts.providers.find((p) => p.clientId === clientId && sameIssuer(p.issuer, issuer));
      if (existing) {
        c.user.provider = existing.name;
        continue;
      }
      const key = `${issuer}\n${clientId}`;
      let p = toAdd.get(key);
      if (!p) {
        p = { name: providerNameForIssuer(issuer, taken), issuer, clientId, scopes: [...DEFAULT_SCOPES], callbackPort: c.user.callbackPort ?? DEFAULT_CALLBACK_PORT };
        taken.add(p.name);
        toAdd.set(key, p);
      } else if (c.user.callbackPort !== undefined && c.user.callbackPort !== p.callbackPort) {
        c.user.notes.push(`it listened on port ${c.user.callbackPort}, another user of the same client on ${p.callbackPort}; the provider uses ${p.callbackPort}.`);
      }
      for (const s of c.flags.extraScopes) if (!p.scopes.includes(s)) p.scopes.push(s);
      if (c.flags.clientSecret && p.clientSecret === undefined) p.clientSecret = c.flags.clientSecret;
      else if (c.flags.clientSecret && p.clientSecret !== c.flags.clientSecret) {
        c.user.notes.push('it passes a different client secret than another user of the same client; the first one is kept.');
      }
      if (c.flags.caFiles[0] !== undefined && p.caFile === undefined) p.caFile = c.flags.caFiles[0];
      c.user.provider = p.name;
      c.user.newProvider = true;
    }

    for (const c of candidates) {
      if (c.user.skipped || !c.user.provider) continue;
      edit(view.files.find((f) => f.path === c.entry.file)!).setIn(c.entry, ['user', 'exec'], execFor(c.user.provider));
    }
    outcome = { found: candidates.map((c) => c.user), providersToAdd: [...toAdd.values()], secrets };
  };

  let last: Plan<void> | undefined;
  let written: string[] = [];
  if (opts.dryRun) {
    last = await planEdits(paths, plan, io);
  } else {
    // The backup must not keep the client secrets this import moves into PocketKube's store.
    const backupContent = (raw: Buffer) => maskSecrets(raw.toString('utf8'), outcome?.secrets ?? []);
    ({ written } = await transact(paths, plan, (p) => (last = p), { ...io, backupContent }));
  }
  const { found, providersToAdd, secrets } = outcome!;
  const changes = last?.changes ?? [];
  const diff = maskSecrets(
    changes.map((c) => unifiedDiff(c.file.text, c.next, c.file.path, `${c.file.path} (PocketKube)`)).join(''),
    secrets,
  );
  const backups: string[] = [];
  for (const c of changes) if (written.includes(c.file.path) && c.file.exists) backups.push(await backupPath(c.file.path));
  return { found, providersToAdd, diff, changed: opts.dryRun ? changes.map((c) => c.file.path) : written, backups };
}

function sameIssuer(a: string, b: string): boolean {
  try {
    return normalizeIssuer(a) === normalizeIssuer(b);
  } catch {
    return a === b;
  }
}
