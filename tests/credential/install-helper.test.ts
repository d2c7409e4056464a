import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { resolveHome } from '../../electron/core/platform/home.js';
import { installHelper } from '../../electron/core/credential/install-helper.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('the installed helper keeps the sh fast path and runs the app binary as Node for the rest', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-helper-'));
  try {
    const home = resolveHome({ POCKETKUBE_HOME: dir });
    // A stand-in "app binary" that reports how it was called: proves the slow path needs no node on PATH.
    const fakeApp = path.join(dir, 'Pocket Kube.AppImage');
    await writeFile(fakeApp, '#!/bin/sh\necho "as-node=$ELECTRON_RUN_AS_NODE args=$*"\n', { mode: 0o755 });
    const bundle = path.join(dir, 'cli-bundle.mjs');
    await writeFile(bundle, '// the CLI bundle\n');
    const target = await installHelper(home, { template: path.join(REPO, 'resources/bin/pocketkube'), executable: fakeApp, cliBundle: bundle });
    assert.equal(target, path.join(dir, 'bin', 'pocketkube'));
    assert.equal((await stat(target)).mode & 0o777, 0o755);
    const status = spawnSync(target, ['status'], { env: { PATH: '/usr/bin:/bin', POCKETKUBE_HOME: dir } });
    assert.equal(status.stdout.toString().trim(), `as-node=1 args=${path.join(dir, 'bin', 'pocketkube-cli.mjs')} status`);
    // The credential path is still answered by sh itself: with no agent it says so without Node.
    const cred = spawnSync(target, ['credential', '--provider', 'p'], { env: { PATH: '/usr/bin:/bin', POCKETKUBE_HOME: dir } });
    assert.equal(cred.status, 1);
    assert.match(cred.stderr.toString(), /^PocketKube: no agent is running/);
    const again = await stat(target);
    await installHelper(home, { template: path.join(REPO, 'resources/bin/pocketkube'), executable: fakeApp, cliBundle: bundle });
    assert.equal((await stat(target)).mtimeMs, again.mtimeMs, 'unchanged content is not rewritten');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
