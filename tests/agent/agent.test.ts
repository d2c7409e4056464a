import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveHome } from '../../electron/core/platform/home.js';
import { MemorySecretStore } from '../../electron/core/session/secret-store.js';
import { AgentClient } from '../../electron/client/agent-client.js';
import type { PocketKubeError } from '../../electron/core/platform/errors.js';
import { MAX_BODY_BYTES } from '../../electron/agent/server.js';
import { Agent, AgentAlreadyRunningError } from '../../electron/agent/agent.js';

let dir: string;
let agent: Agent;
let client: AgentClient;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pk-agent-'));
  agent = new Agent({
    home: resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') }),
    store: new MemorySecretStore(),
    socketLimits: { headersTimeoutMs: 300, requestTimeoutMs: 300 },
  });
  await agent.start();
  client = new AgentClient(agent.home.socketPath);
});

after(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The longest the socket may stay silent before raw() fails the test: the agent cuts off at 300 ms here. */
const RAW_IDLE_LIMIT_MS = 10_000;

/** Sends raw bytes on the socket and returns whatever comes back before the agent closes the connection. */
function raw(bytes: string | Buffer, opts: { end?: boolean } = { end: true }): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(agent.home.socketPath);
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
    sock.setTimeout(RAW_IDLE_LIMIT_MS, () => {
      reject(new Error(`the agent neither answered nor closed the connection within ${RAW_IDLE_LIMIT_MS} ms (got so far: ${JSON.stringify(got)})`));
      sock.destroy();
    });
    sock.write(bytes);
    if (opts.end) sock.end();
  });
}

async function stillServing(): Promise<void> {
  const status = await client.request<{ kind: string }>('GET', '/v1/status');
  assert.equal(status.kind, 'Status');
}

test('the socket is private: folder 0700, socket 0600', async () => {
  assert.equal((await stat(agent.home.dir)).mode & 0o777, 0o700);
  assert.equal((await stat(agent.home.socketPath)).mode & 0o777, 0o600);
});

test('GET /v1/status describes the agent and where secrets are kept', async () => {
  const status = await client.request<{ apiVersion: string; agent: { socket: string; secrets: { kind: string } }; providers: unknown[] }>('GET', '/v1/status');
  assert.equal(status.apiVersion, 'pocketkube.dev/v1');
  assert.equal(status.agent.socket, agent.home.socketPath);
  assert.equal(status.agent.secrets.kind, 'memory');
  assert.deepEqual(status.providers, []);
});

test('garbage bytes get a 400 and the agent keeps serving', async () => {
  const answer = await raw('\x00\x01\x02 not http at all\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400/);
  await stillServing();
});

test('an oversized body gets a 413 JSON error', async () => {
  const body = 'x'.repeat(MAX_BODY_BYTES + 1);
  await assert.rejects(client.request('POST', '/v1/credential', { provider: body }), (e: PocketKubeError) => e.status === 413 && e.code === 'too_large');
  await stillServing();
});

test('a wrong method gets a 405 naming the allowed ones', async () => {
  await assert.rejects(client.request('DELETE', '/v1/status'), (e: PocketKubeError) => e.status === 405 && /takes GET/.test(e.message));
});

test('an unknown path gets a 404 pointing at /v1', async () => {
  await assert.rejects(client.request('GET', '/v2/status'), (e: PocketKubeError) => e.status === 404);
  await assert.rejects(client.request('GET', '/v1/nope'), (e: PocketKubeError) => e.status === 404);
});

test('malformed JSON gets a 400 and the agent keeps serving', async () => {
  const answer = await raw('POST /v1/credential HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 8\r\nconnection: close\r\n\r\n{"broken');
  assert.match(answer, /^HTTP\/1\.1 400/);
  assert.match(answer, /not valid JSON/);
  await stillServing();
});

test('a credential for an unknown provider is a 404 that says how to add it', async () => {
  await assert.rejects(
    client.request('POST', '/v1/credential', { provider: 'nope' }),
    (e: PocketKubeError) => e.status === 404 && e.code === 'unknown_provider' && /pocketkube provider add nope/.test(e.message),
  );
});

test('a path with broken percent-encoding is a 400, not an internal error', async () => {
  await assert.rejects(client.request('GET', '/v1/providers/%E0'), (e: PocketKubeError) => e.status === 400 && e.code === 'bad_request');
  await stillServing();
});

test('a client secret in a URL is refused', async () => {
  await assert.rejects(client.request('GET', '/v1/credential?issuer=https://x&client_id=a&client_secret=s'), (e: PocketKubeError) => e.status === 400 && e.code === 'secret_in_url');
});

test('a slow client that never finishes its headers gets a 408 and is cut off, and the agent keeps serving', async () => {
  const answer = await raw('GET /v1/status HTTP/1.1\r\nHost: x\r\n', { end: false });
  const [head, body] = answer.split('\r\n\r\n');
  assert.equal(head!.split('\r\n')[0], 'HTTP/1.1 408 Request Timeout', answer);
  assert.match(head!, /\r\nconnection: close(\r\n|$)/);
  assert.deepEqual(JSON.parse(body!), { ok: false, error: { code: 'timeout', message: 'malformed or too slow HTTP request' } });
  await stillServing();
});

test('a second agent for the same home refuses to start while the first is alive', async () => {
  const second = new Agent({ home: agent.home, store: new MemorySecretStore() });
  await assert.rejects(second.start(), AgentAlreadyRunningError);
  await stillServing();
});

test('a stale socket and pid file from a crashed agent are replaced', async () => {
  const home = resolveHome({ POCKETKUBE_HOME: path.join(dir, 'crashed') });
  const crashed = new Agent({ home, store: new MemorySecretStore() });
  await crashed.start();
  await crashed.stop();
  // Recreate what a SIGKILLed agent leaves: a socket file nobody listens on and a pid file of a dead process.
  const res = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(home.socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(res.signal, 'SIGKILL');
  await writeFile(home.pidFile, '999999\n');
  const next = new Agent({ home, store: new MemorySecretStore() });
  await next.start();
  try {
    const status = await new AgentClient(home.socketPath).request<{ agent: { pid: number } }>('GET', '/v1/status');
    assert.equal(status.agent.pid, process.pid);
  } finally {
    await next.stop();
  }
});

test('the typed client reaches every provider route: add, list, one, reload, remove', async () => {
  const saved = await client.addProvider({ name: 'typed', issuer: 'https://id.example.com/', clientId: 'kube' });
  assert.deepEqual(saved, {
    name: 'typed',
    issuer: 'https://id.example.com',
    clientId: 'kube',
    confidential: false,
    scopes: ['openid', 'profile', 'email', 'groups'],
    callbackPort: 8000,
  });
  assert.deepEqual((await client.listProviders()).map((p) => p.name), ['typed']);
  assert.equal((await client.provider('typed')).state, 'signed-out');
  assert.deepEqual(await client.reload(), ['typed']);
  assert.equal((await client.status()).providers[0]?.provider, 'typed');
  await client.removeProvider('typed');
  assert.deepEqual(await client.listProviders(), []);
  await assert.rejects(client.provider('typed'), (e: PocketKubeError) => e.status === 404 && e.code === 'unknown_provider');
  await assert.rejects(client.shutdown(), (e: PocketKubeError) => e.status === 409 && e.code === 'not_supported');
});

test('the typed client streams the status: once on subscribe, again on a change, and stops when asked', async () => {
  const seen: string[][] = [];
  let stop = () => {};
  const changed = new Promise<void>((resolve) => {
    stop = client.watchStatus((status) => {
      seen.push(status.providers.map((p) => p.provider));
      if (seen.length === 1) void client.addProvider({ name: 'watched', issuer: 'https://id.example.com', clientId: 'kube' });
      if (status.providers.some((p) => p.provider === 'watched')) resolve();
    });
  });
  await changed;
  stop();
  assert.deepEqual(seen[0], []);
  assert.deepEqual(seen.at(-1), ['watched']);
  await client.removeProvider('watched');
});

test('a provider added from kubelogin flags with an IPv6 loopback issuer gets a name the CLI can take as an argument', async () => {
  await assert.rejects(
    client.request('POST', '/v1/credential', { issuer: 'http://[::1]:9', client_id: 'v6-client' }),
    (e: PocketKubeError) => e.status === 401 && /`pocketkube login pocket-id`/.test(e.message),
  );
  const names = (await client.request<{ providers: { name: string }[] }>('GET', '/v1/providers')).providers.map((p) => p.name);
  assert.ok(names.includes('pocket-id'), names.join(', '));
  assert.ok(names.every((n) => /^[A-Za-z0-9]/.test(n)), names.join(', '));
  await client.request('DELETE', '/v1/providers/pocket-id');
});
