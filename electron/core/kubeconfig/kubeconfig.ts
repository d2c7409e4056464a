import { isUtf8 } from 'node:buffer';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { KubeconfigError, displayPath, where } from './errors.js';
import { resolveFiles } from './files.js';
import { EXEC_API_VERSION, EXTENSION_NAME, clusterCreatedByUs, isOurs, providerOf } from './ours.js';
import { fastParse, spliceCurrentContext, type ScalarSpan } from './fast-parse.js';
import type { FileEditor } from './edit.js';
import { configProblem, KINDS, lineOf, readRaw, type Entry, type Json, type KubeFile, type Kind, type RawFile } from './parse.js';
import { isBase64 } from './schema.js';
import { readView, retryUntilStill, transact, type Snapshot, type View, type WriteOptions } from './store.js';
import type { ContextInfo } from '../../shared/api.js';
export type { ContextInfo };

export interface ExecSpec {
  command: string;
  args: string[];
  env?: { name: string; value: string }[];
  installHint?: string;
}

export interface AddContextOptions {
  files?: string[];
  /** Cluster name (defaults to the cluster of `fromContext`). */
  name: string;
  /** Names the user entry; the context is `${provider}@${name}`. */
  provider: string;
  server?: string;
  caFile?: string;
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  /** Reuse the cluster entry of this existing context, untouched. */
  fromContext?: string;
  /** Name the cluster entry this instead of `name` (the context stays `${provider}@${name}`): a join's own entry beside one it must not change. */
  clusterEntry?: string;
  namespace?: string;
  /** Make the new context kubectl's current context. */
  use?: boolean;
  exec: ExecSpec;
}

export interface AddContextResult {
  context: string;
  cluster: string;
  user: string;
  /** The file holding the context entry. */
  file: string;
  changed: boolean;
}

export interface RemoveContextResult {
  /** What was removed, as `context/NAME`, `user/NAME`, `cluster/NAME`, each with the file it came from. */
  removed: string[];
  /** True when the removed context was kubectl's current context and current-context was cleared. */
  currentContextCleared: boolean;
  /** The current context kubectl sees afterwards, if any (a later file may set one). */
  currentContext?: string;
}

// ---- the merged view kubectl has ---------------------------------------------------------------------

interface Merged {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  current: string;
  currentFile?: KubeFile;
  /**
   * kubectl's destination for new entries and current-context (PathOptions.GetDefaultFilename): the first
   * file that exists, else the last one in the list.
   */
  target: KubeFile;
}

function merge(view: View): Merged {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), current: '', target: view.files[0]! };
  for (const f of view.files) {
    for (const k of KINDS) {
      for (const e of f.lists[k].entries) if (!m[k].has(e.name)) m[k].set(e.name, e);
    }
    if (!m.current && f.currentContext) {
      m.current = f.currentContext;
      m.currentFile = f;
    }
  }
  m.target = view.files.find((f) => f.exists) ?? view.files[view.files.length - 1]!;
  return m;
}

function fileOf(view: View, p: string): KubeFile {
  return view.files.find((f) => f.path === p)!;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function lineOfEntry(view: View, e: Entry): number | undefined {
  const seq = fileOf(view, e.file).lists[e.kind].seq;
  const node = seq?.items[e.index] as { range?: [number, number, number] } | undefined;
  return node?.range ? lineOf(fileOf(view, e.file).text, node.range[0]) : undefined;
}

// ---- reading -----------------------------------------------------------------------------------------

/**
 * Every context kubectl would show, merged across the files as kubectl merges them. A file that cannot be
 * read is reported in `errors` and left out (kubectl would refuse all files; a tray can still show the rest).
 */
export async function listContexts(
  files?: string[],
): Promise<{ contexts: ContextInfo[]; currentContext?: string; errors: KubeconfigError[] }> {
  const paths = resolveFiles(files);
  const { view, errors } = await readView(paths);
  const m = merge(view);
  const contexts: ContextInfo[] = [];
  for (const e of m.contexts.values()) {
    const cluster = str(e.body['cluster']);
    const user = str(e.body['user']);
    const info: ContextInfo = {
      name: e.name,
      cluster,
      user,
      file: e.file,
      current: m.current !== '' && e.name === m.current,
      ours: isOurs(m.users.get(user)?.value),
    };
    const provider = providerOf(m.users.get(user)?.value);
    if (provider) info.provider = provider;
    const ns = str(e.body['namespace']);
    if (ns) info.namespace = ns;
    const server = str(m.clusters.get(cluster)?.body['server']);
    if (server) info.server = server;
    contexts.push(info);
  }
  const out: { contexts: ContextInfo[]; currentContext?: string; errors: KubeconfigError[] } = { contexts, errors };
  if (m.current) out.currentContext = m.current;
  return out;
}

// ---- adding ------------------------------------------------------------------------------------------

export function checkExec(exec: ExecSpec): void {
  if (!exec || typeof exec.command !== 'string' || exec.command === '') throw new TypeError('exec.command is required');
  if (!path.posix.isAbsolute(exec.command) && !path.win32.isAbsolute(exec.command)) {
    // Apps started from a desktop launcher do not see the shell's PATH (Lens #534, #7520).
    throw new TypeError(`exec.command must be an absolute path, got ${JSON.stringify(exec.command)}`);
  }
  if (!Array.isArray(exec.args) || exec.args.some((a) => typeof a !== 'string')) throw new TypeError('exec.args must be a list of strings');
  if (exec.env && exec.env.some((e) => typeof e?.name !== 'string' || typeof e?.value !== 'string')) {
    throw new TypeError('exec.env must be a list of {name, value} strings');
  }
}

export function execBody(exec: ExecSpec): Json {
  const body: Json = { apiVersion: EXEC_API_VERSION, command: exec.command, args: [...exec.args] };
  if (exec.env) body['env'] = exec.env.map((e) => ({ name: e.name, value: e.value }));
  body['interactiveMode'] = 'Never';
  body['provideClusterInfo'] = false;
  if (exec.installHint !== undefined) body['installHint'] = exec.installHint;
  return body;
}

function caKey(body: Json): string {
  const data = str(body['certificate-authority-data']).replace(/\s/g, '');
  if (data) return 'data:' + data;
  const file = str(body['certificate-authority']);
  return file ? 'file:' + file : '';
}

function describeUser(body: Json): string {
  const exec = body['exec'];
  if (exec && typeof exec === 'object' && !Array.isArray(exec)) return `runs ${JSON.stringify(str((exec as Json)['command']))}`;
  if (body['token'] || body['tokenFile']) return 'uses a token';
  if (body['client-certificate-data'] || body['client-certificate']) return 'uses a client certificate';
  if (body['auth-provider']) return 'uses an auth provider';
  if (body['username']) return 'uses a password';
  return 'is not PocketKube’s';
}

/** Checks what addContext is given before any file is read; returns the CA as base64 (read from caFile), if any. */
async function checkAddOptions(opts: AddContextOptions): Promise<string | undefined> {
  if (typeof opts.provider !== 'string' || opts.provider === '') throw new TypeError('provider is required');
  if (/[\s@]/.test(opts.provider)) throw new TypeError(`provider must not contain spaces or "@", got ${JSON.stringify(opts.provider)}`);
  checkExec(opts.exec);
  if (opts.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(opts.namespace)) {
    throw new TypeError(`namespace ${JSON.stringify(opts.namespace)} is not a valid Kubernetes namespace name`);
  }
  let caData: string | undefined;
  if (!opts.fromContext) {
    if (typeof opts.name !== 'string' || opts.name === '') throw new TypeError('name (the cluster name) is required');
    if (!opts.server) throw new TypeError('server is required unless fromContext is given');
    let url: URL;
    try {
      url = new URL(opts.server);
    } catch {
      throw new TypeError(`server ${JSON.stringify(opts.server)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`server ${JSON.stringify(opts.server)} is not an https URL`);
    if (opts.caFile !== undefined && opts.caData !== undefined) throw new TypeError('give caFile or caData, not both');
    if (opts.caFile !== undefined) caData = (await fsp.readFile(opts.caFile)).toString('base64');
    else if (opts.caData !== undefined) {
      // kubectl refuses the whole file when this is not base64; never write such a value.
      if (opts.caData === '' || !isBase64(opts.caData)) throw new TypeError('caData must be base64 (the PEM bundle, base64-encoded)');
      caData = opts.caData.replace(/[\r\n]/g, '');
    }
    if (caData && opts.insecureSkipTlsVerify) throw new TypeError('kubectl refuses a CA together with insecureSkipTlsVerify');
  }
  return caData;
}

/** Entries an earlier item of the same batch already wrote or updated: the view read before the batch does not show them. */
interface BatchDone {
  users: Set<string>;
  clusters: Set<string>;
  /** New entries per file and list, appended once after every item (FileEditor.appendEntries). */
  appends: Map<KubeFile, Record<Kind, Json[]>>;
  /** The context to make current, set after the appends. */
  current?: string;
}

function append(done: BatchDone, file: KubeFile, kind: Kind, obj: Json): void {
  let lists = done.appends.get(file);
  if (!lists) done.appends.set(file, (lists = { clusters: [], users: [], contexts: [] }));
  lists[kind].push(obj);
}

/** The edits adding one context makes to a view (shared by addContext and addContexts); throws a clash. */
function editsForContext(view: View, m: Merged, edit: (file: KubeFile) => FileEditor, opts: AddContextOptions, caData: string | undefined, done: BatchDone): Omit<AddContextResult, 'changed'> {
  const clashes: { text: string; file: string; line: number | undefined }[] = [];
  let clusterName = opts.clusterEntry ?? opts.name;
  if (opts.fromContext) {
    const from = m.contexts.get(opts.fromContext);
    if (!from) {
      throw new KubeconfigError(
        `${displayPath(m.target.path)}: there is no context ${JSON.stringify(opts.fromContext)}${closeNames(opts.fromContext, [...m.contexts.keys()])}; nothing was written`,
        m.target.path,
      );
    }
    const cn = str(from.body['cluster']);
    if (!cn || !m.clusters.has(cn)) {
      throw new KubeconfigError(
        `${where(from.file, lineOfEntry(view, from))}: context ${JSON.stringify(opts.fromContext)} names cluster ${JSON.stringify(cn)}, which no kubeconfig file defines; nothing was written`,
        from.file,
        lineOfEntry(view, from),
      );
    }
    clusterName = cn;
  }
  // With fromContext, `name` (if given) only names the context; the cluster entry stays as it is.
  const contextName = `${opts.provider}@${opts.fromContext || opts.clusterEntry ? opts.name || clusterName : clusterName}`;

  // Cluster.
  if (!opts.fromContext && !done.clusters.has(clusterName)) {
    done.clusters.add(clusterName);
    const want: Json = { server: opts.server };
    if (caData) want['certificate-authority-data'] = caData;
    if (opts.insecureSkipTlsVerify) want['insecure-skip-tls-verify'] = true;
    const existing = m.clusters.get(clusterName);
    if (existing) {
      const b = existing.body;
      const same =
        str(b['server']) === opts.server &&
        (caKey(b) === (caData ? 'data:' + caData : '') || (opts.caFile !== undefined && caKey(b) === 'file:' + opts.caFile)) &&
        !!b['insecure-skip-tls-verify'] === !!opts.insecureSkipTlsVerify;
      if (!same) {
        if (clusterCreatedByUs(b)) {
          const e = edit(fileOf(view, existing.file));
          if (str(b['server']) !== opts.server) e.setIn(existing, ['cluster', 'server'], opts.server);
          if (caData) {
            if (b['certificate-authority-data'] !== caData) e.setIn(existing, ['cluster', 'certificate-authority-data'], caData);
          } else if ('certificate-authority-data' in b) e.deleteIn(existing, ['cluster', 'certificate-authority-data']);
          if (opts.insecureSkipTlsVerify) {
            if (b['insecure-skip-tls-verify'] !== true) e.setIn(existing, ['cluster', 'insecure-skip-tls-verify'], true);
          } else if ('insecure-skip-tls-verify' in b) e.deleteIn(existing, ['cluster', 'insecure-skip-tls-verify']);
        } else {
          const line = lineOfEntry(view, existing);
          clashes.push({
            file: existing.file,
            line,
            text: `cluster ${JSON.stringify(clusterName)} in ${where(existing.file, line)} already exists with ${str(b['server']) !== opts.server ? `server ${JSON.stringify(str(b['server']))}` : 'a different CA'} (pass fromContext to reuse it, or pick another cluster name)`,
          });
        }
      }
    } else {
      append(done, m.target, 'clusters', {
        name: clusterName,
        cluster: { ...want, extensions: [{ name: EXTENSION_NAME, extension: { created: true } }] },
      });
    }
  }

  // User (once per batch: a second edit of the same entry would clash with the first).
  const wantExec = execBody(opts.exec);
  const existingUser = m.users.get(opts.provider);
  if (!done.users.has(opts.provider)) {
    done.users.add(opts.provider);
    if (existingUser) {
      if (!isOurs(existingUser.value)) {
        const line = lineOfEntry(view, existingUser);
        clashes.push({
          file: existingUser.file,
          line,
          text: `user ${JSON.stringify(opts.provider)} in ${where(existingUser.file, line)} already exists and ${describeUser(existingUser.body)} (rename it, or choose another provider name)`,
        });
      } else {
        const have = (existingUser.body['exec'] ?? {}) as Json;
        const e = edit(fileOf(view, existingUser.file));
        for (const key of ['apiVersion', 'command', 'args', 'env', 'interactiveMode', 'provideClusterInfo', 'installHint']) {
          if (key in wantExec) {
            if (!isDeepStrictEqual(have[key], wantExec[key])) e.setIn(existingUser, ['user', 'exec', key], wantExec[key]);
          } else if (key in have) {
            e.deleteIn(existingUser, ['user', 'exec', key]);
          }
        }
      }
    } else {
      append(done, m.target, 'users', { name: opts.provider, user: { exec: wantExec } });
    }
  }

  // Context.
  const existingCtx = m.contexts.get(contextName);
  let ctxFile = m.target.path;
  if (existingCtx) {
    ctxFile = existingCtx.file;
    const b = existingCtx.body;
    if (str(b['cluster']) !== clusterName || str(b['user']) !== opts.provider) {
      const line = lineOfEntry(view, existingCtx);
      clashes.push({
        file: existingCtx.file,
        line,
        text: `context ${JSON.stringify(contextName)} in ${where(existingCtx.file, line)} already exists for cluster ${JSON.stringify(str(b['cluster']))} and user ${JSON.stringify(str(b['user']))} (rename it with kubectl config rename-context, or pick another cluster name)`,
      });
    } else if (opts.namespace !== undefined && str(b['namespace']) !== opts.namespace) {
      edit(fileOf(view, existingCtx.file)).setIn(existingCtx, ['context', 'namespace'], opts.namespace);
    }
  } else {
    const context: Json = { cluster: clusterName, user: opts.provider };
    if (opts.namespace !== undefined) context['namespace'] = opts.namespace;
    append(done, m.target, 'contexts', { name: contextName, context });
  }

  if (clashes.length > 0) {
    const first = clashes[0]!;
    throw new KubeconfigError(
      `PocketKube will not overwrite entries it did not write: ${clashes.map((c) => c.text).join('; ')}; nothing was written`,
      first.file,
      first.line,
    );
  }

  if (opts.use && m.current !== contextName) done.current = contextName;
  return { context: contextName, cluster: clusterName, user: opts.provider, file: ctxFile };
}

/**
 * Write (or update) the cluster, user and context PocketKube needs, the way kubectl would place them, and
 * nothing else. Returns `changed: false` without touching any file when everything is already in place.
 * `io` gives the write its file operations, observer and lock waiting (each defaults to the real one).
 */
export async function addContext(opts: AddContextOptions, io: WriteOptions = {}): Promise<AddContextResult> {
  const [result] = await addContexts([opts], io);
  return result!;
}

/**
 * Several addContext calls as one write: one read, one lock, one backup (the files as they were before the
 * batch), and all of it or nothing (a clash in any item writes nothing). Every item names the same `files`.
 */
export async function addContexts(list: AddContextOptions[], io: WriteOptions = {}): Promise<AddContextResult[]> {
  if (list.length === 0) return [];
  const paths = resolveFiles(list[0]!.files);
  const cas: (string | undefined)[] = [];
  for (const opts of list) cas.push(await checkAddOptions(opts));
  const { result, written } = await transact(paths, (view, edit) => {
    const m = merge(view);
    const done: BatchDone = { users: new Set(), clusters: new Set(), appends: new Map() };
    const results = list.map((opts, i) => editsForContext(view, m, edit, opts, cas[i], done));
    for (const [file, lists] of done.appends) for (const kind of KINDS) edit(file).appendEntries(kind, lists[kind]);
    if (done.current !== undefined) edit(m.target).setCurrentContext(done.current);
    return results;
  }, undefined, io);
  return result.map((r) => ({ ...r, changed: written.length > 0 }));
}

// ---- switching ---------------------------------------------------------------------------------------

function closeNames(name: string, names: string[]): string {
  const lower = name.toLowerCase();
  const scored = names
    .map((n) => ({ n, d: n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()) ? 0 : editDistance(lower, n.toLowerCase()) }))
    .filter((s) => s.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 3)
    .map((s) => JSON.stringify(s.n));
  return scored.length > 0 ? ` (did you mean ${scored.join(', ')}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function noSuchContext(name: string, target: string, names: Iterable<string>): KubeconfigError {
  return new KubeconfigError(
    `${displayPath(target)}: there is no context ${JSON.stringify(name)}${closeNames(name, [...names])}; nothing was written`,
    target,
  );
}

/** Make `name` kubectl's current context, written where `kubectl config use-context` writes it. */
export async function useContext(name: string, files?: string[], io: WriteOptions = {}): Promise<{ file: string; previous?: string }> {
  const paths = resolveFiles(files);
  const fast = await useContextFast(name, paths, io);
  if (fast) {
    io.observer?.pathTaken?.('fast');
    return fast;
  }
  io.observer?.pathTaken?.('full');
  const { result } = await transact(paths, (view, edit) => {
    const m = merge(view);
    if (!m.contexts.has(name)) throw noSuchContext(name, m.target.path, m.contexts.keys());
    const out: { file: string; previous?: string } = { file: m.target.path };
    if (m.current) out.previous = m.current;
    if (m.current === name) {
      out.file = m.currentFile!.path;
      return out;
    }
    edit(m.target).setCurrentContext(name);
    return out;
  }, undefined, io);
  return result;
}

interface FastFile extends Snapshot {
  js: Json;
  /** '' when unset. */
  currentContext: string;
  span?: ScalarSpan;
}

/** Thrown inside useContextFast when a file needs the full reader (which also words any error). */
const NEEDS_FULL_READ = Symbol('needs the full reader');

async function readFast(paths: string[]): Promise<FastFile[]> {
  const files: FastFile[] = [];
  for (const p of paths) {
    let r: RawFile;
    try {
      r = await readRaw(p);
    } catch {
      throw NEEDS_FULL_READ;
    }
    if (r.raw === null) {
      files.push({ path: p, exists: false, raw: Buffer.alloc(0), text: '', js: {}, currentContext: '' });
      continue;
    }
    if (!isUtf8(r.raw)) throw NEEDS_FULL_READ;
    const text = r.raw.toString('utf8');
    const parsed = fastParse(text);
    if (!parsed || configProblem(parsed.js)) throw NEEDS_FULL_READ;
    const cc = parsed.js['current-context'];
    const f: FastFile = { path: p, exists: true, raw: r.raw, text, js: parsed.js, currentContext: typeof cc === 'string' ? cc : '' };
    if (r.mode !== undefined) f.mode = r.mode;
    if (r.uid !== undefined) f.uid = r.uid;
    if (r.gid !== undefined) f.gid = r.gid;
    if (parsed.currentContext) f.span = parsed.currentContext;
    files.push(f);
  }
  return files;
}

/**
 * useContext without building a syntax tree: switching context changes one line, so the files are read
 * with the fast reader (as strict as the full one: it gives up rather than guess, and the same checks of
 * the content follow), the current-context value is spliced and the edited line read again and compared,
 * and the write goes through the same locks, backup and rename as every other write. Undefined when a
 * file needs the full reader (unusual YAML, an error to word, no current-context line to change).
 */
async function useContextFast(name: string, paths: string[], io: WriteOptions): Promise<{ file: string; previous?: string } | undefined> {
  try {
    const { result } = await retryUntilStill(paths, async () => {
      const files = await readFast(paths);
      const names = new Set<string>();
      for (const f of files) {
        const list = f.js['contexts'];
        if (!Array.isArray(list)) continue;
        for (const item of list as unknown[]) names.add(str((item as Json | null)?.['name']));
      }
      const currentFile = files.find((f) => f.currentContext !== '');
      const target = files.find((f) => f.exists) ?? files[files.length - 1]!;
      if (!names.has(name)) throw noSuchContext(name, target.path, names);
      const out: { file: string; previous?: string } = { file: target.path };
      if (currentFile) out.previous = currentFile.currentContext;
      if (currentFile?.currentContext === name) {
        out.file = currentFile.path;
        return { result: out, read: files, changes: [] };
      }
      if (!target.exists || !target.span) throw NEEDS_FULL_READ;
      // One value on one line changes; spliceCurrentContext reads the edited line again before we write.
      const next = spliceCurrentContext(target.text, target.span, name);
      if (next === undefined) throw NEEDS_FULL_READ;
      return { result: out, read: files, changes: [{ file: target, next }] };
    }, io);
    return result;
  } catch (e) {
    if (e === NEEDS_FULL_READ) return undefined;
    throw e;
  }
}

// ---- the current context's namespace -----------------------------------------------------------------

/** A Kubernetes namespace name (an RFC 1123 label), as the API server accepts it. */
export function isNamespaceName(ns: string): boolean {
  return ns.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns);
}

/**
 * Set the namespace of kubectl's current context, in the file that defines that context (where
 * `kubectl config set-context --current --namespace` writes it), through the same locks, backup and rename.
 */
export async function setCurrentNamespace(
  namespace: string,
  files?: string[],
  io: WriteOptions = {},
): Promise<{ context: string; file: string; previous?: string }> {
  if (!isNamespaceName(namespace)) throw new TypeError(`${JSON.stringify(namespace)} is not a namespace name (lowercase letters, digits and "-", at most 63)`);
  const paths = resolveFiles(files);
  const { result } = await transact(paths, (view, edit) => {
    const m = merge(view);
    if (!m.current) {
      throw new KubeconfigError(`${displayPath(m.target.path)}: no current-context is set, so there is no namespace to set; pick a context first; nothing was written`, m.target.path);
    }
    const ctx = m.contexts.get(m.current);
    if (!ctx) throw noSuchContext(m.current, m.currentFile?.path ?? m.target.path, m.contexts.keys());
    const previous = str(ctx.body['namespace']);
    if (previous !== namespace) edit(fileOf(view, ctx.file)).setIn(ctx, ['context', 'namespace'], namespace);
    return { context: m.current, file: ctx.file, ...(previous ? { previous } : {}) };
  }, undefined, io);
  return result;
}

// ---- removing ----------------------------------------------------------------------------------------

/**
 * Remove a context PocketKube wrote, and its user and cluster when PocketKube wrote them and nothing else
 * uses them. A missing context is not an error (nothing to do); a context that is not PocketKube's is.
 */
export async function removeContext(contextName: string, files?: string[], io: WriteOptions = {}): Promise<RemoveContextResult> {
  const paths = resolveFiles(files);
  const { result } = await transact(paths, (view, edit) => {
    const m = merge(view);
    const out: RemoveContextResult = { removed: [], currentContextCleared: false };
    const ctx = m.contexts.get(contextName);
    if (!ctx) {
      if (m.current) out.currentContext = m.current;
      return out;
    }
    const userName = str(ctx.body['user']);
    const clusterName = str(ctx.body['cluster']);
    if (!isOurs(m.users.get(userName)?.value)) {
      throw new KubeconfigError(
        `${where(ctx.file, lineOfEntry(view, ctx))}: context ${JSON.stringify(contextName)} uses user ${JSON.stringify(userName)}, which PocketKube did not write, so PocketKube leaves it alone (kubectl config delete-context removes it); nothing was written`,
        ctx.file,
        lineOfEntry(view, ctx),
      );
    }
    const gone = new Set<Entry>();
    const drop = (e: Entry): void => {
      gone.add(e);
      edit(fileOf(view, e.file)).removeEntry(e);
      out.removed.push(`${e.kind.slice(0, -1)}/${e.name} (${e.file})`);
    };
    // The context, and any copy of it in a later file that kubectl would see once the first is gone.
    for (const f of view.files) {
      for (const e of f.lists.contexts.entries) {
        if (e.name === contextName && isOurs(m.users.get(str(e.body['user']))?.value)) drop(e);
      }
    }
    const stillUsed = (kind: 'user' | 'cluster', name: string): boolean =>
      view.files.some((f) => f.lists.contexts.entries.some((e) => !gone.has(e) && str(e.body[kind]) === name));
    if (!stillUsed('user', userName)) {
      for (const f of view.files) for (const e of f.lists.users.entries) if (e.name === userName && isOurs(e.value)) drop(e);
    }
    if (!stillUsed('cluster', clusterName)) {
      for (const f of view.files) {
        for (const e of f.lists.clusters.entries) if (e.name === clusterName && clusterCreatedByUs(e.body)) drop(e);
      }
    }
    if (m.current === contextName) {
      // kubectl clears the file that sets it; we also clear later files naming the same context.
      for (const f of view.files) if (f.currentContext === contextName) edit(f).setCurrentContext('');
      out.currentContextCleared = true;
      out.removed.push('current-context');
    }
    const after = out.currentContextCleared
      ? view.files.find((f) => f.currentContext && f.currentContext !== contextName)?.currentContext
      : m.current;
    if (after) out.currentContext = after;
    return out;
  }, undefined, io);
  return result;
}

export type { Kind };
