/**
 * Which kubectl the tests run (tests/support/kubectl.ts), as a fresh process sees it: $KUBECTL when set,
 * else the first executable `kubectl` on PATH, else /usr/bin/kubectl.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { run } from './run.js';
import { removeTempDir, tempDir } from './temp.js';

const MODULE = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'kubectl.js')).href;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await removeTempDir(d);
});

/** A directory holding an executable `kubectl` (or, with mode 0o644, a file named kubectl that cannot run). */
function binDir(mode = 0o755): string {
  const dir = tempDir('pk-kubectl-lookup-');
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'kubectl'), '#!/bin/sh\nexit 0\n', { mode });
  return dir;
}

/** What kubectl.ts decides in a child process with exactly `env`. */
async function lookup(env: NodeJS.ProcessEnv): Promise<{ kubectl: string; available: boolean; skip: false | string }> {
  const script = `const m = await import(${JSON.stringify(MODULE)}); console.log(JSON.stringify({ kubectl: m.KUBECTL, available: m.kubectlAvailable, skip: m.skipWithoutKubectl }));`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script], env, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { kubectl: string; available: boolean; skip: false | string };
}

test('without KUBECTL the first executable kubectl on PATH is used', async () => {
  const notRunnable = binDir(0o644);
  const stub = binDir();
  const empty = tempDir('pk-kubectl-lookup-empty-');
  dirs.push(empty);
  const r = await lookup({ PATH: [empty, notRunnable, stub, binDir()].join(path.delimiter) });
  assert.equal(r.kubectl, path.join(stub, 'kubectl'));
  assert.equal(r.available, true);
  assert.equal(r.skip, false);
});

test('KUBECTL, when set, wins over PATH', async () => {
  const stub = binDir();
  const chosen = path.join(binDir(), 'kubectl');
  const r = await lookup({ PATH: stub, KUBECTL: chosen });
  assert.equal(r.kubectl, chosen);
});

test('with no kubectl on PATH and KUBECTL unset, /usr/bin/kubectl is the one named', async () => {
  const empty = tempDir('pk-kubectl-lookup-empty-');
  dirs.push(empty);
  const r = await lookup({ PATH: empty });
  assert.equal(r.kubectl, '/usr/bin/kubectl');
  assert.equal(r.available, fs.existsSync('/usr/bin/kubectl'));
});

test('a KUBECTL that does not exist makes kubectl tests skip outside CI, naming the path and the fix', async () => {
  const missing = path.join(binDir(), 'missing-kubectl');
  const r = await lookup({ PATH: binDir(), KUBECTL: missing });
  assert.equal(r.kubectl, missing);
  assert.equal(r.available, false);
  assert.equal(r.skip, `no kubectl at ${missing}: set KUBECTL or put kubectl on PATH`);
});

test('in CI a missing kubectl counts as available, so its tests fail rather than skip; CI=false is not CI', async () => {
  const missing = path.join(binDir(), 'missing-kubectl');
  assert.equal((await lookup({ PATH: binDir(), KUBECTL: missing, CI: 'true' })).skip, false);
  assert.equal((await lookup({ PATH: binDir(), KUBECTL: missing, CI: 'false' })).available, false);
  assert.equal((await lookup({ PATH: binDir(), KUBECTL: missing, CI: '0' })).available, false);
});
