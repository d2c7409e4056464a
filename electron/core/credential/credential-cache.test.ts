import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../../tests/support/clock.js';
import { removeTempDir, tempDir } from '../../../tests/support/temp.js';
import { credentialCacheDir, CredentialCache, DEADLINE_MARGIN_MS, NOW_FILE, type CacheableCredential } from './credential-cache.js';

describe('CredentialCache', () => {
  let home: { dir: string };
  let clock: ManualClock;
  let entries: Map<string, CacheableCredential>;
  let logs: string[];
  const make = () => new CredentialCache(home, { clock, log: (_l, m) => logs.push(m), entries: () => entries });
  /** A started cache holding `initial`, written. */
  const started = (initial: Record<string, CacheableCredential> = {}) => {
    const cache = make();
    cache.start();
    for (const [name, e] of Object.entries(initial)) entries.set(name, e);
    cache.update();
    return cache;
  };
  const file = (name: string) => path.join(credentialCacheDir(home), name);
  const entry = (token: string, leftMs: number): CacheableCredential => ({
    token,
    expirationTimestamp: new Date(clock.now() + leftMs + 30_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    handOutUntil: clock.now() + leftMs,
  });

  beforeEach(() => {
    home = { dir: tempDir('pk-cache-') };
    clock = new ManualClock();
    entries = new Map();
    logs = [];
  });
  afterEach(() => removeTempDir(home.dir));

  test('start makes the folder private and removes whatever an earlier agent left', () => {
    mkdirSync(credentialCacheDir(home), { mode: 0o755 });
    chmodSync(credentialCacheDir(home), 0o755);
    writeFileSync(file('old-provider'), '{"token":"left-behind"}\n');
    make().start();
    assert.equal(statSync(credentialCacheDir(home)).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(credentialCacheDir(home)), [NOW_FILE]);
  });

  test('a credential is written 0600 as the ExecCredential status, dated at its hand-out limit on the wall clock', () => {
    const cache = make();
    cache.start();
    clock.jump(5 * 60_000); // the agent's clock runs ahead of the wall clock: the file's date must not
    entries.set('pocket-id', entry('tok-1', 10 * 60_000));
    cache.update();
    const st = statSync(file('pocket-id'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(readFileSync(file('pocket-id'), 'utf8'), `{"token":"tok-1","expirationTimestamp":"${entries.get('pocket-id')!.expirationTimestamp}"}\n`);
    const wallLimit = Date.now() + 10 * 60_000 - DEADLINE_MARGIN_MS;
    assert.ok(Math.abs(st.mtimeMs - wallLimit) < 1_000, `${st.mtimeMs} vs ${wallLimit}`);
  });

  test('a session that ends loses its file at once, in the same update', () => {
    const cache = started({ a: entry('tok-a', 600_000), b: entry('tok-b', 600_000) });
    entries.delete('a');
    cache.update();
    assert.equal(existsSync(file('a')), false);
    assert.equal(existsSync(file('b')), true);
  });

  test('a refreshed token replaces the file; an unchanged one is not rewritten', () => {
    const cache = started({ p: entry('tok-1', 600_000) });
    const first = statSync(file('p')).ino;
    cache.update();
    assert.equal(statSync(file('p')).ino, first, 'same file');
    entries.set('p', entry('tok-2', 3_000_000));
    cache.update();
    assert.match(readFileSync(file('p'), 'utf8'), /"tok-2"/);
  });

  test('a credential due within the margin is not cached, and a cached one is dropped when it falls due', () => {
    started({ soon: entry('tok-soon', DEADLINE_MARGIN_MS), later: entry('tok-later', 120_000) });
    assert.equal(existsSync(file('soon')), false);
    assert.equal(clock.pendingTimers(), 1);
    clock.advance(120_000 - DEADLINE_MARGIN_MS); // no session change: the cache's own timer drops it
    assert.equal(existsSync(file('later')), false);
  });

  test('stop removes every file', () => {
    const cache = started({ p: entry('tok', 600_000) });
    cache.stop();
    assert.deepEqual(readdirSync(credentialCacheDir(home)), []);
    cache.update();
    assert.deepEqual(readdirSync(credentialCacheDir(home)), [], 'a stopped cache writes nothing');
  });

  test('a folder that is a link elsewhere is not used, and the log says why', () => {
    const elsewhere = path.join(home.dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, credentialCacheDir(home));
    started({ p: entry('tok', 600_000) });
    assert.deepEqual(readdirSync(elsewhere), []);
    assert.match(logs.join('\n'), /credential-cache is not a folder of yours; kubectl's helper will ask the agent every time/);
  });
});
