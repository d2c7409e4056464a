import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOidcError, RETRY_AFTER_MAX_MS, retryAfterMs } from './oidc.js';

const ISSUER = 'https://id.example.com';
const refresh = (err: unknown) => describeOidcError(err, 'Refreshing the session', ISSUER);

/** What openid-client throws for an answer that is not an OAuth error: the Response is the cause. */
function unexpectedAnswer(status: number, contentType = 'application/json') {
  return Object.assign(new Error('unexpected HTTP response status code'), {
    code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
    cause: new Response('<html>x</html>', { status: status === 200 ? 200 : status, headers: { 'content-type': contentType } }),
  });
}

for (const code of ['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied']) {
  test(`${code} from the token endpoint ends the session`, () => {
    const e = refresh({ error: code, status: 400 });
    assert.equal(e.kind, 'rejected');
    assert.equal(e.oauthError, code);
  });
}

test('another OAuth error (invalid_request, temporarily_unavailable) is retried, not a sign-out', () => {
  assert.equal(refresh({ error: 'invalid_request', status: 400 }).kind, 'network');
  assert.equal(refresh({ error: 'temporarily_unavailable', status: 400 }).kind, 'network');
});

test('a grant-gone code with a 5xx status is a server failure, retried', () => {
  assert.equal(refresh({ error: 'invalid_grant', status: 503 }).kind, 'network');
});

test('invalid_client in a WWW-Authenticate challenge ends the session like the body error', () => {
  const challenge = { code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client' } }] };
  const e = refresh(challenge);
  assert.equal(e.kind, 'rejected');
  assert.equal(e.oauthError, 'invalid_client');
  assert.equal(e.providerStatus, 401);
});

test('statuses without an OAuth error are retried and named', () => {
  for (const [status, words] of [[404, 'not found'], [408, 'request timeout'], [429, 'too many requests'], [503, 'service unavailable']] as const) {
    const e = refresh(unexpectedAnswer(status));
    assert.equal(e.kind, 'network', `HTTP ${status}`);
    assert.equal(e.providerStatus, status);
    assert.equal(e.message, `Refreshing the session failed: ${ISSUER} answered HTTP ${status} (${words}).`);
  }
});

test("a proxy's HTML page is said to be one, without quoting it", () => {
  const e = refresh(unexpectedAnswer(502, 'text/html; charset=utf-8'));
  assert.equal(e.kind, 'network');
  assert.match(e.message, /HTTP 502 \(bad gateway\) with an HTML page \(a proxy in front of Pocket ID\?\)\.$/);
  assert.doesNotMatch(e.message, /<html>/);
});

test("openid-client's timeout is a network failure, not a rejected answer", () => {
  const e = refresh(Object.assign(new Error('operation timed out'), { code: 'OAUTH_TIMEOUT' }));
  assert.equal(e.kind, 'network');
  assert.match(e.message, /cannot reach https:\/\/id\.example\.com \(no answer in time\)/);
});

const NOW = Date.parse('2026-12-01T12:00:00Z');
const answer = (status: number, retryAfter?: string) =>
  new Response('busy', { status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } });

test('Retry-After of a 429 or 503 is read as seconds or as an HTTP date', () => {
  assert.equal(retryAfterMs(answer(429, '30'), NOW), 30_000);
  assert.equal(retryAfterMs(answer(503, ' 7 '), NOW), 7_000);
  assert.equal(retryAfterMs(answer(503, new Date(NOW + 90_000).toUTCString()), NOW), 90_000);
});

test('Retry-After is ignored when absent, unreadable, past, or on another status, and capped at ten minutes', () => {
  assert.equal(retryAfterMs(answer(503), NOW), undefined);
  assert.equal(retryAfterMs(answer(503, 'soon'), NOW), undefined);
  assert.equal(retryAfterMs(answer(503, new Date(NOW - 5_000).toUTCString()), NOW), undefined);
  assert.equal(retryAfterMs(answer(503, '0'), NOW), undefined);
  assert.equal(retryAfterMs(answer(500, '30'), NOW), undefined);
  assert.equal(retryAfterMs(answer(429, '86400'), NOW), RETRY_AFTER_MAX_MS);
});

test("a 503 or 429 answer's Retry-After travels on the error, from a bare answer and from an OAuth error body", () => {
  const bare = Object.assign(new Error('unexpected HTTP response status code'), { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM', cause: answer(503, '45') });
  assert.equal(describeOidcError(bare, 'Refreshing the session', ISSUER, NOW).retryAfterMs, 45_000);
  const oauth = { error: 'temporarily_unavailable', status: 429, response: answer(429, '20') };
  const e = describeOidcError(oauth, 'Refreshing the session', ISSUER, NOW);
  assert.equal(e.kind, 'network');
  assert.equal(e.retryAfterMs, 20_000);
  assert.equal(describeOidcError({ error: 'invalid_grant', status: 400, response: answer(429, '20') }, 'x', ISSUER, NOW).retryAfterMs, undefined, 'a grant that is gone is not retried at all');
});
