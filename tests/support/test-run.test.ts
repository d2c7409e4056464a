/**
 * `npm test`'s wrapper (test-run.ts) run on fixture test files: under CI=true any skip fails the run and is
 * named with its reason, except the Electron smoke tests' "no Electron binary"; outside CI skips are listed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { run } from './run.js';
import { removeTempDir, tempDir } from './temp.js';
import type { SkipRecord } from './skip-reporter.js';
import { sourceOf } from './test-run.js';

const WRAPPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-run.js');
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTempDir(d);
});

/** A directory of test files, `files` relative path -> source. */
function fixture(files: Record<string, string>): string {
  const dir = tempDir('pk-test-run-fixture-');
  dirs.push(dir);
  for (const [rel, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), `import { describe, test } from 'node:test';\n${src}\n`);
  }
  return dir;
}

/** The wrapper on `dir`, with CI set or not; node's own test context is not passed on, as in a terminal. */
function wrapper(dir: string, ci: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  delete env['CI'];
  if (ci) env['CI'] = 'true';
  return run(process.execPath, [WRAPPER, dir], env, { timeoutMs: 60_000 });
}

const ZSH_SKIP = `test('passes', () => {});\ntest('zsh completes', (t) => { t.skip('zsh is not installed here'); });`;
const ELECTRON_SKIP = `test('the app starts', { skip: 'skipped: no Electron binary' }, () => {});\ntest('the window opens', { skip: 'skipped: no Electron binary' }, () => {});`;

test('under CI a skipped test fails the run, named with its file, line and reason', async () => {
  const dir = fixture({ 'tests/cli/zsh.test.mjs': ZSH_SKIP });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /test-run: 1 test\(s\) or suite\(s\) skipped under CI, where only the Electron smoke tests may skip; .* failing the run:\n/);
  assert.match(r.stdout, /^ {2}skip .*tests\/cli\/zsh\.test\.mjs:3 "zsh completes": zsh is not installed here$/m);
});

test('under CI a skipped suite fails the run, though node counts none of its tests', async () => {
  const dir = fixture({ 'owner.test.mjs': `describe('as another user', { skip: 'needs root' }, () => { test('refused', () => {}); test('kept', () => {}); });` });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /ℹ skipped 0\n/, "node's summary counts no skip for a skipped suite");
  assert.match(r.stdout, /^ {2}skip .*owner\.test\.mjs:2 "as another user": needs root$/m);
});

test('under CI the Electron smoke tests may skip for want of a binary, and the summary says so', async () => {
  const dir = fixture({ 'tests/electron/smoke.test.mjs': ELECTRON_SKIP, 'tests/other.test.mjs': `test('passes', () => {});` });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /test-run: 2 Electron smoke test\(s\) skipped: no Electron binary here \(the only skip CI allows; .*\)\.\ntest-run: no other test skipped\.\n$/);
});

test('under CI the smoke test file skipping for another reason fails the run', async () => {
  const dir = fixture({ 'tests/electron/smoke.test.mjs': `test('the app starts', { skip: 'no display' }, () => {});` });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}skip .*smoke\.test\.mjs:2 "the app starts": no display$/m);
});

test('under CI a "no Electron binary" skip in any file but the smoke tests fails the run', async () => {
  const dir = fixture({ 'tests/cli/electron.test.mjs': ELECTRON_SKIP });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /test-run: 2 test\(s\) or suite\(s\) skipped under CI, .* failing the run:\n/);
  assert.match(r.stdout, /^ {2}skip .*tests\/cli\/electron\.test\.mjs:2 "the app starts": skipped: no Electron binary$/m);
});

test('outside CI skips are listed and the run passes', async () => {
  const dir = fixture({ 'tests/cli/zsh.test.mjs': ZSH_SKIP });
  const r = await wrapper(dir, false);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /test-run: 1 test\(s\) or suite\(s\) skipped \(allowed outside CI; with CI=true they fail the run\):\n {2}skip .*zsh\.test\.mjs:3 "zsh completes": zsh is not installed here\n$/);
});

test('a failing test fails the run with no skip at all', async () => {
  const dir = fixture({ 'fails.test.mjs': `test('fails', () => { throw new Error('boom'); });` });
  const r = await wrapper(dir, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /test-run: no test skipped\.\n$/);
});

test('a skip in a built test file is named at its TypeScript line, through the source map', () => {
  // This very file: the line of the marker below in the built JavaScript and in the TypeScript source.
  const marker = 'SOURCE-MAP-MARKER';
  const built = fileURLToPath(import.meta.url);
  const source = path.resolve(path.dirname(built), '../../../tests/support/test-run.test.ts');
  const lineIn = (file: string) => fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(`'${marker}'`)) + 1;
  const skip: SkipRecord = { kind: 'skip', file: built, line: lineIn(built), column: 9, name: 'x', reason: 'y' };
  assert.equal(sourceOf(skip, path.dirname(source)), `test-run.test.ts:${lineIn(source)}`);
  assert.notEqual(lineIn(built), lineIn(source), 'the built line differs, so the map is what finds the source line');
});
