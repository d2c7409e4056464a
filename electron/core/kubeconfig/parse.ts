import fs from 'node:fs/promises';
import {
  parseAllDocuments,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Pair,
  type ParseOptions,
  type DocumentOptions,
  type SchemaOptions,
  type ToJSOptions,
  type YAMLMap,
  type YAMLSeq,
  type YAMLError,
} from 'yaml';
import { yamlProblem } from '../platform/yaml-error.js';
import { KubeconfigError, where } from './errors.js';
import { checkSchema, kubeconfigSchema } from './schema.js';

export type Kind = 'clusters' | 'users' | 'contexts';
export const KINDS: readonly Kind[] = ['clusters', 'users', 'contexts'];
/** The field holding an entry's body: clusters[].cluster, users[].user, contexts[].context. */
export const BODY: Record<Kind, 'cluster' | 'user' | 'context'> = { clusters: 'cluster', users: 'user', contexts: 'context' };
const SINGULAR: Record<Kind, string> = { clusters: 'cluster', users: 'user', contexts: 'context' };

export type Json = Record<string, unknown>;

export interface Entry {
  kind: Kind;
  name: string;
  index: number;
  /** The entry as plain data: `{name, cluster: {...}}`. */
  value: Json;
  /** The body (`cluster`, `user` or `context`) as plain data, `{}` when absent. */
  body: Json;
  /** Path of the file that holds it. */
  file: string;
}

export interface ListInfo {
  /** The top-level `clusters:`/`users:`/`contexts:` pair (the last one, as kubectl reads it), if any. */
  pair?: Pair;
  /** The sequence node when the value is written out as a sequence (not an alias). */
  seq?: YAMLSeq;
  entries: Entry[];
}

export interface KubeFile {
  path: string;
  exists: boolean;
  /** Bytes as read; empty for a missing file. */
  raw: Buffer;
  /** The text edits apply to: the file's text, or for a file we are about to create its header. */
  text: string;
  eol: '\n' | '\r\n';
  mode?: number;
  uid?: number;
  gid?: number;
  doc?: Document.Parsed;
  /** The top-level mapping node; undefined for an empty document. */
  top?: YAMLMap;
  js: Json;
  lists: Record<Kind, ListInfo>;
  /** '' when unset. */
  currentContext: string;
  currentContextPair?: Pair;
}

export const PARSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  // kubectl (go-yaml v2) lets a later duplicate key win; so do we.
  uniqueKeys: false,
  keepSourceTokens: true,
  prettyErrors: true,
  // go-yaml v2 hands timestamps and 1:30-style numbers to kubectl as text.
  customTags: (tags) =>
    tags.filter((t) =>
      typeof t === 'string'
        ? !['timestamp', 'intTime', 'floatTime'].includes(t)
        : t.tag !== 'tag:yaml.org,2002:timestamp' && (t as { format?: string }).format !== 'TIME',
    ),
};
const TOJS_OPTIONS: ToJSOptions = { maxAliasCount: 1000 };

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function detectEol(text: string): '\n' | '\r\n' {
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text.charCodeAt(i - 1) === 13) crlf++;
    else lf++;
  }
  return crlf > lf ? '\r\n' : '\n';
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The last pair of `map` whose key is the scalar `key` (the one kubectl sees). */
export function lastPair(map: YAMLMap, key: string): Pair | undefined {
  let found: Pair | undefined;
  for (const p of map.items) if (isScalar(p.key) && p.key.value === key) found = p;
  return found;
}

/** Line of the node at `path`, or of its nearest ancestor that exists in the document. */
function lineOfPath(doc: Document.Parsed, text: string, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lineOf(text, node.range[0]);
  }
  return undefined;
}

function fail(path: string, message: string, line?: number): never {
  throw new KubeconfigError(`${where(path, line)}: ${message}`, path, line);
}

/**
 * Parse kubeconfig text the way kubectl reads it: first YAML document only, YAML 1.1 scalars, the v1
 * Config types. Throws a KubeconfigError naming the line for anything kubectl would refuse.
 */
export function parseKubeconfig(path: string, text: string, exists = true, raw?: Buffer): KubeFile {
  const file: KubeFile = {
    path,
    exists,
    raw: raw ?? Buffer.from(text, 'utf8'),
    text,
    eol: detectEol(text),
    js: {},
    lists: { clusters: { entries: [] }, users: { entries: [] }, contexts: { entries: [] } },
    currentContext: '',
  };
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  const doc = docs[0];
  if (!doc) {
    // Only comments or blank lines: an empty config (unless the stream itself is broken).
    const errs = (docs as { errors?: YAMLError[] }).errors ?? [];
    if (errs[0]) {
      const { line, reason } = yamlProblem(text, errs[0]);
      fail(path, `this is not valid YAML (${reason})`, line);
    }
    return file;
  }
  const err = doc.errors[0];
  if (err) {
    const { line, reason } = yamlProblem(text, err, doc);
    fail(path, `this is not valid YAML (${reason})`, line);
  }
  const yamlDirective = doc.directives?.yaml;
  if (yamlDirective?.explicit && yamlDirective.version !== '1.1') {
    fail(path, `kubectl reads YAML 1.1 only and refuses the %YAML ${yamlDirective.version} directive`, 1);
  }
  file.doc = doc;
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        const line = isNode(pair.key) && pair.key.range ? lineOf(text, pair.key.range[0]) : undefined;
        fail(path, 'a mapping key must be a plain value, not a list or mapping', line);
      }
    },
  });
  let js: unknown;
  try {
    js = doc.toJS(TOJS_OPTIONS);
  } catch (e) {
    fail(path, `the YAML cannot be read (${(e as Error).message})`);
  }
  if (js === null || js === undefined) return file;
  if (!isRecord(js)) {
    fail(path, 'the top level must be a mapping (apiVersion, clusters, users, contexts...)', lineOfPath(doc, text, []));
  }
  if (!isMap(doc.contents)) {
    fail(path, 'the top level must be written as a mapping', lineOfPath(doc, text, []));
  }
  file.js = js;
  file.top = doc.contents;
  const problem = configProblem(js);
  if (problem) {
    const line = lineOfPath(doc, text, problem.path);
    let message = problem.message;
    if (problem.earlier) {
      // The placeholder comes after the name, which may hold anything: replace the last one.
      const at = message.lastIndexOf('{earlier}');
      message = message.slice(0, at) + String(lineOfPath(doc, text, problem.earlier)) + message.slice(at + '{earlier}'.length);
    }
    fail(path, message, line);
  }
  for (const k of KINDS) {
    const info = file.lists[k];
    info.pair = lastPair(doc.contents, k);
    if (info.pair && isSeq(info.pair.value)) info.seq = info.pair.value;
    const list = js[k];
    if (!Array.isArray(list)) continue;
    list.forEach((item: unknown, index: number) => {
      const value = isRecord(item) ? item : {};
      const name = typeof value['name'] === 'string' ? value['name'] : '';
      const body = value[BODY[k]];
      info.entries.push({ kind: k, name, index, value, body: isRecord(body) ? body : {}, file: path });
    });
  }
  const cc = js['current-context'];
  file.currentContext = typeof cc === 'string' ? cc : '';
  file.currentContextPair = lastPair(doc.contents, 'current-context');
  return file;
}

export interface ConfigProblem {
  /** Where in the config: `['users', 3, 'user', 'token']`. */
  path: (string | number)[];
  /** For a name used twice, the earlier entry; the message says `{earlier}` where its line goes. */
  earlier?: (string | number)[];
  message: string;
}

/**
 * The first thing kubectl would refuse in a config it has read as YAML: a value of the wrong type, an
 * apiVersion or kind it does not read, a name used twice in one list. Undefined when there is none.
 */
export function configProblem(js: Json): ConfigProblem | undefined {
  const problem = checkSchema(js, kubeconfigSchema);
  if (problem) {
    const at = problem.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
    return { path: problem.path, message: `${at}: ${problem.message}` };
  }
  const apiVersion = js['apiVersion'];
  if (typeof apiVersion === 'string' && apiVersion !== '' && apiVersion !== 'v1') {
    return { path: ['apiVersion'], message: `apiVersion is ${JSON.stringify(apiVersion)} but kubectl reads only v1` };
  }
  const kind = js['kind'];
  if (typeof kind === 'string' && kind !== '' && kind !== 'Config') {
    return { path: ['kind'], message: `kind is ${JSON.stringify(kind)}, not Config` };
  }
  for (const k of KINDS) {
    const list = js[k];
    if (!Array.isArray(list)) continue;
    const seen = new Map<string, number>();
    for (let index = 0; index < list.length; index++) {
      const item: unknown = list[index];
      const name = isRecord(item) && typeof item['name'] === 'string' ? item['name'] : '';
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        return {
          path: [k, index],
          earlier: [k, earlier],
          message: `${SINGULAR[k]} name ${JSON.stringify(name)} is used twice in this file (also at line {earlier}), which kubectl refuses`,
        };
      }
      seen.set(name, index);
    }
  }
  return undefined;
}

export interface RawFile {
  path: string;
  /** null when the file does not exist. */
  raw: Buffer | null;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** The bytes of one kubeconfig file (null when missing), without parsing them. */
export async function readRaw(path: string): Promise<RawFile> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, raw: null };
    if (code === 'EISDIR') fail(path, 'this is a directory, not a kubeconfig file');
    fail(path, `cannot be read (${code ?? (e as Error).message})`);
  }
  const out: RawFile = { path, raw };
  try {
    const st = await fs.stat(path);
    out.mode = st.mode & 0o7777;
    out.uid = st.uid;
    out.gid = st.gid;
  } catch {
    // Raced with a delete: the content check under the lock will notice.
  }
  return out;
}

/** Parse bytes read from a kubeconfig file; a missing file is an empty config. */
export function parseRaw(r: RawFile): KubeFile {
  if (r.raw === null) return parseKubeconfig(r.path, '', false, Buffer.alloc(0));
  const text = r.raw.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(r.raw)) {
    fail(r.path, 'this file is not UTF-8 text, so it cannot be edited without changing bytes');
  }
  const file = parseKubeconfig(r.path, text, true, r.raw);
  if (r.mode !== undefined) file.mode = r.mode;
  if (r.uid !== undefined) file.uid = r.uid;
  if (r.gid !== undefined) file.gid = r.gid;
  return file;
}

/** Read and parse one kubeconfig file; a missing file is an empty config. */
export async function readKubeFile(path: string): Promise<KubeFile> {
  return parseRaw(await readRaw(path));
}
