import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canHandOut, credentialExpiry, DEFAULT_EXPIRY_POLICY as P, estimateSkew, expiryState, minHandoutFor, onLocalClock, refreshDueAt, relativeTime, retryDelay, skewWords } from './expiry.js';

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

test('a failed background refresh is retried after 2 s, doubling up to 60 s while the token has long to live', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10].map((n) => retryDelay(n, H)), [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test('in the last minutes before expiry the retry comes every few seconds, however many tries failed', () => {
  assert.equal(retryDelay(10, 3 * 60_000), 6_000);
  assert.equal(retryDelay(10, 2 * 60_000), 4_000);
  assert.equal(retryDelay(10, 30_000), 2_000);
});

test('the skew is the arrival time minus iat, and under 5 s counts as none', () => {
  assert.equal(estimateSkew(1_000_000, 1_000_900), 0);
  assert.equal(estimateSkew(1_000_000, 1_000_000 + 57 * 60_000), 57 * 60_000);
  assert.equal(estimateSkew(1_000_000 + 57 * 60_000, 1_000_000), -57 * 60_000);
});

test("a token's times on this clock keep its lifetime", () => {
  const local = onLocalClock(pocketIdToken, 57 * 60_000);
  assert.equal(local.expiresAt - local.issuedAt, H);
  assert.equal(refreshDueAt(local, P), 57 * 60_000 + H - 5 * 60_000);
});

test('skew in words', () => {
  assert.equal(skewWords(57 * 60_000), '57 min ahead of');
  assert.equal(skewWords(-12_000), '12 s behind');
  assert.equal(skewWords(3_000), 'in step with');
});
