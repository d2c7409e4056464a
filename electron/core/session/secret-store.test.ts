import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
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

test('temp copies of secrets.json that a crash left behind are removed at the next write; one in flight is kept', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-secrets-'));
  try {
    const file = path.join(dir, 'secrets.json');
    const crashed = path.join(dir, '.secrets.json.0123456789ab.tmp');
    const inFlight = path.join(dir, '.secrets.json.ba9876543210.tmp');
    await writeFile(crashed, '{"provider/p/refresh-token":"rt-left-behind"}', { mode: 0o600 });
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(crashed, old, old);
    await writeFile(inFlight, '{}', { mode: 0o600 });
    await new FileSecretStore(file).set('k', 'v');
    assert.deepEqual((await readdir(dir)).sort(), ['.secrets.json.ba9876543210.tmp', 'secrets.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads that come together (a session resuming asks for four keys at once) read and decode the file once', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-secrets-'));
  try {
    const file = path.join(dir, 'secrets.json');
    await writeFile(file, JSON.stringify({ a: '1', b: '2', c: '3', d: '4' }), { mode: 0o600 });
    let decoded = 0;
    const store = new (class extends FileSecretStore {
      protected override decode(blob: Buffer): Record<string, string> {
        decoded++;
        return super.decode(blob);
      }
    })(file);
    assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd'].map((k) => store.get(k))), ['1', '2', '3', '4']);
    assert.equal(decoded, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
