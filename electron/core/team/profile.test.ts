import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loopbackCertificate } from '../../../tests/support/loopback-tls.js';
import { PocketKubeError } from '../platform/errors.js';
import { providerFromInput, type ProviderConfig } from '../session/providers.js';
import { displayUrl, exportTeamProfile, parseTeamProfile, readTeamProfile, teamProfileText, type TeamProfile } from './profile.js';

let issuerCa: string;
let clusterCa: string;
let dir: string;

before(async () => {
  issuerCa = (await loopbackCertificate('team-test-issuer-ca')).cert;
  clusterCa = Buffer.from((await loopbackCertificate('team-test-cluster-ca')).cert).toString('base64');
  dir = await mkdtemp(path.join(os.tmpdir(), 'pk-team-profile-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function profile(): TeamProfile {
  return {
    apiVersion: 'pocketkube/v1',
    kind: 'TeamProfile',
    team: 'acme-platform',
    revision: 3,
    provider: { name: 'pocket-id', issuer: 'https://id.example.com', clientId: 'a60960a8-c856-43b7-add7-50d83bf7eeab', caData: issuerCa },
    clusters: [
      { name: 'prod', server: 'https://10.0.0.1:6443', certificateAuthorityData: clusterCa, namespace: 'apps', group: 'kubernetes' },
      { name: 'staging', server: 'https://10.0.1.1:6443', certificateAuthorityData: clusterCa },
    ],
  };
}

/** The profile as a plain object to break, written out as YAML. */
function yamlWith(change: (p: Record<string, any>) => void): string {
  const p = JSON.parse(JSON.stringify(profile())) as Record<string, any>;
  change(p);
  return stringify(p);
}

/** One sentence from `parseTeamProfile`, with its where and its field, and nothing written (parse writes nothing). */
function refusal(text: string, field: RegExp | string, what: RegExp): void {
  assert.throws(
    () => parseTeamProfile(text, 'team.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof PocketKubeError, String(e));
      assert.equal(e.code, 'bad-profile');
      assert.ok(e.message.startsWith('team.yaml'), e.message);
      if (typeof field === 'string') assert.ok(e.message.includes(field), `${e.message} names ${field}`);
      else assert.match(e.message, field);
      assert.match(e.message, what);
      assert.match(e.message, /; nothing was changed\.$/);
      assert.doesNotMatch(e.message, /\n/, 'one line');
      assert.equal(e.message.match(/\.(\s|$)/g)?.length, 1, `one sentence: ${e.message}`);
      return true;
    },
  );
}

describe('parseTeamProfile', () => {
  test('reads a profile written as YAML and the same profile written as JSON', () => {
    assert.deepEqual(parseTeamProfile(stringify(profile()), 'team.yaml'), profile());
    assert.deepEqual(parseTeamProfile(JSON.stringify(profile()), 'team.json'), profile());
  });

  test('an unknown apiVersion or kind says which this PocketKube reads', () => {
    refusal(yamlWith((p) => (p.apiVersion = 'pocketkube/v2')), 'apiVersion', /"pocketkube\/v2" is not one this PocketKube reads .*upgrade PocketKube/);
    refusal(yamlWith((p) => delete p.apiVersion), 'apiVersion', /is missing/);
    refusal(yamlWith((p) => (p.kind = 'Config')), 'kind', /must be TeamProfile, not "Config"/);
  });

  test('a missing field is named by its path', () => {
    refusal(yamlWith((p) => delete p.clusters[1].server), 'clusters[1].server', /is missing/);
    refusal(yamlWith((p) => delete p.provider.clientId), 'provider.clientId', /is missing/);
    refusal(yamlWith((p) => delete p.revision), 'revision', /is missing/);
    refusal(yamlWith((p) => (p.clusters = [])), 'clusters', /at least one cluster/);
  });

  test('CA data that is not base64 of a PEM certificate is refused', () => {
    refusal(yamlWith((p) => (p.clusters[0].certificateAuthorityData = 'not base64!')), 'clusters[0].certificateAuthorityData', /is not base64: give the cluster CA/);
    refusal(yamlWith((p) => (p.clusters[0].certificateAuthorityData = Buffer.from('hello').toString('base64'))), 'clusters[0].certificateAuthorityData', /holds no PEM certificate/);
    const broken = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
    refusal(yamlWith((p) => (p.clusters[1].certificateAuthorityData = broken)), 'clusters[1].certificateAuthorityData', /not a valid certificate/);
    refusal(yamlWith((p) => (p.provider.caData = 'MIIB...')), 'provider.caData', /holds no PEM certificate/);
  });

  test('a server that is not https is refused', () => {
    refusal(yamlWith((p) => (p.clusters[1].server = 'http://10.0.1.1:6443')), 'clusters[1].server', /is not https: kubectl sends your token only to an https API server/);
    refusal(yamlWith((p) => (p.clusters[0].server = 'prod.example.com:6443')), 'clusters[0].server', /not a URL|not https/);
    refusal(yamlWith((p) => (p.provider.issuer = 'http://id.example.com')), 'provider.issuer', /must use https/);
  });

  test('names that clash or are not kubeconfig names are refused', () => {
    refusal(yamlWith((p) => (p.clusters[1].name = 'prod')), 'clusters[1].name', /"prod" is also the name of clusters\[0\]/);
    refusal(yamlWith((p) => (p.clusters[0].name = 'my prod')), 'clusters[0].name', /not a valid cluster name/);
    refusal(yamlWith((p) => (p.provider.name = 'pocket@id')), 'provider.name', /not a valid provider name/);
    refusal(yamlWith((p) => (p.clusters[0].namespace = 'Apps')), 'clusters[0].namespace', /not a namespace name/);
  });

  test('a client secret anywhere is refused with why teams use a public client, and never quoted', () => {
    const secret = 'super-s3cret-value';
    for (const [text, field] of [
      [yamlWith((p) => (p.provider.clientSecret = secret)), 'provider.clientSecret'],
      [yamlWith((p) => (p.provider.client_secret = secret)), 'provider.client_secret'],
      [yamlWith((p) => (p.clusters[0].token = secret)), 'clusters[0].token'],
      [yamlWith((p) => (p.extra = { refreshToken: secret })), 'extra.refreshToken'],
    ] as const) {
      refusal(text, field, /holds a secret, which a team profile must never carry: .*public \(no secret: PKCE protects each sign-in instead\)/);
      try {
        parseTeamProfile(text, 'team.yaml');
      } catch (e) {
        assert.ok(!(e as Error).message.includes(secret), 'the secret is not in the message');
      }
    }
    const key = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----';
    refusal(yamlWith((p) => (p.clusters[0].group = key)), 'clusters[0].group', /holds a secret/);
  });

  test('control characters in any string field are refused, naming the field and never printing them', () => {
    const fake = 'client-1  (unchanged)\n  = context pid@prod  https://evil:6443  (unchanged)\u001b[2K';
    for (const [change, field] of [
      [(p: Record<string, any>) => (p.provider.clientId = fake), 'provider.clientId'],
      [(p: Record<string, any>) => (p.clusters[0].server = 'https://10.0.0.1:6443/x\n  = context pid@prod\u001b[31m'), 'clusters[0].server'],
      [(p: Record<string, any>) => (p.provider.issuer = 'https://id.example.com\t'), 'provider.issuer'],
      [(p: Record<string, any>) => (p.clusters[1].group = 'dev\u009bops'), 'clusters[1].group'],
      [(p: Record<string, any>) => (p.clusters[1].group = 'admins\u202e'), 'clusters[1].group'],
      [(p: Record<string, any>) => (p.clusters[1].group = 'admins\u2066x'), 'clusters[1].group'],
      [(p: Record<string, any>) => (p.team = 'acme\u007f'), 'team'],
      [(p: Record<string, any>) => (p.provider.caData += '\u0000'), 'provider.caData'],
      [(p: Record<string, any>) => (p.clusters[0]['x\u001b[2K'] = 1), 'clusters[0].x\\u001b[2K'],
    ] as const) {
      const text = yamlWith(change);
      refusal(text, field, /(holds a control character|is not a pocketkube\/v1 profile field)/);
      try {
        parseTeamProfile(text, 'team.yaml');
      } catch (e) {
        assert.doesNotMatch((e as Error).message, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'no control character is printed');
      }
    }
  });

  test('a server is kept as the parsed https address, not the raw text', () => {
    const servers = (server: string) => parseTeamProfile(yamlWith((p) => (p.clusters[0].server = server)), 'team.yaml').clusters[0]!.server;
    assert.equal(servers('https://10.0.0.1:6443/'), 'https://10.0.0.1:6443');
    assert.equal(servers('HTTPS://API.Example.COM:6443'), 'https://api.example.com:6443');
    assert.equal(servers('https://api.example.com:6443/k8s/'), 'https://api.example.com:6443/k8s');
  });

  test('unknown fields, bad YAML and bad revisions get their sentence', () => {
    refusal(yamlWith((p) => (p.clusters[0].sever = 'https://x')), 'clusters[0].sever', /is not a pocketkube\/v1 profile field/);
    refusal('apiVersion: pocketkube/v1\nkind: [TeamProfile\n', /^team\.yaml line 2: not valid YAML or JSON \(the \[ here is never closed\)/, /fix the file/);
    refusal('- a\n- b\n', /^team\.yaml: is not a team profile/, /expected a mapping/);
    refusal(yamlWith((p) => (p.x = 1)).replace('team: acme-platform', 'team: &t acme-platform').replace('x: 1', 'x: *t'), /^team\.yaml: uses YAML aliases/, /write each value out/);
    refusal(yamlWith((p) => (p.revision = 0)), 'revision', /whole number from 1/);
    refusal(yamlWith((p) => (p.provider.clientId = 'https://id.example.com')), 'provider.clientId', /is a URL/);
    refusal(yamlWith((p) => (p.provider.scopes = ['profile', 'groups'])), 'provider.scopes', /must include openid/);
  });
});

describe('displayUrl', () => {
  test('shows scheme, host and path: no user name, password, query or fragment, and no "null" origin', () => {
    assert.equal(displayUrl('https://alice:hunter2@example.com:8443/t/team.yaml?sig=abc#x'), 'https://example.com:8443/t/team.yaml');
    assert.equal(displayUrl('file:///etc/passwd?x=1'), 'file:///etc/passwd');
    assert.equal(displayUrl('ftp://bob:pw@files.example.com/t.yaml'), 'ftp://files.example.com/t.yaml');
    for (const bad of ['http://alice:hunter2@[bad/team.yaml?sig=abc', 'http://alice:hun/ter2@host:x/team.yaml']) {
      const shown = displayUrl(bad);
      assert.ok(!/hunter2|hun\/ter2|alice|sig=abc/.test(shown), shown);
    }
  });
});

describe('readTeamProfile', () => {
  test('reads a file, or standard input through the function it is given', async () => {
    const file = path.join(dir, 'team.yaml');
    await writeFile(file, teamProfileText(profile(), 'yaml'));
    assert.deepEqual(await readTeamProfile(file), { profile: profile(), source: file });
    const fromStdin = await readTeamProfile('-', { stdin: async () => teamProfileText(profile(), 'json') });
    assert.deepEqual(fromStdin, { profile: profile(), source: 'standard input' });
  });

  test('a missing file and an http address off loopback get one sentence each', async () => {
    await assert.rejects(readTeamProfile(path.join(dir, 'nope.yaml')), /Cannot read the team profile .*nope\.yaml \(no such file\): give the profile's file path or https address; nothing was changed\./);
    await assert.rejects(readTeamProfile('http://example.com/team.yaml'), (e: unknown) => e instanceof PocketKubeError && e.code === 'bad-profile-url' && /must be fetched over https/.test(e.message));
  });
});

describe('exportTeamProfile', () => {
  async function kubeconfigWithOurContexts(): Promise<string> {
    const file = path.join(dir, 'export', 'config');
    await mkdir(path.dirname(file), { recursive: true });
    const exec = (provider: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/opt/pocketkube/resources/bin/pocketkube', args: ['credential', '--provider', provider] } });
    await writeFile(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'prod', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': clusterCa } },
          { name: 'staging', cluster: { server: 'https://10.0.1.1:6443', 'certificate-authority-data': clusterCa } },
          { name: 'other', cluster: { server: 'https://10.9.9.9:6443', 'certificate-authority-data': clusterCa } },
        ],
        users: [
          { name: 'pocket-id', user: exec('pocket-id') },
          { name: 'admin', user: { token: 'x' } },
          { name: 'elsewhere', user: exec('elsewhere') },
        ],
        contexts: [
          { name: 'pocket-id@prod', context: { cluster: 'prod', user: 'pocket-id', namespace: 'apps' } },
          { name: 'pocket-id@staging', context: { cluster: 'staging', user: 'pocket-id' } },
          { name: 'admin@prod', context: { cluster: 'prod', user: 'admin' } },
          { name: 'elsewhere@other', context: { cluster: 'other', user: 'elsewhere' } },
        ],
      }),
    );
    return file;
  }

  const provider = (over: Partial<ProviderConfig> = {}): ProviderConfig => ({
    ...providerFromInput({ name: 'pocket-id', issuer: 'https://id.example.com', clientId: 'a60960a8-c856-43b7-add7-50d83bf7eeab', caFile: '/etc/pocket-id-ca.pem' }),
    ...over,
  });

  test('exports the provider and its PocketKube contexts, and the text parses back to the same profile (YAML and JSON)', async () => {
    const files = [await kubeconfigWithOurContexts()];
    const exported = await exportTeamProfile(
      { providers: async () => [provider(), provider({ name: 'elsewhere' })], kubeconfigFiles: files, readCaFile: async () => issuerCa },
      { provider: 'pocket-id', team: 'acme-platform', revision: 3, group: 'kubernetes' },
    );
    const expected = profile();
    expected.clusters[1]!.group = 'kubernetes';
    assert.deepEqual(exported, expected);
    for (const format of ['yaml', 'json'] as const) assert.deepEqual(parseTeamProfile(teamProfileText(exported, format), `team.${format}`), exported);
    assert.match(teamProfileText(exported, 'yaml'), /^# PocketKube team profile for acme-platform/);
  });

  test('exports only the contexts asked for, and refuses a context that is not the provider\'s', async () => {
    const deps = { providers: async () => [provider()], kubeconfigFiles: [await kubeconfigWithOurContexts()], readCaFile: async () => issuerCa };
    const one = await exportTeamProfile(deps, { contexts: ['pocket-id@staging'] });
    assert.deepEqual(one.clusters.map((c) => c.name), ['staging']);
    assert.equal(one.team, 'pocket-id');
    await assert.rejects(exportTeamProfile(deps, { contexts: ['admin@prod'] }), /Context admin@prod does not use provider pocket-id through PocketKube/);
  });

  test('a confidential provider is refused with why teams use a public client', async () => {
    await assert.rejects(
      exportTeamProfile({ providers: async () => [provider({ confidential: true })], kubeconfigFiles: [await kubeconfigWithOurContexts()] }),
      (e: unknown) => e instanceof PocketKubeError && e.code === 'confidential-provider' && /has a client secret, so it cannot be exported: .*PKCE/.test(e.message),
    );
  });
});
