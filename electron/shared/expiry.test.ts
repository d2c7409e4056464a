import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canHandOut, credentialExpiry, DEFAULT_EXPIRY_POLICY as P, expiryState, minHandoutFor, refreshDueAt, relativeTime } from './expiry.js';

const H = 3_600_000;
const pocketIdToken = { issuedAt: 0, expiresAt: H };

test('a one-hour Pocket ID token is refreshed five minutes before it expires', () => {
  assert.equal(refreshDueAt(pocketIdToken, P), H - 5 * 60_000);
});

test('a handed-out one-hour token always has at least 60 s left', () => {
  assert.equal(minHandoutFor(pocketIdToken, P), 60_000);
  assert.equal(canHandOut(pocketIdToken, H - 60_000, P), true);
  assert.equal(canHandOut(pocketIdToken, H - 59_999, P), false);
});

test('kubectl is told the token expires 30 s before it really does', () => {
  assert.equal(credentialExpiry(pocketIdToken, P).getTime(), H - 30_000);
});

test('a very short token is refreshed at half its life, not at once and not in a loop', () => {
  const short = { issuedAt: 0, expiresAt: 40_000 };
  assert.equal(minHandoutFor(short, P), 20_000);
  assert.equal(refreshDueAt(short, P), 20_000);
  assert.equal(canHandOut(short, 0, P), true, 'a fresh short token can be handed out');
  assert.equal(credentialExpiry(short, P).getTime(), 30_000);
});

test('expiry state moves from valid to refresh-due to expired', () => {
  assert.equal(expiryState(pocketIdToken, 0, P), 'valid');
  assert.equal(expiryState(pocketIdToken, H - 30_000, P), 'refresh-due');
  assert.equal(expiryState(pocketIdToken, H, P), 'expired');
});

test('relative times read like a person would say them', () => {
  assert.equal(relativeTime(42 * 60_000, 0), 'in 42 min');
  assert.equal(relativeTime(59_000, 0), 'in 59 s');
  assert.equal(relativeTime(0, 120_000), '2 min ago');
  assert.equal(relativeTime(90 * 60_000, 0), 'in 1 h 30 min');
  assert.equal(relativeTime(3 * 86_400_000, 0), 'in 3 days');
});
