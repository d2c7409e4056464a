import { isDeepStrictEqual } from 'node:util';
import { Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { KubeconfigError, where } from './errors.js';
import { KINDS, lastPair, parseKubeconfig, type Entry, type Json, type KubeFile, type Kind } from './parse.js';

/**
 * Surgical edits to one kubeconfig file's text. Every change is a splice over the byte range of an entry
 * we own (or an insertion next to one), so everything else stays byte for byte as it was: comments, key
 * order, quoting, flow or block style, CRLF, a BOM, a missing final newline. The same changes are applied
 * to a plain-data model of the file, and the edited text is re-parsed and compared with that model before
 * anything is written.
 */

interface Splice {
  start: number;
  end: number;
  text: string;
}

type Ranged = Node & { range: [number, number, number] };

/** Thrown when an edit cannot be made safely; the caller turns it into a KubeconfigError. */
class UnsafeEdit extends Error {}

const FLOW_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const YAML11_WORDS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value in flow style: JSON for values (valid YAML 1.1 and 1.2), plain keys where that is safe. */
export function renderFlow(v: unknown, quoteKeys = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => renderFlow(x, quoteKeys)).join(', ') + ']';
  return (
    '{' +
    Object.entries(v as Json)
      .map(([k, x]) => `${renderKey(k, quoteKeys)}: ${renderFlow(x, quoteKeys)}`)
      .join(', ') +
    '}'
  );
}

function renderKey(k: string, quote: boolean): string {
  return !quote && FLOW_KEY.test(k) && !YAML11_WORDS.test(k) ? k : JSON.stringify(k);
}

/** Block-style YAML lines (no line ends) for a mapping or list, as kubectl's YAML 1.1 reader sees it. */
export function renderBlockLines(v: unknown, indent: number, indentSeq: boolean): string[] {
  const doc = new Document(v, { version: '1.1' });
  const out = doc.toString({ indent, indentSeq, lineWidth: 0, minContentWidth: 0 });
  const lines = out.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A scalar for block context, quoted when YAML 1.1 would read it as something else. */
export function renderScalar(v: unknown): string {
  if (typeof v === 'string' && /[\x00-\x1f\x7f\u0085\u2028\u2029]/.test(v)) return JSON.stringify(v);
  const out = new Document(v, { version: '1.1' }).toString({ lineWidth: 0, minContentWidth: 0 }).replace(/\n$/, '');
  return out.includes('\n') ? JSON.stringify(v) : out;
}

/** Canonical form of the parts of a config kubectl treats as equal: a missing, null or empty list. */
export function normalizeConfig(js: Json): Json {
  const out: Json = { ...js };
  for (const k of KINDS) {
    const v = out[k];
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) delete out[k];
  }
  if (out['current-context'] === null || out['current-context'] === '' || out['current-context'] === undefined) {
    delete out['current-context'];
  }
  return out;
}

/** A replacement scalar written the way the one it replaces was written (plain, 'single' or "double"). */
function renderScalarLike(old: unknown, value: unknown, inFlow: boolean): string {
  const type = isScalar(old) ? old.type : undefined;
  if (typeof value === 'string' && !/[\x00-\x1f\x7f\u0085\u2028\u2029]/.test(value)) {
    if (type === 'QUOTE_DOUBLE') return JSON.stringify(value);
    if (type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  }
  const plain = renderScalar(value);
  if (inFlow && (typeof value !== 'string' || /[,[\]{}]|: |:$| #/.test(plain))) return typeof value === 'string' ? JSON.stringify(value) : plain;
  return plain;
}

const NEW_FILE_HEADER = 'apiVersion: v1\nkind: Config\n';

export class FileEditor {
  readonly file: KubeFile;
  private readonly text: string;
  private readonly splices: Splice[] = [];
  private readonly topAdds: { key: string; value: unknown }[] = [];
  /** What the file must read as after the edits. */
  private readonly expected: Json;
  private readonly indentUnit: number;
  private readonly seqOffset: number;
  private changed = false;

  constructor(file: KubeFile) {
    // A file we are about to create starts as kubectl's header.
    this.file = file.exists ? file : parseKubeconfig(file.path, NEW_FILE_HEADER, false);
    this.text = this.file.text;
    this.expected = structuredClone(this.file.js);
    this.indentUnit = this.detectIndentUnit();
    this.seqOffset = this.detectSeqOffset();
  }

  get isChanged(): boolean {
    return this.changed;
  }

  // ---- text helpers ------------------------------------------------------------------------------

  private lineStart(p: number): number {
    return this.text.lastIndexOf('\n', p - 1) + 1;
  }

  /** Offset just after the line break ending the line that holds `p` (or the end of the text). */
  private lineEnd(p: number): number {
    const i = this.text.indexOf('\n', p);
    return i === -1 ? this.text.length : i + 1;
  }

  private col(p: number): number {
    const s = this.lineStart(p);
    return p - s - (s === 0 && this.text.charCodeAt(0) === 0xfeff ? 1 : 0);
  }

  private onlySpaceBefore(p: number): boolean {
    return /^[\uFEFF \t]*$/.test(this.text.slice(this.lineStart(p), p));
  }

  private ranged(n: unknown): Ranged {
    if (!n || typeof n !== 'object' || !('range' in n) || !Array.isArray((n as Ranged).range)) {
      throw new UnsafeEdit('a node has no source position');
    }
    return n as Ranged;
  }

  /** End of the last character of a node's own content: no trailing comments, spaces or line breaks. */
  private contentEnd(n: unknown): number {
    if (isPair(n)) {
      const v = n.value;
      if (!isNodeWithRange(v)) return this.contentEnd(n.key);
      // `key:` with nothing after it: the value is an empty null just after the colon.
      if (isScalar(v) && v.value === null && v.range[0] === v.range[1]) return Math.max(this.contentEnd(n.key), v.range[0]);
      return this.contentEnd(v);
    }
    if (isMap(n) || isSeq(n)) {
      const r = this.ranged(n).range;
      if (n.flow) return r[1];
      const last = (n.items as unknown[])[n.items.length - 1];
      return last === undefined ? r[1] : this.contentEnd(last);
    }
    const r = this.ranged(n).range;
    let e = r[1];
    while (e > r[0] && /\s/.test(this.text.charAt(e - 1))) e--;
    return e;
  }

  private startOf(n: unknown): number {
    return isPair(n) ? this.ranged(n.key).range[0] : this.ranged(n).range[0];
  }

  /** Offset of the `-` that starts item `i` of a block sequence. */
  private dashOf(seq: YAMLSeq, i: number): number {
    const src = (seq as unknown as { srcToken?: { type: string; items: { start: { type: string; offset: number }[] }[] } }).srcToken;
    if (src && src.type === 'block-seq' && src.items.length === seq.items.length) {
      const ind = src.items[i]?.start.find((t) => t.type === 'seq-item-ind');
      if (ind) return ind.offset;
    }
    let p = this.startOf(seq.items[i]) - 1;
    while (p >= 0 && /\s/.test(this.text.charAt(p))) p--;
    if (this.text.charAt(p) !== '-') throw new UnsafeEdit('cannot find the "-" of a list item');
    return p;
  }

  /** Offset just after the `:` of a block or flow pair. */
  private afterColon(pair: Pair): number {
    const i = this.text.indexOf(':', this.ranged(pair.key).range[1]);
    const v = pair.value;
    if (i === -1 || (isNodeWithRange(v) && v.range[0] !== v.range[1] && i >= v.range[0])) {
      throw new UnsafeEdit('cannot find the ":" of a key');
    }
    return i + 1;
  }

  /**
   * From a line start, step over comment lines indented deeper than `col`: they belong to the entry
   * above (e.g. a commented-out field), so what we insert goes after them.
   */
  private afterDeeperComments(at: number, col: number): number {
    while (at < this.text.length) {
      const m = /^([ \t]*)#/.exec(this.text.slice(at, this.lineEnd(at)));
      if (!m || m[1]!.length <= col) break;
      at = this.lineEnd(at);
    }
    return at;
  }

  /** Remove [start, end) and, when that empties the last line of a file without a final newline, its line break. */
  private deleteLines(start: number, end: number): void {
    if (end === this.text.length && !this.text.endsWith('\n') && start > 0 && this.text.charAt(start - 1) === '\n') {
      start -= start >= 2 && this.text.charAt(start - 2) === '\r' ? 2 : 1;
    }
    this.splice(start, end, '');
  }

  /** Insert whole lines at a line start, keeping a missing final newline missing. */
  private insertLines(at: number, lines: string[]): void {
    const eol = this.file.eol;
    if (at === this.text.length && this.text.length > 0 && !this.text.endsWith('\n')) {
      this.splice(at, at, eol + lines.join(eol));
    } else {
      this.splice(at, at, lines.join(eol) + eol);
    }
  }

  private splice(start: number, end: number, text: string): void {
    this.splices.push({ start, end, text });
    this.changed = true;
  }

  // ---- style detection ----------------------------------------------------------------------------

  private detectIndentUnit(): number {
    for (const k of KINDS) {
      const seq = this.file.lists[k].seq;
      if (!seq || seq.flow) continue;
      for (const item of seq.items) {
        if (!isMap(item) || item.flow) continue;
        for (const p of item.items) {
          if (isMap(p.value) && !p.value.flow && p.value.items.length > 0 && isNodeWithRange(p.key)) {
            const unit = this.col(this.startOf(p.value.items[0])) - this.col(p.key.range[0]);
            if (unit > 0 && unit <= 8) return unit;
          }
        }
      }
    }
    return 2;
  }

  private detectSeqOffset(): number {
    for (const k of KINDS) {
      const { seq, pair } = this.file.lists[k];
      if (!seq || seq.flow || seq.items.length === 0 || !pair || !isNodeWithRange(pair.key)) continue;
      const off = this.col(this.dashOf(seq, 0)) - this.col(pair.key.range[0]);
      if (off >= 0 && off <= 8) return off;
    }
    return 0;
  }

  /** Block lines for a value placed under a key (a list gets the file's dash offset). */
  private blockValueLines(v: unknown): { lines: string[]; offset: number } {
    const lines = renderBlockLines(v, this.indentUnit, this.seqOffset > 0);
    return { lines, offset: Array.isArray(v) ? this.seqOffset : this.indentUnit };
  }

  private blockPairLines(key: string, v: unknown): string[] {
    if (isRecord(v) || Array.isArray(v)) {
      if (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0) return [`${key}: ${renderFlow(v)}`];
      const { lines, offset } = this.blockValueLines(v);
      return [`${key}:`, ...lines.map((l) => ' '.repeat(offset) + l)];
    }
    return [`${key}: ${renderScalar(v)}`];
  }

  private itemLines(obj: Json, dashCol: number): string[] {
    const lines = renderBlockLines(obj, this.indentUnit, this.seqOffset > 0);
    return lines.map((l, i) => (i === 0 ? ' '.repeat(dashCol) + '- ' + l : ' '.repeat(dashCol + 2) + l));
  }

  private quoteKeysIn(map: YAMLMap): boolean {
    const first = map.items[0];
    return !!first && isScalar(first.key) && first.key.type === 'QUOTE_DOUBLE';
  }

  // ---- operations -------------------------------------------------------------------------------

  /** Append an entry to `clusters`, `users` or `contexts`, creating the list if needed. */
  appendEntry(kind: Kind, obj: Json): void {
    this.appendEntries(kind, [obj]);
  }

  /** Append entries to one list in one edit (a second append to the same list would overlap the first). */
  appendEntries(kind: Kind, objs: Json[]): void {
    if (objs.length === 0) return;
    this.guard(() => {
      const list = this.file.lists[kind];
      const pair = list.pair;
      const current = this.expected[kind];
      this.expected[kind] = [...(Array.isArray(current) ? current : []), ...objs];
      if (!pair) {
        this.topAdds.push({ key: kind, value: objs });
        this.changed = true;
        return;
      }
      const v = pair.value;
      if (list.seq) {
        const seq = list.seq;
        if (seq.flow) {
          const quote = this.file.top ? this.quoteKeysIn(this.file.top) : false;
          const last = seq.items[seq.items.length - 1];
          if (last !== undefined) {
            this.splice(this.contentEnd(last), this.contentEnd(last), objs.map((o) => ', ' + renderFlow(o, quote)).join(''));
          } else {
            const open = this.ranged(seq).range[0];
            if (this.text.charAt(open) !== '[') throw new UnsafeEdit('cannot find "["');
            this.splice(open + 1, open + 1, objs.map((o) => renderFlow(o, quote)).join(', '));
          }
          return;
        }
        const dashCol = this.col(this.dashOf(seq, 0));
        const last = seq.items[seq.items.length - 1];
        // Follow the style of the entries already there: `- {name: ..., ...}` or a block mapping.
        const lines = objs.flatMap((o) => (isMap(last) && last.flow ? [' '.repeat(dashCol) + '- ' + renderFlow(o)] : this.itemLines(o, dashCol)));
        this.insertLines(this.afterDeeperComments(this.lineEnd(this.contentEnd(last)), dashCol), lines);
        return;
      }
      if (v === null || v === undefined || (isScalar(v) && v.value === null)) {
        const top = this.file.top!;
        if (top.flow) {
          if (!isNodeWithRange(v)) throw new UnsafeEdit('null value without position');
          this.splice(v.range[0], this.contentEnd(v), '[' + objs.map((o) => renderFlow(o, this.quoteKeysIn(top))).join(', ') + ']');
          return;
        }
        const colon = this.afterColon(pair);
        const valueEnd = isNodeWithRange(v) ? Math.max(colon, this.contentEnd(v)) : colon;
        if (valueEnd > colon) this.splice(colon, valueEnd, '');
        const keyCol = this.col(this.ranged(pair.key).range[0]);
        this.insertLines(this.lineEnd(valueEnd), objs.flatMap((o) => this.itemLines(o, keyCol + this.seqOffset)));
        return;
      }
      throw new UnsafeEdit(`${kind} is not a list`);
    });
  }

  /** Remove one entry; a block list left empty loses its key when nothing else (comments) sits there. */
  removeEntry(entry: Entry): void {
    this.guard(() => {
      const list = this.file.lists[entry.kind];
      const seq = list.seq;
      const pair = list.pair;
      if (!seq || !pair) throw new UnsafeEdit(`${entry.kind} is not written as a list`);
      const node = seq.items[entry.index];
      const current = this.expected[entry.kind];
      if (!Array.isArray(current)) throw new UnsafeEdit('list vanished');
      current.splice(entry.index, 1);
      const n = seq.items.length;
      if (seq.flow) {
        if (n === 1) this.splice(this.startOf(node), this.contentEnd(node), '');
        else if (entry.index > 0) this.splice(this.contentEnd(seq.items[entry.index - 1]), this.contentEnd(node), '');
        else this.splice(this.startOf(node), this.startOf(seq.items[1]), '');
        return;
      }
      const dash = this.dashOf(seq, entry.index);
      const start = this.onlySpaceBefore(dash) ? this.lineStart(dash) : dash;
      const end = this.lineEnd(this.contentEnd(node));
      if (n > 1) {
        this.deleteLines(start, end);
        return;
      }
      // The list becomes empty.
      const keyStart = this.ranged(pair.key).range[0];
      const colon = this.afterColon(pair);
      const keyLineClean =
        this.onlySpaceBefore(keyStart) &&
        /^[ \t]*\r?\n?$/.test(this.text.slice(colon, this.lineEnd(colon))) &&
        /^\s*$/.test(this.text.slice(this.lineEnd(colon), start));
      if (keyLineClean && !this.file.top?.flow) {
        delete this.expected[entry.kind];
        this.deleteLines(this.lineStart(keyStart), end);
      } else {
        this.expected[entry.kind] = [];
        this.deleteLines(start, end);
        this.splice(colon, colon, ' []');
      }
    });
  }

  /** Set a field inside an entry, e.g. ['user', 'exec', 'command']; creates missing mappings on the way. */
  setIn(entry: Entry, path: string[], value: unknown): void {
    this.guard(() => {
      setPlain(this.expectedEntry(entry), path, value);
      let node = this.entryNode(entry);
      let inFlow = !!this.file.lists[entry.kind].seq?.flow || !!node.flow;
      for (let k = 0; k < path.length; k++) {
        const key = path[k]!;
        const rest = buildNested(path.slice(k + 1), value);
        const pair = lastPair(node, key);
        if (!pair) {
          this.insertPair(node, key, rest, inFlow);
          return;
        }
        if (k === path.length - 1 || !isMap(pair.value)) {
          this.replaceValue(pair, rest, inFlow);
          return;
        }
        node = pair.value;
        inFlow ||= !!node.flow;
      }
    });
  }

  /** Remove a field inside an entry, if present. */
  deleteIn(entry: Entry, path: string[]): void {
    this.guard(() => {
      let node = this.entryNode(entry);
      let inFlow = !!this.file.lists[entry.kind].seq?.flow || !!node.flow;
      for (let k = 0; k < path.length; k++) {
        const pair = lastPair(node, path[k]!);
        if (!pair) return;
        if (k === path.length - 1) {
          deletePlain(this.expectedEntry(entry), path);
          this.deletePair(node, pair, inFlow);
          return;
        }
        if (!isMap(pair.value)) return;
        node = pair.value;
        inFlow ||= !!node.flow;
      }
    });
  }

  setCurrentContext(name: string): void {
    this.guard(() => {
      this.expected['current-context'] = name;
      const pair = this.file.currentContextPair;
      if (pair) this.replaceValue(pair, name, !!this.file.top?.flow);
      else {
        this.topAdds.push({ key: 'current-context', value: name });
        this.changed = true;
      }
    });
  }

  // ---- building blocks ----------------------------------------------------------------------------

  private expectedEntry(entry: Entry): Json {
    const list = this.expected[entry.kind];
    const item = Array.isArray(list) ? list[entry.index] : undefined;
    if (!isRecord(item)) throw new UnsafeEdit('entry vanished');
    return item;
  }

  private entryNode(entry: Entry): YAMLMap {
    const node = this.file.lists[entry.kind].seq?.items[entry.index];
    if (!isMap(node)) throw new UnsafeEdit(`the ${entry.kind} entry "${entry.name}" is not written as a plain mapping`);
    return node;
  }

  private replaceValue(pair: Pair, value: unknown, inFlow: boolean): void {
    const v = pair.value;
    const structured = isRecord(value) || Array.isArray(value);
    if (inFlow) {
      if (!isNodeWithRange(v)) throw new UnsafeEdit('value without position');
      const s = v.range[0];
      const e = this.contentEnd(v);
      const text = structured ? renderFlow(value) : renderScalarLike(v, value, true);
      this.splice(s, e, (s === e && this.text.charAt(s - 1) === ':' ? ' ' : '') + text);
      return;
    }
    const colon = this.afterColon(pair);
    const hasValue = isNodeWithRange(v) && !(isScalar(v) && v.value === null && v.range[0] === v.range[1]);
    if (!structured) {
      if (hasValue && (isScalar(v) || isAlias(v))) this.splice(v.range[0], this.contentEnd(v), renderScalarLike(v, value, false));
      else this.splice(colon, hasValue ? this.contentEnd(v) : colon, ' ' + renderScalar(value));
      return;
    }
    if (hasValue && (isMap(v) || isSeq(v)) && v.flow) {
      this.splice(v.range[0], this.contentEnd(v), renderFlow(value));
      return;
    }
    const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as Json).length === 0;
    if (empty) {
      this.splice(colon, hasValue ? this.contentEnd(v) : colon, ' ' + renderFlow(value));
      return;
    }
    const { lines, offset } = this.blockValueLines(value);
    if (hasValue && (isMap(v) || isSeq(v))) {
      const start = isSeq(v) ? this.dashOf(v, 0) : this.startOf(v.items[0]);
      const c = this.col(start);
      const eol = this.file.eol;
      this.splice(start, this.contentEnd(v), lines.map((l, i) => (i === 0 ? l : ' '.repeat(c) + l)).join(eol));
      return;
    }
    const c = this.col(this.ranged(pair.key).range[0]) + offset;
    const eol = this.file.eol;
    this.splice(colon, hasValue ? this.contentEnd(v) : colon, lines.map((l) => eol + ' '.repeat(c) + l).join(''));
  }

  private insertPair(map: YAMLMap, key: string, value: unknown, inFlow: boolean): void {
    if (inFlow || map.flow) {
      const quote = this.quoteKeysIn(map);
      const text = `${renderKey(key, quote)}: ${renderFlow(value, quote)}`;
      const last = map.items[map.items.length - 1];
      if (last) {
        this.splice(this.contentEnd(last), this.contentEnd(last), ', ' + text);
      } else {
        const open = this.ranged(map).range[0];
        if (this.text.charAt(open) !== '{') throw new UnsafeEdit('cannot find "{"');
        this.splice(open + 1, open + 1, text);
      }
      return;
    }
    const first = map.items[0];
    if (!first) throw new UnsafeEdit('empty block mapping');
    const c = this.col(this.startOf(first));
    const lines = this.blockPairLines(key, value).map((l) => ' '.repeat(c) + l);
    this.insertLines(this.afterDeeperComments(this.lineEnd(this.contentEnd(map)), c), lines);
  }

  private deletePair(map: YAMLMap, pair: Pair, inFlow: boolean): void {
    const i = map.items.indexOf(pair);
    if (map.items.length < 2) throw new UnsafeEdit('would leave an empty mapping');
    if (inFlow || map.flow) {
      if (i > 0) this.splice(this.contentEnd(map.items[i - 1]), this.contentEnd(pair), '');
      else this.splice(this.startOf(pair), this.startOf(map.items[1]), '');
      return;
    }
    const keyStart = this.ranged(pair.key).range[0];
    if (!this.onlySpaceBefore(keyStart)) throw new UnsafeEdit('key shares its line');
    this.deleteLines(this.lineStart(keyStart), this.lineEnd(this.contentEnd(pair)));
  }

  private finishTopAdds(): void {
    if (this.topAdds.length === 0) return;
    const top = this.file.top;
    if (top && top.flow) {
      const quote = this.quoteKeysIn(top);
      const text = this.topAdds.map(({ key, value }) => `${renderKey(key, quote)}: ${renderFlow(value, quote)}`);
      const last = top.items[top.items.length - 1];
      if (last) {
        this.splice(this.contentEnd(last), this.contentEnd(last), text.map((t) => ', ' + t).join(''));
      } else {
        const open = this.ranged(top).range[0];
        if (this.text.charAt(open) !== '{') throw new UnsafeEdit('cannot find "{"');
        this.splice(open + 1, open + 1, text.join(', '));
      }
      return;
    }
    const lines: string[] = [];
    let c = 0;
    let at: number;
    if (top && top.items.length > 0) {
      c = this.col(this.startOf(top.items[0]));
      at = this.afterDeeperComments(this.lineEnd(this.contentEnd(top)), c);
    } else {
      const contents = this.file.doc?.contents;
      if (contents === null || contents === undefined) {
        at = this.text.length;
      } else if (isScalar(contents) && contents.value === null && isNodeWithRange(contents)) {
        // A document that is just `---`, `null` or `~`: drop the null, write below it.
        const end = this.contentEnd(contents);
        if (end > contents.range[0]) this.splice(contents.range[0], end, '');
        at = this.lineEnd(end);
      } else {
        throw new UnsafeEdit('the top level is not a mapping');
      }
    }
    for (const { key, value } of this.topAdds) {
      if (Array.isArray(value)) {
        lines.push(`${key}:`);
        for (const item of value) lines.push(...this.itemLines(item as Json, this.seqOffset));
      } else {
        lines.push(...this.blockPairLines(key, value));
      }
    }
    this.insertLines(at, lines.map((l) => ' '.repeat(c) + l));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw this.unsafe(e);
    }
  }

  private unsafe(e: unknown): Error {
    if (e instanceof KubeconfigError) return e;
    const why = e instanceof UnsafeEdit ? e.message : `internal error: ${(e as Error).message}`;
    return new KubeconfigError(
      `${where(this.file.path)}: PocketKube could not change its entries without touching the rest of the file (${why}); nothing was written`,
      this.file.path,
    );
  }

  /**
   * The edited text, checked: it must parse as a kubeconfig and read exactly as the plain-data model of
   * the edits says. Anything else means an edit went wrong, and nothing may be written.
   */
  result(): string {
    try {
      this.finishTopAdds();
    } catch (e) {
      throw this.unsafe(e);
    }
    const sorted = this.splices.map((s, i) => ({ ...s, i })).sort((a, b) => a.start - b.start || a.i - b.i);
    let out = '';
    let pos = 0;
    for (const s of sorted) {
      if (s.start < pos) throw this.unsafe(new UnsafeEdit('two edits overlap'));
      out += this.text.slice(pos, s.start) + s.text;
      pos = s.end;
    }
    out += this.text.slice(pos);
    let reread: KubeFile;
    try {
      reread = parseKubeconfig(this.file.path, out);
    } catch (e) {
      throw this.unsafe(new UnsafeEdit(`the edited file would not parse: ${(e as Error).message}`));
    }
    if (!isDeepStrictEqual(normalizeConfig(reread.js), normalizeConfig(this.expected))) {
      throw this.unsafe(new UnsafeEdit('the edited file would not read as intended'));
    }
    return out;
  }
}

function isNodeWithRange(v: unknown): v is Ranged {
  return !!v && typeof v === 'object' && 'range' in v && Array.isArray((v as Ranged).range);
}

function buildNested(path: string[], value: unknown): unknown {
  let v = value;
  for (let i = path.length - 1; i >= 0; i--) v = { [path[i]!]: v };
  return v;
}

function setPlain(obj: Json, path: string[], value: unknown): void {
  let o = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    if (!isRecord(o[k])) o[k] = {};
    o = o[k] as Json;
  }
  o[path[path.length - 1]!] = structuredClone(value);
}

function deletePlain(obj: Json, path: string[]): void {
  let o: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isRecord(o)) return;
    o = o[path[i]!];
  }
  if (isRecord(o)) delete o[path[path.length - 1]!];
}
