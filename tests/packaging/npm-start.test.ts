/**
 * `npm start` (dist/electron/desktop/launch.js) as a developer runs it: with an Electron build given by
 * ELECTRON_OVERRIDE_DIST_PATH (here a stand-in that reports how it was started), and with none at all.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { REPO, run } from '../support/stack.js';
import { removeTempDir, tempDir } from '../support/temp.js';

const LAUNCH = path.join(REPO, 'dist', 'electron', 'desktop', 'launch.js');
const dir = tempDir('pk-npm-start-');
after(() => removeTempDir(dir));

test('npm start runs Electron on the package folder, so the app has its own name, data folder and lock', async () => {
  // Electron takes the app from the folder's package.json (name, productName, main); given main.js
  // directly it would call itself "Electron" and share ~/.config/Electron with every unnamed app.
  await writeFile(path.join(dir, 'electron'), '#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\n', { mode: 0o755 });
  const started = await run(process.execPath, [LAUNCH, '--inspect-tray'], { PATH: process.env.PATH, HOME: dir, ELECTRON_OVERRIDE_DIST_PATH: dir });
  assert.equal(started.code, 0, started.stderr);
  const args = started.stdout.split('\n').filter((l) => l.startsWith('arg:')).map((l) => l.slice(4));
  assert.equal(args.filter((a) => a !== '--no-sandbox')[0], REPO);
  assert.equal(args.at(-1), '--inspect-tray', 'the developer\'s own arguments follow');
});

test('npm start without an Electron binary prints one line saying how to get one, and fails', async () => {
  const started = await run(process.execPath, [LAUNCH], { PATH: process.env.PATH, HOME: dir, ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'none') });
  assert.equal(started.code, 1);
  assert.equal(started.stdout, '');
  const lines = started.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, started.stderr);
  assert.match(lines[0]!, /^PocketKube: Electron's binary is not installed .*pocketkube agent/);
});
