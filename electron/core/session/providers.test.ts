import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../platform/errors.js';
import { deleteProviderSecrets, providerFromInput, providerNameForIssuer, ProviderRegistry, saveProvider, secretKeys, validateProviderName } from './providers.js';
import { MemorySecretStore } from './secret-store.js';

test('a provider from input gets the default scopes and port, and the issuer without its trailing slash', () => {
  assert.deepEqual(providerFromInput({ name: 'pocket-id', issuer: 'https://id.example.com/', clientId: 'kube' }), {
    name: 'pocket-id',
    issuer: 'https://id.example.com',
    clientId: 'kube',
    confidential: false,
    scopes: ['openid', 'profile', 'email', 'groups'],
    callbackPort: 8000,
  });
});

test('a provider from input refuses a bad name, issuer or port as a usage error', () => {
  const good = { name: 'p', issuer: 'https://id.example.com', clientId: 'kube' };
  assert.throws(() => providerFromInput({ ...good, name: 'a b' }), (e: unknown) => e instanceof UsageError && e.code === 'invalid' && /provider name "a b"/.test(e.message));
  assert.throws(() => providerFromInput({ ...good, issuer: 'http://id.example.com' }), (e: unknown) => e instanceof UsageError && /must use https/.test(e.message));
  assert.throws(() => providerFromInput({ ...good, callbackPort: 0 }), (e: unknown) => e instanceof UsageError && /callback port 0/.test(e.message));
});

test('saving a provider stores its client secret; deleting its secrets removes all three', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-providers-'));
  try {
    const registry = new ProviderRegistry(path.join(dir, 'settings.json'));
    const store = new MemorySecretStore();
    await saveProvider(registry, store, providerFromInput({ name: 'p', issuer: 'https://id.example.com', clientId: 'kube' }), 's3cret');
    assert.equal((await registry.get('p'))?.confidential, true);
    assert.equal(await store.get(secretKeys.clientSecret('p')), 's3cret');
    await store.set(secretKeys.refreshToken('p'), 'r');
    await store.set(secretKeys.idToken('p'), 'i');
    await deleteProviderSecrets(store, 'p');
    for (const key of secretKeys.all('p')) assert.equal(await store.get(key), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('names derived from an issuer host pass the typed-name rule: no leading dash, no runs of dashes, at most 63 characters', () => {
  const none = new Set<string>();
  assert.equal(providerNameForIssuer('http://[::1]:9', none), 'pocket-id');
  assert.equal(providerNameForIssuer('https://id.example.com', none), 'id.example.com');
  assert.equal(providerNameForIssuer('https://id.example.com', new Set(['id.example.com'])), 'id.example.com-2');
  const long = providerNameForIssuer(`https://${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`, none);
  assert.ok(long.length <= 56, long);
  const taken = new Set([long, ...Array.from({ length: 98 }, (_, i) => `${long}-${i + 2}`)]);
  const hundredth = providerNameForIssuer(`https://${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`, taken);
  assert.equal(validateProviderName(hundredth), `${long}-100`);
});
