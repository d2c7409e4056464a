import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { isEntryPoint } from './entry-point.js';

test('a script reached through a symlinked folder with a space and a non-ASCII letter is the entry point', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-entry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const real = mkdtempSync(path.join(dir, 'real-'));
  writeFileSync(path.join(real, 'cli.mjs'), '');
  symlinkSync(real, path.join(dir, 'Jörg Home'));
  const moduleUrl = pathToFileURL(path.join(real, 'cli.mjs')).href; // what Node gives import.meta.url
  assert.equal(isEntryPoint(moduleUrl, path.join(dir, 'Jörg Home', 'cli.mjs')), true);
  assert.equal(isEntryPoint(moduleUrl, path.join(dir, 'Jörg Home', 'other.mjs')), false, 'another script');
  assert.equal(isEntryPoint(moduleUrl, undefined), false, 'node -e or a REPL');
});
