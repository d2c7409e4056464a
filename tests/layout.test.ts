/**
 * The code layout as rules the tree must keep (README, "Code layout"): which folder may import which, only
 * the desktop shell imports Electron, the renderer sees only electron/shared, no import cycle, and nothing
 * the app ships reaches test or stand-in code. Read from the TypeScript sources with TypeScript's own
 * import scanner, so type-only imports count too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Layer = 'shared' | 'core' | 'agent' | 'client' | 'cli' | 'desktop' | 'renderer' | 'tests';

/** Who may import whom. A layer always may import itself; `electron` is the npm package, not our folder. */
const ALLOWED: Record<Layer, Layer[]> = {
  shared: [],
  core: ['shared'],
  agent: ['core', 'shared'],
  client: ['core', 'shared'],
  cli: ['client', 'agent', 'core', 'shared'],
  desktop: ['client', 'agent', 'core', 'shared'],
  renderer: ['shared'],
  tests: ['desktop', 'cli', 'client', 'agent', 'core', 'shared', 'renderer'],
};

interface SourceFile {
  /** Repository-relative, with forward slashes. */
  file: string;
  layer: Layer;
  test: boolean;
  /** Relative imports resolved to repository-relative source files; bare ones (packages) as written. */
  imports: { spec: string; target?: string }[];
}

function layerOf(file: string): Layer | undefined {
  if (file.startsWith('renderer/')) return 'renderer';
  if (file.startsWith('tests/')) return 'tests';
  const m = /^electron\/([^/]+)\//.exec(file);
  return m && (['shared', 'core', 'agent', 'client', 'cli', 'desktop'] as string[]).includes(m[1]!) ? (m[1] as Layer) : undefined;
}

function walk(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => `${dir}/${f.split(path.sep).join('/')}`);
}

function resolveSource(from: string, spec: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [joined.replace(/\.js$/, '.ts'), joined.replace(/\.js$/, '.tsx'), joined]) {
    try {
      readFileSync(path.join(REPO, candidate));
      return candidate;
    } catch {
      /* try the next spelling */
    }
  }
  return joined;
}

function scan(): SourceFile[] {
  const files = [...walk('electron'), ...walk('renderer'), ...walk('tests')];
  return files.map((file) => {
    const info = ts.preProcessFile(readFileSync(path.join(REPO, file), 'utf8'), true, true);
    return {
      file,
      layer: layerOf(file)!,
      test: /\.test\.tsx?$/.test(file),
      imports: info.importedFiles.map(({ fileName: spec }) => (spec.startsWith('.') ? { spec, target: resolveSource(file, spec) } : { spec })),
    };
  });
}

const sources = scan();
const product = sources.filter((s) => s.layer !== 'tests' && !s.test);

describe('code layout', () => {
  test('every source file under electron/ sits in one of the six folders', () => {
    const stray = sources.filter((s) => s.file.startsWith('electron/') && s.layer === undefined).map((s) => s.file);
    assert.deepEqual(stray, []);
    assert.ok(sources.filter((s) => s.layer === 'core').length > 20, 'the scan found the engine');
  });

  test('only electron/desktop imports Electron', () => {
    const found = sources
      .filter((s) => s.layer !== 'desktop' && s.layer !== 'tests')
      .flatMap((s) => s.imports.filter((i) => i.spec === 'electron' || i.spec.startsWith('electron/')).map((i) => `${s.file}: ${i.spec}`));
    assert.deepEqual(found, []);
    assert.ok(
      sources.some((s) => s.file === 'electron/desktop/main.ts' && s.imports.some((i) => i.spec === 'electron')),
      'the desktop shell does import Electron (the rule checks real imports)',
    );
  });

  test('each folder imports only the folders beneath it', () => {
    const found: string[] = [];
    for (const s of sources) {
      for (const i of s.imports) {
        if (!i.target) continue;
        const to = layerOf(i.target);
        if (!to) {
          if (s.layer !== 'tests' && !i.target.startsWith('electron/')) found.push(`${s.file} -> ${i.target} (outside the layout)`);
          continue;
        }
        // A unit test beside its file may use tests/support (the corpus, temp dirs); the file it tests may not.
        if (to === 'tests' && s.test) continue;
        if (to !== s.layer && !ALLOWED[s.layer].includes(to)) found.push(`${s.file} (${s.layer}) -> ${i.target} (${to})`);
      }
    }
    assert.deepEqual(found, []);
  });

  test('a unit test beside its file starts no program: nothing it imports from tests/ reaches node:child_process', () => {
    const byFile = new Map(sources.map((s) => [s.file, s]));
    const spawns = (s: SourceFile) => s.imports.some((i) => i.spec === 'node:child_process' || i.spec === 'child_process');
    const found: string[] = [];
    for (const unit of sources.filter((s) => s.test && s.layer !== 'tests')) {
      // Breadth first through tests/ only, remembering how each module was reached.
      const via = new Map<string, string>();
      const queue = unit.imports.map((i) => i.target).filter((t): t is string => !!t?.startsWith('tests/'));
      for (const t of queue) via.set(t, unit.file);
      for (let k = 0; k < queue.length; k++) {
        const mod = byFile.get(queue[k]!);
        if (!mod) continue;
        if (spawns(mod)) {
          const chain = [mod.file];
          for (let at = mod.file; via.get(at) !== unit.file; at = via.get(at)!) chain.unshift(via.get(at)!);
          found.push(`${unit.file} -> ${chain.join(' -> ')}`);
          break;
        }
        for (const t of mod.imports.map((i) => i.target)) {
          if (t?.startsWith('tests/') && !via.has(t)) {
            via.set(t, mod.file);
            queue.push(t);
          }
        }
      }
    }
    assert.deepEqual(found, [], 'move these to tests/ (README: Tests, what runs where)');
    assert.ok(sources.some((s) => s.file === 'tests/support/run.ts' && spawns(s)), 'the rule sees the module that spawns programs');
  });

  test('the renderer imports only electron/shared from the engine', () => {
    const found = sources
      .filter((s) => s.layer === 'renderer')
      .flatMap((s) => s.imports.filter((i) => i.target?.startsWith('electron/') && !i.target.startsWith('electron/shared/')).map((i) => `${s.file}: ${i.spec}`));
    assert.deepEqual(found, []);
  });

  test('electron/shared loads nothing at run time: no Node module, no package but types', () => {
    const found: string[] = [];
    for (const s of sources.filter((x) => x.layer === 'shared' && !x.test)) {
      const text = readFileSync(path.join(REPO, s.file), 'utf8');
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        if (!m[1]!.startsWith('./')) found.push(`${s.file}: ${m[1]}`);
      }
    }
    assert.deepEqual(found, []);
  });

  test('product code imports no test, stand-in, harness or corpus code', () => {
    const found = product.flatMap((s) => s.imports.filter((i) => i.target?.startsWith('tests/')).map((i) => `${s.file}: ${i.spec}`));
    assert.deepEqual(found, []);
    const devOnly = ['jose', 'selfsigned', 'oidc-provider', 'playwright', 'playwright-core', 'axe-core', 'typescript'];
    const devImports = product.flatMap((s) => s.imports.filter((i) => devOnly.includes(i.spec)).map((i) => `${s.file}: ${i.spec}`));
    assert.deepEqual(devImports, [], 'the shipped app has no dev dependencies at run time');
  });

  test('there is no import cycle', () => {
    const graph = new Map(sources.map((s) => [s.file, s.imports.flatMap((i) => (i.target ? [i.target] : []))]));
    // Tarjan's strongly connected components; any component of two or more files is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    assert.deepEqual(cycles, []);
  });

  test('the packaged app takes only built product folders, never tests or stand-ins', () => {
    const config = parseYaml(readFileSync(path.join(REPO, 'electron-builder.yml'), 'utf8')) as { files: string[] };
    const included = config.files.filter((f) => !f.startsWith('!'));
    const excluded = config.files.filter((f) => f.startsWith('!'));
    for (const glob of included) {
      assert.ok(glob === 'package.json' || /^dist\/(electron|preload|renderer|cli)\/\*\*$/.test(glob), `${glob} is a product folder`);
    }
    assert.ok(excluded.includes('!dist/**/*.test.js'), 'unit tests beside their files are left out');
    // What dist/electron holds comes from electron/ alone (tsc mirrors the tree), and electron/ holds no test code
    // but *.test.ts, which the exclusion drops.
    const testCode = product.filter((s) => s.file.startsWith('electron/') && /stand-in|harness|corpus|test-helper|fixture/.test(s.file));
    assert.deepEqual(testCode.map((s) => s.file), []);
  });
});
