import { Document, isScalar } from 'yaml';
import { renderScalar } from './edit.js';
import { PARSE_OPTIONS, type Json } from './parse.js';

/**
 * A fast reader for the YAML most kubeconfig files are written in: block mappings and lists, one-line
 * plain or quoted scalars, `{}` and `[]`, comments; the way kubectl, talosctl and people write them.
 * It gives the same plain data as parse.ts's full reader (YAML 1.1 scalars, later duplicate keys win), or
 * `undefined` the moment a line is anything else (flow collections, anchors, tags, block or multi-line
 * scalars, escapes, tabs, control characters, directives, a second document...): the caller then
 * reads the file with the full parser, which also words the errors. It never accepts text the full reader
 * would refuse; fast-parse.test.ts checks that against the corpus and thousands of mutated files.
 *
 * It exists so `pocketkube use` on a kubeconfig of thousands of contexts costs milliseconds, not seconds:
 * switching context needs the file validated and one line changed, not a syntax tree of every node.
 */

export interface ScalarSpan {
  /** Offsets of the value's source (quotes included); start === end for a missing value (`key:`). */
  start: number;
  end: number;
  style: 'plain' | 'single' | 'double' | 'empty';
}

export interface FastParsed {
  js: Json;
  /** The last top-level `current-context` pair's value (the one kubectl reads), when it is a one-line scalar. */
  currentContext?: ScalarSpan;
}

/** Thrown (and caught below) when the text leaves the subset; the offset says where, for tests. */
class NotSimple extends Error {
  constructor(readonly offset: number) {
    super('outside the fast subset');
  }
}

// Resolve plain scalars exactly as the full reader does: its own YAML 1.1 tags, timestamps left out.
const scalarTags = new Document(null, PARSE_OPTIONS).schema.tags.filter(
  (t): t is typeof t & { test: RegExp; resolve: (s: string, onError: (m: string) => void, o: object) => unknown } =>
    t.default === true && 'test' in t && t.test instanceof RegExp && !('collection' in t && t.collection),
);
const RESOLVE_OPTIONS = { intAsBigInt: false };
/** The only plain scalars starting with a letter that YAML 1.1 does not read as text. */
const WORDS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (letter && !WORDS.test(s)) return s;
  const tag = scalarTags.find((t) => t.test.test(s));
  if (!tag) return s;
  let failed = false;
  const v = tag.resolve(s, () => (failed = true), RESOLVE_OPTIONS);
  if (failed) throw new NotSimple(-1);
  return isScalar(v) ? v.value : v;
}

// Printable text: ASCII and non-ASCII apart from C1 controls, line/paragraph separators and the BOM.
const OUTSIDE = /[^\n\r\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\uffff]|\r(?!\n)/;
// A mapping key as kubectl files write them, then ":" (which must be followed by a space or the line end).
const KEY = /([A-Za-z_][A-Za-z0-9_./-]*):/y;
// Characters that cannot start a plain scalar (YAML indicators); "-" may when followed by a non-space.
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;

class Reader {
  private readonly text: string;
  /** Per content line (blank and comment lines left out): column, start and end of its content. */
  private readonly col: number[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private i = 0;
  currentContext?: ScalarSpan;

  constructor(text: string) {
    this.text = text;
    let seenContent = false;
    // A byte order mark at the very start is not content (YAML drops it).
    let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    while (pos <= text.length) {
      let eol = text.indexOf('\n', pos);
      if (eol === -1) eol = text.length;
      const lineEnd = eol > pos && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
      let s = pos;
      while (s < lineEnd && text.charCodeAt(s) === 32) s++;
      if (s < lineEnd && text.charCodeAt(s) !== 35 /* # */) {
        const col = s - pos;
        const c = text.charCodeAt(s);
        if (col === 0 && (c === 37 /* % */ || ((c === 45 || c === 46) && /^(?:---|\.\.\.)(?: |$)/.test(text.slice(s, Math.min(lineEnd, s + 4)))))) {
          // A directive or a document marker: only a leading `---` with nothing after it is simple.
          if (seenContent || c !== 45 || !/^---[ ]*(?:#.*)?$/.test(text.slice(s, lineEnd))) throw new NotSimple(s);
        } else {
          seenContent = true;
          this.col.push(col);
          this.start.push(s);
          this.end.push(this.trimEnd(s, lineEnd));
        }
      }
      pos = eol + 1;
    }
  }

  private stop(): NotSimple {
    return new NotSimple(this.start[Math.min(this.i, this.count - 1)] ?? 0);
  }

  private trimEnd(s: number, e: number): number {
    while (e > s && this.text.charCodeAt(e - 1) === 32) e--;
    return e;
  }

  get count(): number {
    return this.col.length;
  }

  parseDocument(): Json {
    if (this.count === 0) return {};
    if (this.col[0] !== 0) throw this.stop();
    const js = this.node(0, -1, true);
    if (this.i !== this.count || typeof js !== 'object' || js === null || Array.isArray(js)) throw this.stop();
    return js as Json;
  }

  private isDash(i: number): boolean {
    const s = this.start[i]!;
    return this.text.charCodeAt(s) === 45 && (s + 1 === this.end[i]! || this.text.charCodeAt(s + 1) === 32);
  }

  /** The key of a `key: value` or `key:` line, and where its value starts (the line end when none). */
  private keyAt(i: number): { key: string; keyStart: number; rest: number } | null {
    const s = this.start[i]!;
    const e = this.end[i]!;
    KEY.lastIndex = s;
    const m = KEY.exec(this.text);
    if (!m) return null;
    let rest = s + m[0].length;
    if (rest > e || (rest < e && this.text.charCodeAt(rest) !== 32)) return null;
    while (rest < e && this.text.charCodeAt(rest) === 32) rest++;
    return { key: m[1]!, keyStart: s, rest };
  }

  /** The node whose first line is line `this.i`, at column `col`; `parentCol` is the enclosing block's. */
  private node(col: number, parentCol: number, top = false): unknown {
    if (this.isDash(this.i)) return this.seq(col);
    if (this.keyAt(this.i)) return this.map(col, top);
    const v = this.scalar(this.start[this.i]!, this.end[this.i]!).value;
    this.i++;
    this.noContinuation(parentCol);
    return v;
  }

  /** After a one-line value, a line indented deeper than its block would continue it (or be an error). */
  private noContinuation(blockCol: number): void {
    if (this.i < this.count && this.col[this.i]! > blockCol) throw this.stop();
  }

  private map(col: number, top: boolean): Json {
    const obj: Json = {};
    while (this.i < this.count && this.col[this.i] === col) {
      const m = this.keyAt(this.i);
      if (!m) throw this.stop();
      const key = m.key;
      if (key.length > 1024 || key === '__proto__' || resolvePlain(key) !== key) throw this.stop();
      const restStart = m.rest;
      const end = this.end[this.i]!;
      let value: unknown;
      let span: ScalarSpan;
      if (restStart >= end || this.text.charCodeAt(restStart) === 35 /* # */) {
        const afterColon = m.keyStart + key.length + 1;
        span = { start: afterColon, end: afterColon, style: 'empty' };
        this.i++;
        value = this.valueBelow(col, true);
      } else {
        const sc = this.scalar(restStart, end);
        value = sc.value;
        span = sc.span;
        this.i++;
        this.noContinuation(col);
      }
      obj[key] = value;
      if (top && key === 'current-context') {
        if (span.style === 'empty' && value !== null) delete this.currentContext;
        else this.currentContext = span;
      }
    }
    if (this.i < this.count && this.col[this.i]! > col) throw this.stop();
    return obj;
  }

  /** The value on the lines after `key:` or a bare `-` at column `col`: a nested block, or null. */
  private valueBelow(col: number, compactSeq: boolean): unknown {
    if (this.i >= this.count) return null;
    const c = this.col[this.i]!;
    if (c > col) return this.node(c, col);
    // A list may sit at the same column as the key that holds it (kubectl writes them so).
    if (compactSeq && c === col && this.isDash(this.i)) return this.seq(col);
    return null;
  }

  private seq(col: number): unknown[] {
    const arr: unknown[] = [];
    while (this.i < this.count && this.col[this.i] === col && this.isDash(this.i)) {
      const s = this.start[this.i]! + 1;
      let r = s;
      const end = this.end[this.i]!;
      while (r < end && this.text.charCodeAt(r) === 32) r++;
      if (r >= end || this.text.charCodeAt(r) === 35 /* # */) {
        this.i++;
        arr.push(this.valueBelow(col, false));
        continue;
      }
      const itemCol = col + (r - s) + 1;
      // The item's content becomes a line of its own at its column (`- name: x` is a mapping at col+2).
      this.col[this.i] = itemCol;
      this.start[this.i] = r;
      if (this.isDash(this.i)) throw this.stop(); // `- - x`
      arr.push(this.node(itemCol, col));
    }
    return arr;
  }

  private scalar(s: number, e: number): { value: unknown; span: ScalarSpan } {
    const text = this.text;
    const c = text.charCodeAt(s);
    if (c === 34 /* " */ || c === 39 /* ' */) {
      const q = c === 34 ? '"' : "'";
      let j = s + 1;
      for (;;) {
        j = text.indexOf(q, j);
        if (j === -1 || j >= e) throw this.stop();
        if (q === "'" && text.charCodeAt(j + 1) === 39 && j + 1 < e) {
          j += 2;
          continue;
        }
        break;
      }
      const inner = text.slice(s + 1, j);
      if (q === '"' && inner.includes('\\')) throw this.stop();
      this.afterValue(j + 1, e);
      return { value: q === "'" ? inner.replace(/''/g, "'") : inner, span: { start: s, end: j + 1, style: q === '"' ? 'double' : 'single' } };
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (text.charCodeAt(s + 1) !== (c === 123 ? 125 : 93)) throw this.stop();
      this.afterValue(s + 2, e);
      return { value: c === 123 ? {} : [], span: { start: s, end: s + 2, style: 'plain' } };
    }
    let v = text.slice(s, e);
    const hash = v.indexOf(' #');
    if (hash !== -1) v = v.slice(0, hash).trimEnd();
    if (INDICATOR.test(v) && !(c === 45 && v.length > 1 && v.charCodeAt(1) !== 32)) throw this.stop();
    if (v.includes(': ') || v.endsWith(':')) throw this.stop();
    return { value: resolvePlain(v), span: { start: s, end: s + v.length, style: 'plain' } };
  }

  /** After a quoted or flow value only spaces and a comment may follow. */
  private afterValue(p: number, e: number): void {
    if (p === e) return;
    if (this.text.charCodeAt(p) !== 32) throw this.stop();
    while (p < e && this.text.charCodeAt(p) === 32) p++;
    if (p < e && this.text.charCodeAt(p) !== 35) throw this.stop();
  }
}

/**
 * The text with the value at `span` (a `current-context` value found by fastParse) replaced by `name`,
 * written in the same style (plain, 'single' or "double"), the way FileEditor.setCurrentContext does.
 * Checked before it is returned: the edit stays on its line, every other byte is the old text's, and the
 * changed line, read again on its own, says `current-context: <name>` and nothing else. The fast reader
 * sees a top-level line only together with the indentation of the next one, which did not change, so the
 * whole text now reads as before with the new current-context. Undefined when that cannot be shown.
 */
export function spliceCurrentContext(text: string, span: ScalarSpan, name: string): string | undefined {
  const printable = !/[\x00-\x1f\x7f\u0085\u2028\u2029]/.test(name);
  let v: string;
  if (span.style === 'double' && printable) v = JSON.stringify(name);
  else if (span.style === 'single' && printable) v = `'${name.replace(/'/g, "''")}'`;
  else v = renderScalar(name);
  if (span.style === 'empty') v = ' ' + v;
  if (/[\r\n]/.test(v) || text.slice(span.start, span.end).includes('\n')) return undefined;
  const next = text.slice(0, span.start) + v + text.slice(span.end);
  const lineStart = text.lastIndexOf('\n', span.start - 1) + 1;
  let lineEnd = next.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = next.length;
  else if (next.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  const again = fastParse(next.slice(lineStart, lineEnd));
  if (!again || again.js['current-context'] !== name || Object.keys(again.js).length !== 1) return undefined;
  return next;
}

/** Plain data for kubeconfig text in the simple subset, or undefined (read it with the full parser). */
export function fastParse(text: string): FastParsed | undefined {
  const r = fastParseOrWhy(text);
  return 'js' in r ? r : undefined;
}

/** For tests: the parse, or the line (1-based) where the text leaves the fast subset. */
export function fastParseOrWhy(text: string): FastParsed | { line: number } {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const bad = OUTSIDE.exec(bom ? text.slice(bom) : text);
  if (bad) return { line: lineAt(text, bad.index + bom) };
  try {
    const r = new Reader(text);
    const js = r.parseDocument();
    const out: FastParsed = { js };
    if (r.currentContext) out.currentContext = r.currentContext;
    return out;
  } catch (e) {
    if (e instanceof NotSimple) return { line: e.offset < 0 ? 0 : lineAt(text, e.offset) };
    throw e;
  }
}

function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
