import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../platform/errors.js';
import { deleteProviderSecrets, normalizeIssuer, providerFromInput, providerNameForIssuer, ProviderRegistry, saveProvider, secretKeys, validateProviderName } from './providers.js';
import { MemorySecretStore } from './secret-store.js';
import { profileUrlProblem } from '../../shared/team.js';

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

test('re-pointing a provider (another issuer or client id) without a new secret drops the stored secret and makes it public', () =>
  withRegistry(async (registry, store) => {
    const original = providerFromInput({ name: 'p', issuer: 'https://id.example.com', clientId: 'kube', confidential: true });
    await saveProvider(registry, store, original, 'old-s3cret');
    // The caller kept `confidential` from the old settings, as a form or a team join that edits a provider would.
    await saveProvider(registry, store, { ...original, issuer: 'https://id.other.example' });
    assert.equal((await registry.get('p'))?.confidential, false, 'a provider pointing at another issuer is public');
    assert.equal(await store.get(secretKeys.clientSecret('p')), undefined, 'the old issuer\'s secret is not kept for the new one');

    await saveProvider(registry, store, { ...original, issuer: 'https://id.other.example' }, 'new-s3cret');
    await saveProvider(registry, store, { ...original, issuer: 'https://id.other.example', clientId: 'kube-2', confidential: true });
    assert.equal((await registry.get('p'))?.confidential, false, 'another client id is a re-point too');
    assert.equal(await store.get(secretKeys.clientSecret('p')), undefined);

    await saveProvider(registry, store, { ...original, clientId: 'kube-3' }, 'third-s3cret');
    assert.equal((await registry.get('p'))?.confidential, true, 'a re-point that brings its own secret keeps it');
    assert.equal(await store.get(secretKeys.clientSecret('p')), 'third-s3cret');
  }));

test('saving a provider again with the same issuer and client id keeps its stored secret', () =>
  withRegistry(async (registry, store) => {
    const original = providerFromInput({ name: 'p', issuer: 'https://id.example.com', clientId: 'kube', confidential: true });
    await saveProvider(registry, store, original, 's3cret');
    await saveProvider(registry, store, { ...original, scopes: ['openid', 'groups'] });
    assert.equal((await registry.get('p'))?.confidential, true);
    assert.equal(await store.get(secretKeys.clientSecret('p')), 's3cret');
  }));

test('an update without a secret that does not say confidential (the socket route, a team join) keeps a confidential provider confidential', () =>
  withRegistry(async (registry, store) => {
    const original = providerFromInput({ name: 'p', issuer: 'https://id.example.com', clientId: 'kube', confidential: true });
    await saveProvider(registry, store, original, 's3cret');
    // POST /v1/providers without clientSecret sends confidential: false; the issuer and client are unchanged.
    await saveProvider(registry, store, { ...original, confidential: false, callbackPort: 8001 });
    assert.equal((await registry.get('p'))?.confidential, true, 'the stored secret is still this client\'s');
    assert.equal((await registry.get('p'))?.callbackPort, 8001);
    assert.equal(await store.get(secretKeys.clientSecret('p')), 's3cret');
  }));

/** A registry in a temp folder and a memory store, removed afterwards. */
async function withRegistry(fn: (registry: ProviderRegistry, store: MemorySecretStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pk-providers-'));
  try {
    await fn(new ProviderRegistry(path.join(dir, 'settings.json')), new MemorySecretStore());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an http issuer is allowed on exactly the hosts a profile address may use http on (one loopback rule)', () => {
  for (const host of ['localhost', '127.0.0.1', '127.0.0.2', '[::1]', '10.0.0.1', 'id.example.com', '0.0.0.0']) {
    const issuerOk = (() => {
      try {
        normalizeIssuer(`http://${host}:1411`);
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(issuerOk, profileUrlProblem(`http://${host}:1411/team.yaml`) === undefined, host);
  }
  assert.equal(normalizeIssuer('http://127.0.0.2:1411/'), 'http://127.0.0.2:1411');
});

test('an issuer with a user name or password is refused without repeating them', () => {
  assert.throws(
    () => normalizeIssuer('https://alice:hunter2@id.example.com'),
    (e: unknown) => e instanceof UsageError && e.message === "issuer https://id.example.com must not carry a user name or password (Pocket ID's address has none)",
  );
});
