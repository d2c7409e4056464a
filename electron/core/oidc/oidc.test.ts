import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeOidcError } from './oidc.js';

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
