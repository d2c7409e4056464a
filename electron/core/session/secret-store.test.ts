import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileSecretStore } from './secret-store.js';

test('concurrent writes all land, in a 0600 file, and a fresh reader sees them', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-secrets-'));
  try {
    const file = path.join(dir, 'secrets.json');
    const store = new FileSecretStore(file);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    await store.delete('k0');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const fresh = new FileSecretStore(file);
    assert.equal(await fresh.get('k49'), 'v49');
    assert.equal(await fresh.get('k0'), undefined);
    assert.equal(Object.keys(JSON.parse(await readFile(file, 'utf8'))).length, 49);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a damaged secrets file is reported without quoting what it holds', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-secrets-'));
  try {
    const file = path.join(dir, 'secrets.json');
    await writeFile(file, '{"provider/p/refresh-token": "super-secret-refresh', { mode: 0o600 });
    await assert.rejects(new FileSecretStore(file).get('x'), (e: Error) => /is not valid JSON; move it aside and sign in again/.test(e.message) && !e.message.includes('super-secret'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
