/**
 * The socket API's provider, reload and sign-in routes as a stranger reads them: raw HTTP over the agent's
 * Unix socket, against a `pocketkube agent` process, the Pocket ID stand-in and real Chromium. Each answer is
 * checked whole: status, JSON body, and the `x-pocketkube-error` header a failure carries; after bad input the
 * agent keeps serving.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { secretKeys } from '../../electron/core/session/providers.js';
import { launchChromium, signInInBrowser, Stack } from '../support/stack.js';

interface Answer {
  status: number;
  error?: string;
  body: Record<string, unknown>;
  text: string;
}

const stack = new Stack();
let browser: Browser;
let agent: ChildProcess;

before(async () => {
  browser = await launchChromium();
  await stack.start();
  await stack.configure();
  agent = await stack.startAgentProcess();
});
after(async () => {
  await browser?.close();
  await stack.close();
});

/** One request on the agent's socket, as curl would send it; `body` as a string is sent as it is. */
function ask(method: string, target: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        socketPath: stack.home.socketPath,
        method,
        path: target,
        headers: { host: 'pocketkube', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }), ...headers },
        timeout: 60_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          if (String(res.headers['content-type']).startsWith('application/json')) parsed = JSON.parse(text) as Record<string, unknown>;
          const header = res.headers['x-pocketkube-error'];
          resolve({ status: res.statusCode ?? 0, ...(typeof header === 'string' ? { error: header } : {}), body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer in 60 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A failure as the README documents it: the status, `{ok:false,error:{code,message}}`, the same message in the header. */
function assertFailure(a: Answer, status: number, code: string, message: RegExp): void {
  assert.equal(a.status, status, a.text);
  const error = (a.body as { ok: boolean; error: { code: string; message: string } }).error;
  assert.equal(a.body.ok, false);
  assert.equal(error.code, code, a.text);
  assert.match(error.message, message);
  assert.equal(a.error, error.message, 'the header carries the same one line');
}

async function stillServing(): Promise<void> {
  const a = await ask('GET', '/v1/status');
  assert.equal(a.status, 200);
  assert.equal((a.body as { agent: { pid: number } }).agent.pid, agent.pid, 'the same agent process answers');
}

describe('POST /v1/providers', () => {
  test('adds a provider: 201 with the saved shape, listed and started signed out, its client secret kept private', async () => {
    const secret = 'cs-routes-4f9d2b';
    const a = await ask('POST', '/v1/providers', { name: 'staging', issuer: 'https://id.staging.example.com/', clientId: 'kube-staging', clientSecret: secret, scopes: 'openid groups', callbackPort: '8123' });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.error, undefined, 'no error header on success');
    assert.deepEqual(a.body, {
      ok: true,
      provider: { name: 'staging', issuer: 'https://id.staging.example.com', clientId: 'kube-staging', confidential: true, scopes: ['openid', 'groups'], callbackPort: 8123 },
    });
    const listed = await ask('GET', '/v1/providers');
    assert.deepEqual(
      (listed.body.providers as { name: string }[]).map((p) => p.name),
      [stack.provider, 'staging'],
    );
    const one = await ask('GET', '/v1/providers/staging');
    assert.equal(one.status, 200);
    assert.equal(one.body.state, 'signed-out');
    assert.equal(one.body.redirectUri, 'http://localhost:8123');
    for (const text of [a.text, listed.text, one.text, await readFile(stack.home.settingsFile, 'utf8')]) assert.ok(!text.includes(secret), 'the secret is never answered nor in settings');
    const secrets = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
    assert.equal(secrets[secretKeys.clientSecret('staging')], secret);
    assert.equal((await stat(stack.home.secretsFile)).mode & 0o777, 0o600);
  });

  test('a body that is not JSON is a 400 that says so, and the agent keeps serving', async () => {
    assertFailure(await ask('POST', '/v1/providers', '{"name": "broken'), 400, 'bad_json', /^request body is not valid JSON/);
    assertFailure(await ask('POST', '/v1/providers', '["a list"]'), 400, 'bad_json', /must be a JSON object/);
    await stillServing();
  });

  test('each bad field is a 400 naming it, and nothing is saved', async () => {
    const before = await readFile(stack.home.settingsFile, 'utf8');
    const base = { name: 'bad', issuer: 'https://id.example.com', clientId: 'kube' };
    assertFailure(await ask('POST', '/v1/providers', { ...base, clientId: '' }), 400, 'missing_field', /"clientId"/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, issuer: 'http://id.example.com' }), 400, 'invalid', /must use https/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, issuer: 'not a url' }), 400, 'invalid', /is not a URL/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, callbackPort: 70000 }), 400, 'invalid', /callback port 70000 is not a TCP port/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, name: '../etc' }), 400, 'invalid', /\.\.\/etc/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, clientId: { nested: true } }), 400, 'bad_field', /field "clientId" must be a string/);
    assertFailure(await ask('POST', '/v1/providers', { ...base, scopes: [1, 2] }), 400, 'bad_field', /field "scopes" must be strings/);
    assert.equal(await readFile(stack.home.settingsFile, 'utf8'), before);
    await stillServing();
  });
});

describe('DELETE /v1/providers/NAME', () => {
  test('removes the provider, its session and its client secret', async () => {
    const stored = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
    assert.ok(stored[secretKeys.clientSecret('staging')], "staging's client secret is stored before the delete (the POST test stored it)");
    const a = await ask('DELETE', '/v1/providers/staging');
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body, { ok: true });
    assert.deepEqual(
      ((await ask('GET', '/v1/providers')).body.providers as { name: string }[]).map((p) => p.name),
      [stack.provider],
    );
    assertFailure(await ask('GET', '/v1/providers/staging'), 404, 'unknown_provider', /no provider named "staging"/);
    const secrets = JSON.parse(await readFile(stack.home.secretsFile, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(secrets).filter((k) => secretKeys.all('staging').includes(k)), []);
  });

  test('an unknown provider is a 404 naming the known ones and how to add it; the agent keeps serving', async () => {
    assertFailure(
      await ask('DELETE', '/v1/providers/nope'),
      404,
      'unknown_provider',
      /^PocketKube has no provider named "nope" \(known: pocket-id\); add it with `pocketkube provider add nope --issuer URL --client-id ID`\.$/,
    );
    await stillServing();
  });
});

describe('POST /v1/reload', () => {
  test('re-reads settings: a provider written behind the agent\'s back starts, one removed stops', async () => {
    const settings = JSON.parse(await readFile(stack.home.settingsFile, 'utf8')) as { providers: Record<string, unknown>[] };
    const original = JSON.stringify(settings);
    settings.providers.push({ name: 'edited', issuer: 'https://id.edited.example.com', clientId: 'kube-edited', confidential: false, scopes: ['openid'], callbackPort: 8001 });
    await writeFile(stack.home.settingsFile, JSON.stringify(settings));
    assertFailure(await ask('GET', '/v1/providers/edited'), 404, 'unknown_provider', /"edited"/);
    const a = await ask('POST', '/v1/reload');
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body, { ok: true, providers: [stack.provider, 'edited'] });
    assert.equal((await ask('GET', '/v1/providers/edited')).body.state, 'signed-out');
    await writeFile(stack.home.settingsFile, original);
    assert.deepEqual((await ask('POST', '/v1/reload')).body, { ok: true, providers: [stack.provider] });
    assertFailure(await ask('GET', '/v1/providers/edited'), 404, 'unknown_provider', /"edited"/);
  });

  test('a settings file that does not parse is refused with its path and the fix; the running sessions stay', async () => {
    const original = await readFile(stack.home.settingsFile, 'utf8');
    await writeFile(stack.home.settingsFile, '{"providers": [');
    try {
      const a = await ask('POST', '/v1/reload');
      assertFailure(a, 400, 'bad_settings', /settings\.json is not valid JSON .*; fix or remove it$/);
      assert.doesNotMatch(a.error!, /internal error/);
    } finally {
      await writeFile(stack.home.settingsFile, original);
    }
    assert.equal((await ask('GET', `/v1/providers/${stack.provider}`)).status, 200, 'the provider it had still runs');
    await stillServing();
  });

  test('takes only POST', async () => {
    assertFailure(await ask('GET', '/v1/reload'), 405, 'method_not_allowed', /^\/v1\/reload takes POST, not GET$/);
  });
});

describe('GET /v1/providers/NAME/login?timeout=S', () => {
  const login = `/v1/providers/${stack.provider}/login`;

  test('with no sign-in under way and signed out, a 409 that says how to start one', async () => {
    assertFailure(await ask('GET', `${login}?timeout=1`), 409, 'no_sign_in', /^no sign-in is under way for pocket-id; start one with POST \/v1\/providers\/pocket-id\/login$/);
  });

  test('a timeout that is not a number of seconds is a 400 naming it', async () => {
    const started = await ask('POST', login);
    assert.equal(started.status, 200, started.text);
    assertFailure(await ask('GET', `${login}?timeout=soon`), 400, 'bad_field', /timeout/);
    assertFailure(await ask('GET', `${login}?timeout=-5`), 400, 'bad_field', /timeout/);
    await stillServing();
  });

  test('answers 408 when S seconds pass with the sign-in still under way; a waiter gets 200 with the session once it completes', async () => {
    const started = await ask('POST', login);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.body.method, 'browser');
    const again = await ask('POST', login);
    assert.equal(again.body.url, started.body.url, 'the same sign-in, not a second one');

    assertFailure(await ask('GET', `${login}?timeout=1`), 408, 'timeout', /^still waiting for the sign-in to pocket-id; ask again$/);

    // A waiter already asking when the browser completes is answered with the signed-in session.
    const waiting = ask('GET', `${login}?timeout=60`);
    assert.equal(await signInInBrowser(browser, started.body.url as string), 'Signed in');
    const done = await waiting;
    assert.equal(done.status, 200, done.text);
    const provider = done.body.provider as { state: string; identity: { email: string } };
    assert.equal(done.body.ok, true);
    assert.equal(provider.state, 'signed-in');
    assert.equal(provider.identity.email, 'alice@example.com');
    // Once signed in, with nothing under way, it answers at once.
    const after = await ask('GET', `${login}?timeout=1`);
    assert.equal(after.status, 200);
    assert.equal((after.body.provider as { state: string }).state, 'signed-in');
    await stillServing();
  });
});
