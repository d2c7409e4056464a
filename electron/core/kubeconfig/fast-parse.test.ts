/**
 * The fast reader against the full one: on every corpus file and on thousands of mutated files, whenever
 * fastParse gives an answer it is exactly what parse.ts reads, and whenever parse.ts refuses a file as
 * YAML, fastParse gives up. The current-context splice is checked with the full reader too.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { corpus, hugeConfig } from '../../../tests/support/corpus.js';
import { fastParse, fastParseOrWhy, spliceCurrentContext } from './fast-parse.js';
import { PARSE_OPTIONS, parseKubeconfig, type Json } from './parse.js';

/** What the full reader makes of `text`: its data, or `undefined` when it refuses the text as YAML. */
function reference(text: string): Json | undefined {
  try {
    return parseKubeconfig('/k/config', text).js;
  } catch (e) {
    // Refused for what the YAML says (a type, a duplicate name): compare with the YAML it read.
    if (/not valid YAML|YAML 1\.1 only|must be a plain value|cannot be read|top level must/.test((e as Error).message)) return undefined;
    const js = parseAllDocuments(text, PARSE_OPTIONS)[0]?.toJS({ maxAliasCount: 1000 }) as unknown;
    return (js ?? {}) as Json;
  }
}

/** mulberry32: small, seeded, the same sequence on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [' ', '  ', '-', '- ', ':', ': ', '#', ' #', '"', "'", '\n', '\r\n', '\t', '{', '}', '[', ']', '{}', '[]', '&a ', '*a', '!!str ', '|', '>', '%', '@', '`', '?', ',', '\\', '~', '.', '0', 'y', 'é', '\u2028', '\u0085', '\uFEFF', '---\n', '...\n'];
const VALUES = [
  'yes', 'No', 'on', 'OFF', 'y', 'n', 'true', 'null', 'Null', '~', '', '0x1F', '012', '0b101', '1_000', '1e3', '.5', '-.inf', '.NaN', '+1', '-1',
  '1:30', '2024-01-01', '2024-01-01T10:00:00Z', '"quoted"', "'it''s'", '"a#b" # c', "'x' y", '"a\\"b"', '{}', '[]', '{a: 1}', '[a]', '- a', 'a: b',
  'a:', 'a:b', 'a #c', 'a#c', '|', '>-', '&x y', '*x', '!!str 5', '--flag=x', '-', '? x', ': x', '@x', '`x`', '%x', 'é', 'https://[::1]:6443',
  'QUJD', 'QUJ', 'QUI=', 'QQ==', 'Q===', 'true # bool', "''", '""', '"unterminated', "'unterminated", '"tab\\tx"', '"back\\\\slash"',
  '{ # c', '[ # c', '{  # c', '[  # c', '"x"#c', "'x'#c", '{}#c', '"x"  # c',
];

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const pick = (n: number) => Math.floor(r() * n);
  switch (pick(7)) {
    case 0: {
      const at = pick(text.length + 1);
      return text.slice(0, at) + CHARS[pick(CHARS.length)] + text.slice(at);
    }
    case 1: {
      const at = pick(text.length);
      return text.slice(0, at) + text.slice(at + 1 + pick(3));
    }
    case 2: {
      const i = pick(lines.length);
      const delta = [-2, -1, 1, 2][pick(4)]!;
      lines[i] = delta > 0 ? ' '.repeat(delta) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-delta}}`), '');
      return lines.join('\n');
    }
    case 3: {
      const i = pick(lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 4: {
      const i = pick(Math.max(1, lines.length - 1));
      [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
      return lines.join('\n');
    }
    default: {
      // Give some `key: value` line another value.
      const candidates = lines.map((l, i) => (/^\s*(?:- )?[\w.-]+: /.test(l) ? i : -1)).filter((i) => i >= 0);
      if (candidates.length === 0) return text;
      const i = candidates[pick(candidates.length)]!;
      lines[i] = lines[i]!.replace(/^(\s*(?:- )?[\w.-]+: ).*$/, (_m, k: string) => k + VALUES[pick(VALUES.length)]);
      return lines.join('\n');
    }
  }
}

/** fastParse must agree with the full reader, or give up; its current-context span must splice correctly. */
function agree(text: string, label: string): 'fast' | 'fallback' {
  const fast = fastParse(text);
  if (!fast) return 'fallback';
  const ref = reference(text);
  assert.notEqual(ref, undefined, `${label}: the full reader refuses this, the fast one read it:\n${text}`);
  assert.deepEqual(fast.js, ref, `${label}: the fast reader reads it differently:\n${text}`);
  if (fast.currentContext) {
    for (const name of ['switched', 'team:prod/a', "it's", 'yes', 'a #b']) {
      const next = spliceCurrentContext(text, fast.currentContext, name);
      if (name === 'switched') assert.ok(next !== undefined, `${label}: a plain name can always be spliced:\n${text}`);
      if (next === undefined) continue;
      const again = reference(next);
      assert.ok(again, `${label}: the spliced text does not read:\n${next}`);
      assert.deepEqual(again, { ...ref, 'current-context': name }, `${label}: the splice changed more than current-context:\n${next}`);
    }
  }
  return 'fast';
}

describe('the fast kubeconfig reader', () => {
  test('agrees with the full reader on every corpus file', () => {
    const fast: string[] = [];
    for (const c of corpus) {
      for (const f of c.files) if (f !== null && agree(f, c.name) === 'fast') fast.push(c.name);
    }
    // The shapes kubectl, talosctl and most people write stay on the fast path.
    for (const name of ['kubectl-written file', 'talosctl kubeconfig output with 4-space indented lists', 'CRLF line endings', 'byte order mark', 'huge file with 5,000 contexts']) {
      assert.ok(fast.includes(name), `${name} is read by the fast reader`);
    }
  });

  test('agrees with the full reader on 12,000 mutated files, or gives up', () => {
    const r = rng(20261128);
    const seeds = corpus.flatMap((c) => c.files.filter((f): f is string => f !== null && f.length < 20_000));
    let fast = 0;
    let total = 0;
    for (let round = 0; round < 12_000; round++) {
      let text = seeds[round % seeds.length]!;
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) text = mutate(text, r);
      total++;
      if (agree(text, `mutant ${round}`) === 'fast') fast++;
    }
    // Enough of them take the fast path for this to mean something.
    assert.ok(fast > total / 5, `${fast} of ${total} mutants were read by the fast reader`);
  });

  test('YAML 1.1 scalars, comments and quoting read as the full reader reads them', () => {
    const cases = VALUES.flatMap((v) => [`a: ${v}\n`, `a:\n- ${v}\n`, `a:\n  b: ${v}   # c\n`, `- ${v}\n`]);
    cases.push(
      'a:\n  b\n',
      'a:\n  b\n  c\n',
      'a: b\n  c\n',
      'a:\n- b\n- c\nd: e\n',
      'a:\n  - b\n c: d\n',
      '- a: 1\n  b: 2\n- c\n',
      '-\n  a: 1\n-\n',
      '- - a\n',
      'a: 1\na: 2\n',
      'on: 1\n',
      'y: 1\n',
      '<<: {}\n',
      'key:value\n',
      'a: b\n---\nc: d\n',
      '---\na: b\n',
      '--- # start\na: b\n',
      '---a: b\n',
      'a: b\n...\n',
      '\uFEFFa: b\n',
      'a: b\r\nc: d\r\n',
      'a: b\rc: d\n',
      '  a: b\n',
      'a: "x" y\n',
      "a: 'x''y'\n",
      'a: b # c\n# d\n    # e\nf: g\n',
      'current-context: one\ncurrent-context: two\n',
      'current-context:\n',
      'current-context: # none\n',
      'current-context: ""\n',
      "current-context: ''\n",
      'current-context: ~\n',
      'current-context:\n  nested: x\n',
    );
    let fast = 0;
    for (const text of cases) if (agree(text, JSON.stringify(text)) === 'fast') fast++;
    assert.ok(fast > cases.length / 3, `${fast} of ${cases.length} read by the fast reader`);
  });

  test('says where a file leaves the fast subset', () => {
    assert.deepEqual(fastParseOrWhy('a: b\nc: {d: e}\n'), { line: 2 });
    assert.deepEqual(fastParseOrWhy('a: b\n\tc: d\n'), { line: 2 });
  });

  test('reads a 5,000-context file in a fraction of the full reader’s time', () => {
    const text = hugeConfig();
    const t0 = performance.now();
    const fast = fastParse(text);
    const fastMs = performance.now() - t0;
    const t1 = performance.now();
    const full = parseKubeconfig('/k/config', text);
    const fullMs = performance.now() - t1;
    assert.ok(fast);
    assert.deepEqual(fast.js, full.js);
    assert.ok(fastMs < fullMs / 3, `fast ${fastMs.toFixed(1)} ms, full ${fullMs.toFixed(1)} ms`);
  });
});
