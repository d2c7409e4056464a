/**
 * Reading a team profile from an address, against a real HTTP server on loopback (http is allowed there): a
 * profile, a web page, an answer too large, an answer too slow, a redirect off https, a query kept out of
 * messages. Each failure is one sentence and nothing else happens.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { PocketKubeError } from '../../electron/core/platform/errors.js';
import { readTeamProfile } from '../../electron/core/team/profile.js';
import { joinLinkFor } from '../../electron/shared/join-link.js';
import { loopbackCertificate } from '../support/loopback-tls.js';

let server: http.Server;
let base: string;
let tlsServer: https.Server;
let tlsBase: string;
/** Fetch that trusts the https test server's own certificate, as a user's would trust their CA. */
let trusting: typeof fetch;
let profileText: string;

before(async () => {
  const ca = Buffer.from((await loopbackCertificate('fetch-cluster-ca')).cert).toString('base64');
  profileText = JSON.stringify({
    apiVersion: 'pocketkube/v1',
    kind: 'TeamProfile',
    team: 'acme',
    revision: 1,
    provider: { name: 'pocket-id', issuer: 'https://id.example.com', clientId: 'a60960a8-c856-43b7-add7-50d83bf7eeab' },
    clusters: [{ name: 'prod', server: 'https://10.0.0.1:6443', certificateAuthorityData: ca }],
  });
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    if (url.pathname === '/acme.json') res.writeHead(200, { 'content-type': 'application/json' }).end(profileText);
    else if (url.pathname === '/page') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Sign in</title>');
    else if (url.pathname === '/big') res.writeHead(200, { 'content-type': 'text/plain' }).end('a'.repeat(300 * 1024));
    else if (url.pathname === '/slow') setTimeout(() => res.writeHead(200).end(profileText), 2_000);
    else if (url.pathname === '/hop') res.writeHead(301, { location: '/acme.json' }).end();
    else if (url.pathname === '/away') res.writeHead(302, { location: 'http://example.com/acme.json' }).end();
    else if (url.pathname === '/to-file') res.writeHead(302, { location: 'file:///etc/passwd?x=SECRET' }).end();
    else if (url.pathname === '/to-credentials') res.writeHead(302, { location: `http://bob:pw123@${req.headers.host}/acme.json?token=LEAK` }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tls = await loopbackCertificate('fetch-https-server');
  tlsServer = https.createServer({ cert: tls.cert, key: tls.private }, (req, res) => {
    if (req.url!.split('?')[0] === '/acme.json') res.writeHead(200, { 'content-type': 'application/json' }).end(profileText);
    else if (req.url === '/down') res.writeHead(302, { location: `${base}/acme.json` }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  trusting = ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
});

const refused = (code: string, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof PocketKubeError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, message);
  assert.doesNotMatch(e.message, /\n/);
  return true;
};

test('a profile at a loopback address is read, and its source is the address without the query', async () => {
  const { profile, source } = await readTeamProfile(`${base}/acme.json?sig=abc123`);
  assert.equal(profile.team, 'acme');
  assert.equal(source, `${base}/acme.json`);
  assert.equal((await readTeamProfile(`${base}/hop`)).profile.team, 'acme', 'a redirect on loopback is followed');
});

test('a web page is refused: the address of the raw file is asked for', async () => {
  await assert.rejects(readTeamProfile(`${base}/page?token=zzz`), refused('bad-profile', /\/page is a web page, not a team profile .*give the address of the raw file; nothing was changed\.$/));
  await assert.rejects(readTeamProfile(`${base}/page?token=zzz`), (e: unknown) => !(e as Error).message.includes('zzz'));
});

test('a non-2xx answer, an answer too large and one too slow each get their sentence', async () => {
  await assert.rejects(readTeamProfile(`${base}/missing`), refused('profile-unreachable', /answered HTTP 404 \(Not Found\), not a team profile/));
  await assert.rejects(readTeamProfile(`${base}/big`), refused('bad-profile', /the answer is over 256 KiB, far more than a team profile/));
  await assert.rejects(readTeamProfile(`${base}/slow`, { timeoutMs: 300 }), refused('profile-unreachable', /Cannot (fetch|read) the team profile from .*\/slow \(no answer in 0\.3 s\)/));
});

test('a redirect to plain http off loopback is refused before anything is fetched there', async () => {
  await assert.rejects(readTeamProfile(`${base}/away`), refused('bad-profile-url', /\/away redirected to http:\/\/example\.com\/acme\.json: The profile address http:\/\/example\.com uses http: a team profile must be fetched over https/));
});

/** A refusal that names the address only by origin and path: no user name, password or query. */
const withoutSecrets = (code: string, ...secrets: string[]) => (e: unknown) => {
  refused(code, /./)(e);
  for (const secret of secrets) assert.ok(!(e as Error).message.includes(secret), `${secret} is not in: ${(e as Error).message}`);
  return true;
};

test('an address with a user name or password is refused before anything is fetched, without quoting them', async () => {
  let fetched = 0;
  const counting: typeof fetch = (...args) => (fetched++, fetch(...args));
  const url = `http://user:hunter2@${base.slice('http://'.length)}/acme.json?sig=SECRET`;
  await assert.rejects(readTeamProfile(url, { fetch: counting }), withoutSecrets('bad-profile-url', 'hunter2', 'user:', 'SECRET'));
  await assert.rejects(readTeamProfile(url, { fetch: counting }), refused('bad-profile-url', /user name or password/));
  assert.equal(fetched, 0, 'nothing was fetched');
});

test('a redirect to an address with a user name or password is refused, without quoting them or the query', async () => {
  await assert.rejects(readTeamProfile(`${base}/to-credentials`), withoutSecrets('bad-profile-url', 'bob:', 'pw123', 'LEAK'));
});

test('a failed fetch says why without the error text, which may quote the whole address', async () => {
  const failing: typeof fetch = async (input) => {
    throw new TypeError(`Request cannot be constructed from ${String(input)}`);
  };
  await assert.rejects(readTeamProfile(`${base}/acme.json?sig=SECRET`, { fetch: failing }), withoutSecrets('profile-unreachable', 'SECRET'));
});

test('an https address that redirects to plain http is refused, even on loopback', async () => {
  assert.equal((await readTeamProfile(`${tlsBase}/acme.json`, { fetch: trusting })).profile.team, 'acme', 'the https server is trusted');
  await assert.rejects(
    readTeamProfile(`${tlsBase}/down`, { fetch: trusting }),
    refused('bad-profile-url', /\/down redirected to http:\/\/127\.0\.0\.1:\d+\/acme\.json: an https address may only redirect to another https address/),
  );
});

test('a redirect to a file: address names the file, not "null"', async () => {
  await assert.rejects(readTeamProfile(`${base}/to-file`), refused('bad-profile-url', /\/to-file redirected to file:\/\/\/etc\/passwd: The profile address uses file: give an https:\/\/ address or a file path\./));
  await assert.rejects(readTeamProfile(`${base}/to-file`), withoutSecrets('bad-profile-url', 'null', 'SECRET'));
});

test('a pocketkube://join link is read as its https profile address, with the links\' rules', async () => {
  const link = joinLinkFor(`${tlsBase}/acme.json?sig=SECRET`);
  const { profile, source } = await readTeamProfile(link, { fetch: trusting });
  assert.equal(profile.team, 'acme');
  assert.equal(source, `${tlsBase}/acme.json`);
  assert.equal((await readTeamProfile(`pocketkube:join?profile=${encodeURIComponent(`${tlsBase}/acme.json`)}`, { fetch: trusting })).profile.team, 'acme');
  await assert.rejects(readTeamProfile(joinLinkFor(`${base}/acme.json`)), refused('bad-profile-url', /uses http: a join link's profile must be an https:\/\/ address\. Nothing was changed\.$/));
  await assert.rejects(readTeamProfile('pocketkube://signin?profile=x'), refused('bad-profile-url', /asks for "signin"/));
});
