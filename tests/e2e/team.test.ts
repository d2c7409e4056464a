/**
 * Onboarding a team end to end: an admin exports a profile from their home; developers join it in fresh homes
 * through the real CLI process (from a file, an https address on loopback, standard input), sign in in
 * Chromium at the real Pocket ID stand-in, and the real kubectl's `auth whoami` succeeds against the API
 * server stand-in. Joining again changes no byte; a revision 2 updates only what changed; an issuer its
 * discovery document does not confirm writes nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { joinLinkFor } from '../../electron/shared/join-link.js';
import { loopbackCertificate } from '../support/loopback-tls.js';
import { HELPER, launchChromium, run, Stack, type RunResult } from '../support/stack.js';

const admin = new Stack();
let browser: Browser;
let profileFile: string;
let profileText: string;
let server: https.Server | undefined;
let serverCaFile: string;

/** A developer's machine: a fresh POCKETKUBE_HOME and kubeconfig, sharing only the stand-ins with the admin. */
function developer(name: string) {
  const dir = path.join(admin.dir, name);
  const env: NodeJS.ProcessEnv = { ...admin.env, HOME: dir, POCKETKUBE_HOME: path.join(dir, 'home'), KUBECONFIG: path.join(dir, 'kube', 'config') };
  return {
    env,
    kubeconfig: env.KUBECONFIG!,
    settings: path.join(env.POCKETKUBE_HOME!, 'settings.json'),
    cli: (args: string[], input?: string): Promise<RunResult> => run(HELPER, args, env, { timeoutMs: 60_000, input }),
  };
}

const read = (f: string) => readFile(f, 'utf8').catch(() => undefined);

before(async () => {
  await admin.start();
  browser = await launchChromium();
  // The admin's own setup: the provider (public client, Pocket ID's CA) and two clusters.
  await admin.configure();
  const two = await admin.cli(['cluster', 'add', 'talos-two', '--provider', admin.provider, '--server', admin.api.server, '--ca-file', admin.api.caFile]);
  assert.equal(two.code, 0, two.stderr);
  // Where the team publishes its profile: https on loopback, with its own CA the developers' Node trusts.
  const tls = await loopbackCertificate('profile-host');
  serverCaFile = path.join(admin.dir, 'profile-host-ca.pem');
  await writeFile(serverCaFile, tls.cert);
  server = https.createServer({ cert: tls.cert, key: tls.private }, (req, res) => {
    if (req.url === '/acme.yaml') {
      res.writeHead(200, { 'content-type': 'application/yaml' }).end(profileText);
    } else {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><h1>Not found</h1>');
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await admin.close();
});

test('an admin exports a team profile that holds the provider and both clusters, and no secret', async () => {
  profileFile = path.join(admin.dir, 'acme.yaml');
  const r = await admin.cli(['team', 'export', '--team', 'acme', '--group', 'kubernetes', '-o', profileFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Wrote the team profile for acme \(revision 1, provider pocket-id, 2 clusters\) to .*acme\.yaml; developers join with `pocketkube join /);
  profileText = await readFile(profileFile, 'utf8');
  assert.match(profileText, /^apiVersion: pocketkube\/v1$/m);
  assert.match(profileText, new RegExp(`issuer: ${admin.pocketId.issuer}`));
  assert.match(profileText, /name: talos-e2e[\s\S]*name: talos-two/);
  assert.doesNotMatch(profileText, /^\s*[\w-]*(secret|token)[\w-]*:/im, 'no field holds a secret');
  assert.match(profileText, /^# .*It holds no secret: the client is public \(PKCE\)\.$/m);
  const nowhere = await admin.cli(['team', 'export', '-o', path.join(admin.dir, 'no-such-folder', 'acme.yaml')]);
  assert.equal(nowhere.code, 1);
  assert.match(nowhere.stderr, /^pocketkube: Cannot write the team profile to .*no-such-folder\/acme\.yaml \(ENOENT\): give a path in a folder you can write to; nothing was written\.\n$/);
  const json = await admin.cli(['team', 'export', '--team', 'acme', '--format', 'json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).clusters.length, 2);
});

test('a developer joins from the file in a fresh home, signs in in Chromium, and kubectl auth whoami works', async () => {
  const dev = developer('dev-file');
  await admin.startAgentProcess(dev.env);
  const dry = await dev.cli(['join', profileFile, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /\+ provider pocket-id .*\(add\)/);
  assert.match(dry.stdout, /\+ context pocket-id@talos-e2e .*group kubernetes .*\(add, /);
  assert.match(dry.stdout, /Dry run: nothing was written\./);
  assert.equal(await read(dev.kubeconfig), undefined, 'a dry run writes no kubeconfig');
  assert.equal(await read(dev.settings), undefined, 'a dry run adds no provider');

  const { cli: joined, page } = await admin.signInWith(browser, ['join', profileFile, '--no-browser'], { env: dev.env });
  assert.equal(joined.code, 0, joined.stderr);
  assert.equal(page, 'Signed in');
  assert.match(joined.stdout, /Joined acme \(revision 1\): provider pocket-id added, 2 contexts added; pocket-id@talos-e2e is now current\./);
  assert.match(joined.stderr, /Signed in to pocket-id as /);

  const whoami = await admin.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'], { env: dev.env });
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.match(whoami.stdout, /^oidc:\S+ .*oidc:kubernetes/);

  // Joining the same profile again is idempotent: no byte changes, and the session stays.
  const kubeconfig = await readFile(dev.kubeconfig);
  const settings = await readFile(dev.settings);
  const again = await dev.cli(['join', profileFile]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /= provider pocket-id .*\(unchanged\)/);
  assert.match(again.stdout, /Already joined acme \(revision 1\): nothing changed\./);
  assert.match(again.stdout, /Already signed in to pocket-id\./);
  assert.deepEqual(await readFile(dev.kubeconfig), kubeconfig);
  assert.deepEqual(await readFile(dev.settings), settings);

  // Revision 2: the admin moves talos-two to another address of the same API server, and exports again.
  const newServer = admin.api.server.replace('127.0.0.1', 'localhost');
  const move = await admin.cli(['cluster', 'add', 'talos-two', '--provider', admin.provider, '--server', newServer, '--ca-file', admin.api.caFile]);
  assert.equal(move.code, 0, move.stderr);
  const v2File = path.join(admin.dir, 'acme-2.yaml');
  const exp = await admin.cli(['team', 'export', '--team', 'acme', '--group', 'kubernetes', '--revision', '2', '-o', v2File]);
  assert.equal(exp.code, 0, exp.stderr);
  const before = await readFile(dev.kubeconfig, 'utf8');
  const v2 = await dev.cli(['join', v2File]);
  assert.equal(v2.code, 0, v2.stderr);
  assert.match(v2.stdout, /= context pocket-id@talos-e2e .*\(unchanged/);
  assert.match(v2.stdout, /~ context pocket-id@talos-two .*\(update, /);
  assert.match(v2.stdout, new RegExp(`server: ${admin.api.server.replace(/[.]/g, '\\.')} -> ${newServer.replace(/[.]/g, '\\.')}`));
  assert.match(v2.stdout, /Joined acme \(revision 2\): 1 context updated\./);
  const afterV2 = await readFile(dev.kubeconfig, 'utf8');
  const talosTwo = /- name: talos-two\n(?:\s{2,}.*\n)+/.exec(before)![0];
  assert.equal(afterV2, before.replace(talosTwo, talosTwo.replace(admin.api.server, newServer)), 'only talos-two\'s server changed');
  const whoamiTwo = await admin.kubectl(['auth', 'whoami', '--context', 'pocket-id@talos-two'], { env: dev.env });
  assert.equal(whoamiTwo.code, 0, whoamiTwo.stderr);

  // An issuer whose discovery document names another issuer: nothing is written, even with --yes.
  const lying = profileText.replace(`issuer: ${admin.pocketId.issuer}`, `issuer: ${admin.pocketId.issuer.replace('localhost', '127.0.0.1')}`).replace('revision: 1', 'revision: 3');
  assert.notEqual(lying, profileText);
  const beforeLie = [await readFile(dev.kubeconfig), await readFile(dev.settings)];
  const unconfirmed = await dev.cli(['join', '-'], lying);
  assert.equal(unconfirmed.code, 1);
  assert.match(unconfirmed.stderr, /^pocketkube: Joining acme changes an existing provider .*must be confirmed: run it on a terminal to answer, or pass --yes; nothing was written\.\n$/);
  const lie = await dev.cli(['join', '-', '--yes'], lying);
  assert.equal(lie.code, 1, lie.stdout + lie.stderr);
  assert.match(lie.stdout, /issuer: https:\/\/localhost:\d+ -> https:\/\/127\.0\.0\.1:\d+/);
  assert.match(lie.stderr, /^pocketkube: https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration names the issuer https:\/\/localhost:\d+, not https:\/\/127\.0\.0\.1:\d+ as the profile says: .*correct the profile's provider\.issuer; nothing was written\.\n$/);
  assert.deepEqual([await readFile(dev.kubeconfig), await readFile(dev.settings)], beforeLie);
});

test('a developer joins from an https address on loopback, and another from standard input', async () => {
  const url = `https://127.0.0.1:${(server!.address() as AddressInfo).port}/acme.yaml`;
  const dev = developer('dev-url');
  dev.env.NODE_EXTRA_CA_CERTS = serverCaFile;
  const r = await dev.cli(['join', url, '--no-sign-in']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Team acme, revision 1, from ${url.replace(/[.]/g, '\\.')}:`));
  assert.match(r.stdout, /Joined acme \(revision 1\): provider pocket-id added, 2 contexts added; pocket-id@talos-e2e is now current\.\nSign in with `pocketkube login pocket-id`\./);
  // The join link itself, pasted where links do not open, is read the same way.
  const link = await dev.cli(['join', joinLinkFor(url), '--dry-run']);
  assert.equal(link.code, 0, link.stderr);
  assert.match(link.stdout, new RegExp(`Team acme, revision 1, from ${url.replace(/[.]/g, '\\.')}:`));
  const missing = await dev.cli(['join', url.replace('acme.yaml', 'nope.yaml'), '--no-sign-in']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /answered HTTP 404 .*not a team profile: check the address with your admin; nothing was changed\./);

  const piped = developer('dev-stdin');
  const s = await piped.cli(['join', '-', '--no-sign-in'], profileText);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /from standard input:/);
  // Both homes hold the same kubeconfig, but for the home the helper is told about.
  const strip = (text: string, home: string) => text.split(home).join('HOME');
  assert.equal(strip((await read(piped.kubeconfig))!, piped.env.POCKETKUBE_HOME!), strip((await read(dev.kubeconfig))!, dev.env.POCKETKUBE_HOME!));
});

test('a bad profile gets one sentence and writes nothing, and a secret in it is refused with the reason', async () => {
  const dev = developer('dev-bad');
  const secret = 'shh-this-is-the-client-secret';
  const withSecret = profileText.replace(/^( {2}clientId: .*)$/m, `$1\n  clientSecret: ${secret}`);
  const r = await dev.cli(['join', '-'], withSecret);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^pocketkube: standard input: provider\.clientSecret holds a secret, which a team profile must never carry: .*PKCE.*; nothing was changed\.\n$/);
  assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret));
  const http = await dev.cli(['join', '-'], profileText.replace(/server: https:\/\/127\.0\.0\.1/, 'server: http://127.0.0.1'));
  assert.equal(http.code, 1);
  assert.match(http.stderr, /^pocketkube: standard input: clusters\[0\]\.server http:\/\/127\.0\.0\.1:\d+ is not https: .*; nothing was changed\.\n$/);
  const usage = await dev.cli(['join']);
  assert.equal(usage.code, 2);
  assert.equal(await read(dev.kubeconfig), undefined);
  assert.equal(await read(dev.settings), undefined);
});

test('on a terminal, join asks once: no changes nothing, yes joins', async () => {
  const dev = developer('dev-tty');
  // `script` gives the command a terminal (a pty); what we write to its stdin is what the user types.
  const onTerminal = (answer: string) =>
    run('/usr/bin/script', ['-qec', `${HELPER} join ${profileFile} --no-sign-in`, '/dev/null'], dev.env, { timeoutMs: 60_000, input: answer });
  const no = await onTerminal('n\n');
  assert.equal(no.code, 1, no.stdout);
  assert.match(no.stdout, /Join acme\? \[y\/N\] /);
  assert.match(no.stdout, /Nothing was changed\./);
  assert.equal(await read(dev.kubeconfig), undefined);
  assert.equal(await read(dev.settings), undefined);
  const yes = await onTerminal('y\n');
  assert.equal(yes.code, 0, yes.stdout);
  assert.equal(yes.stdout.match(/\[y\/N\]/g)?.length, 1, 'asked once');
  assert.match(yes.stdout, /Joined acme \(revision 1\): provider pocket-id added, 2 contexts added/);
});

test('with no agent running, join writes the provider and contexts, then says how to sign in', async () => {
  const dev = developer('dev-no-agent');
  const r = await dev.cli(['join', profileFile]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Joined acme \(revision 1\): provider pocket-id added, 2 contexts added/);
  assert.match(r.stderr, /^pocketkube: Joined acme, but signing in needs the agent: start the PocketKube app or `pocketkube agent`, then run `pocketkube login pocket-id`\.\n$/);
  assert.match((await read(dev.settings))!, /"issuer": "https:\/\/localhost:\d+"/);
  assert.match((await read(dev.kubeconfig))!, /name: pocket-id@talos-two/);
});

test('an admin whose context reuses talosctl\'s cluster exports its context\'s name, and joining it on the same machine changes no byte', async () => {
  const me = developer('admin-from-context');
  await mkdir(path.dirname(me.kubeconfig), { recursive: true });
  const ca = (await readFile(admin.api.caFile)).toString('base64');
  // What talosctl writes: an admin context on a cluster named after the Talos cluster.
  await writeFile(me.kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: talos-x
  cluster:
    server: ${admin.api.server}
    certificate-authority-data: ${ca}
users:
- name: admin@talos-x
  user:
    client-certificate-data: ${ca}
contexts:
- name: admin@talos-x
  context:
    cluster: talos-x
    user: admin@talos-x
current-context: admin@talos-x
`);
  const add = await me.cli(['provider', 'add', admin.provider, '--issuer', admin.pocketId.issuer, '--client-id', admin.clientId, '--callback-port', String(admin.callbackPort), '--ca-file', admin.pocketId.caFile]);
  assert.equal(add.code, 0, add.stderr);
  const cluster = await me.cli(['cluster', 'add', 'prod', '--provider', admin.provider, '--from-context', 'admin@talos-x']);
  assert.equal(cluster.code, 0, cluster.stderr + cluster.stdout);
  const file = path.join(path.dirname(me.kubeconfig), 'team.yaml');
  const exported = await me.cli(['team', 'export', '--team', 'solo', '-o', file]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(await readFile(file, 'utf8'), /- name: prod\n/);
  const before = await readFile(me.kubeconfig);
  const joined = await me.cli(['join', file, '--no-sign-in']);
  assert.equal(joined.code, 0, joined.stderr);
  assert.match(joined.stdout, /= context pocket-id@prod /);
  assert.deepEqual(await readFile(me.kubeconfig), before, 'the kubeconfig did not change');
});

test('a confidential provider is refused by export, and the commands the refusal gives make it exportable', async () => {
  const me = developer('admin-confidential');
  const secretFile = path.join(admin.dir, 'confidential-secret');
  await writeFile(secretFile, 's3cret-value\n', { mode: 0o600 });
  const base = ['provider', 'add', admin.provider, '--issuer', admin.pocketId.issuer, '--client-id', admin.clientId, '--callback-port', String(admin.callbackPort), '--ca-file', admin.pocketId.caFile];
  assert.equal((await me.cli([...base, '--client-secret-file', secretFile])).code, 0);
  const cluster = await me.cli(['cluster', 'add', 'prod', '--provider', admin.provider, '--server', admin.api.server, '--ca-file', admin.api.caFile]);
  assert.equal(cluster.code, 0, cluster.stderr);
  const refused = await me.cli(['team', 'export']);
  assert.equal(refused.code, 1);
  assert.doesNotMatch(refused.stderr, /s3cret/);
  const commands = [...refused.stderr.matchAll(/`(pocketkube [^`]+)`/g)].map((m) => m[1]!);
  assert.equal(commands.length, 2, refused.stderr);
  // Do exactly what it says (its words split as a shell would: no quoting is needed for these paths).
  for (const command of commands) {
    const r = await me.cli(command.split(' ').slice(1));
    assert.equal(r.code, 0, `${command}: ${r.stderr}`);
  }
  const exported = await me.cli(['team', 'export']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /- name: prod\n/);
  assert.match(exported.stdout, new RegExp(`callbackPort: ${admin.callbackPort}`));
});

test('on a terminal, the question names why it is asked: an older revision, not a provider change', async () => {
  const dev = developer('dev-tty-older');
  const newer = path.join(admin.dir, 'acme-r2.yaml');
  const text2 = profileText.replace(/^revision: 1$/m, 'revision: 2').replace(/(- name: talos-two\n\s+server: )\S+/, '$1https://127.0.0.1:1');
  assert.notEqual(text2, profileText);
  await writeFile(newer, text2);
  const r2 = await dev.cli(['join', newer, '--no-sign-in']);
  assert.equal(r2.code, 0, r2.stderr);
  const no = await run('/usr/bin/script', ['-qec', `${HELPER} join ${profileFile} --no-sign-in`, '/dev/null'], dev.env, { timeoutMs: 60_000, input: 'n\n' });
  assert.equal(no.code, 1, no.stdout);
  assert.match(no.stdout, /Join acme, which goes back to an older revision \(see above\)\? \[y\/N\] /);
  assert.doesNotMatch(no.stdout, /provider change/);
});
