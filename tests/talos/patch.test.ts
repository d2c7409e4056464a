import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { startKubeApiServer, type AuthenticationConfiguration, type KubeApiServerHandle } from '../stand-ins/kube-apiserver/index.js';
import { talosPatch, whoami } from '../../electron/core/talos/index.js';
import { UsageError } from '../../electron/core/platform/errors.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { tempDir } from '../support/temp.js';
import { startTinyIssuer, type TinyIssuer } from '../support/token-issuer.js';

// Fixtures live beside the tests: dist/tests/talos -> tests/talos/testdata.
const testdata = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../tests/talos/testdata');
const LEGACY = readFileSync(path.join(testdata, 'legacy-controlplane.yaml'), 'utf8');
const MULTIDOC = readFileSync(path.join(testdata, 'multidoc-controlplane.yaml'), 'utf8');
const ISSUER = 'https://id.example.com';
const CLIENT = 'a60960a8-c856-43b7-add7-50d83bf7eeab';

function withoutDocument(text: string, kind: string): string {
  return text
    .split(/^---$/m)
    .filter((d) => !new RegExp(`^kind: ${kind}$`, 'm').test(d))
    .join('---');
}

/** The one document of the patch, as data. */
function docs(patchYaml: string): Array<Record<string, any>> {
  return parseAllDocuments(patchYaml).map((d) => d.toJS() as Record<string, any>);
}

describe('talosPatch: choosing the shape', () => {
  test('a v1.13 controlplane.yaml with cluster.apiServer is legacy', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: LEGACY });
    assert.equal(p.shape, 'legacy');
    assert.match(p.shapeReason, /cluster\.apiServer/);
  });

  test('a v1.14 controlplane.yaml with a KubeAPIServerConfig document is multidoc', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: MULTIDOC });
    assert.equal(p.shape, 'multidoc');
    assert.match(p.shapeReason, /KubeAPIServerConfig/);
  });

  test('a v1.14 file with neither KubeAPIServerConfig nor cluster.apiServer is multidoc, told by its 1.14-only documents', () => {
    const text = withoutDocument(MULTIDOC, 'KubeAPIServerConfig');
    assert.doesNotMatch(text, /KubeAPIServerConfig/);
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: text });
    assert.equal(p.shape, 'multidoc');
    assert.match(p.shapeReason, /KubeClusterConfig/);
  });

  test('a file with both KubeAPIServerConfig and cluster.apiServer is refused, as Talos refuses it', () => {
    const conflicting = MULTIDOC.replace('cluster:\n', 'cluster:\n    apiServer:\n        image: registry.k8s.io/kube-apiserver:v1.37.0\n');
    assert.throws(
      () => talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: conflicting }),
      (e: Error) => /both a KubeAPIServerConfig document and a legacy cluster\.apiServer/.test(e.message) && /remove one/.test(e.message),
    );
  });

  test('without a machine config the Talos version decides: 1.13 legacy, 1.14 multidoc', () => {
    assert.equal(talosPatch({ issuer: ISSUER, clientId: CLIENT, talosVersion: 'v1.13.9' }).shape, 'legacy');
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, talosVersion: '1.14.0' });
    assert.equal(p.shape, 'multidoc');
    assert.ok(p.notes.some((n) => /upgraded/.test(n)), 'warns that upgraded clusters keep the legacy shape');
  });

  test('with nothing to go on it is legacy, with a note saying so', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT });
    assert.equal(p.shape, 'legacy');
    assert.ok(p.notes.some((n) => /assumed/.test(n)));
  });

  test('a forced shape that contradicts the machine config is an error', () => {
    assert.throws(() => talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'legacy', machineConfigText: MULTIDOC }), /multidoc/);
  });

  test('bad input is refused with one sentence naming the fix', () => {
    assert.throws(() => talosPatch({ issuer: 'http://id.example.com', clientId: CLIENT }), /https/);
    assert.throws(() => talosPatch({ issuer: ISSUER, clientId: '' }), /Client ID/);
    assert.throws(() => talosPatch({ issuer: ISSUER, clientId: CLIENT, talosVersion: 'latest' }), /v1\.13\.9/);
    assert.throws(() => talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: 'cluster: [\n' }), /not valid YAML/);
  });
});

describe('talosPatch: refusing what is not a control-plane machine config, in one sentence naming the file', () => {
  const FILE = '/home/alice/talos/controlplane.yaml';
  /** What the CLI and the window pass: the text and the file's path. */
  function patchOf(text: string, name?: string) {
    const opts = { issuer: ISSUER, clientId: CLIENT, machineConfigText: text, machineConfigName: name };
    return talosPatch(opts);
  }
  /** The refusal of `text`: a UsageError coded bad_machine_config whose message is one sentence without the yaml library's position tail. */
  function refusal(text: string, name: string | null = FILE): UsageError {
    let thrown: unknown;
    try {
      patchOf(text, name ?? undefined);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof UsageError, `refused with a UsageError, not ${String(thrown)}`);
    assert.equal(thrown.code, 'bad_machine_config');
    assert.match(thrown.message, /^[^\n]+\.$/, 'one sentence on one line');
    assert.doesNotMatch(thrown.message, /at line \d+, column \d+/);
    if (name) assert.ok(thrown.message.startsWith(`${name} `), `names the file: ${thrown.message}`);
    return thrown;
  }
  const FIX = 'pass the control-plane machine config (controlplane.yaml, or what `talosctl read /system/state/config.yaml -n CP1` prints).';

  test('a YAML document that is no machine config (hello: world) is refused as not a Talos machine config', () => {
    assert.equal(
      refusal('hello: world\n').message,
      `${FILE} is not a Talos machine config (it has no \`version: v1alpha1\` with \`machine:\` or \`cluster:\`): ${FIX}`,
    );
  });

  test('an empty file, or one of comments only, is refused as empty', () => {
    assert.equal(refusal('').message, `${FILE} is empty: ${FIX}`);
    assert.equal(refusal('# controlplane.yaml\n\n').message, `${FILE} is empty: ${FIX}`);
  });

  test('a multi-document file without the v1alpha1 document is refused, counting its documents', () => {
    const kubernetesOnly = MULTIDOC.split(/^---$/m).slice(1).join('---');
    assert.match(kubernetesOnly, /kind: KubeAPIServerConfig/);
    assert.doesNotMatch(kubernetesOnly, /^version: v1alpha1$/m);
    assert.equal(
      refusal(kubernetesOnly).message,
      `${FILE} is not a Talos machine config (none of its 6 documents has \`version: v1alpha1\` with \`machine:\` or \`cluster:\`): ${FIX}`,
    );
  });

  test('a worker\'s machine config is refused: kube-apiserver and its OIDC settings live on control-plane nodes only', () => {
    for (const base of [LEGACY, MULTIDOC]) {
      const worker = base.replace('type: controlplane', 'type: worker');
      assert.equal(
        refusal(worker).message,
        `${FILE} is a worker node's machine config (machine.type: worker), but kube-apiserver runs on control-plane nodes only: pass controlplane.yaml, or what \`talosctl read /system/state/config.yaml -n CP1\` prints for a control-plane node.`,
      );
    }
  });

  test('YAML that does not parse names the file and the line where the unclosed [ opened', () => {
    assert.equal(
      refusal('version: v1alpha1\nmachine:\n  type: controlplane\ncluster: [\n').message,
      `${FILE} line 4 is not valid YAML (the [ here is never closed): pass the file exactly as talosctl wrote it.`,
    );
    assert.equal(
      refusal('version: v1alpha1\nmachine: {type: controlplane}\ncluster: one: two\n').message,
      `${FILE} line 3 is not valid YAML (Nested mappings are not allowed in compact mappings): pass the file exactly as talosctl wrote it.`,
    );
  });

  test('without a file name the sentence starts with "The machine config"', () => {
    assert.equal(refusal('hello: world\n', null).message.split(' (')[0], 'The machine config is not a Talos machine config');
  });

  test('a control-plane config that does not show its shape is legacy, and the note does not claim no file was given', () => {
    const p = patchOf('version: v1alpha1\nmachine:\n  type: controlplane\ncluster:\n  clusterName: homelab\n', FILE);
    assert.equal(p.shape, 'legacy');
    assert.ok(p.notes.some((n) => n.startsWith('The machine config does not show its shape and no Talos version was given, so the legacy shape was assumed')));
    assert.ok(!p.notes.some((n) => /Neither a machine config/.test(n)), p.notes.join('\n'));
  });
});

describe('talosPatch: contents', () => {
  test('legacy: cluster.apiServer.extraArgs with issuer as given and the oidc: prefixes', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'legacy' });
    const patch = parse(p.patchYaml) as any;
    assert.deepEqual(patch, {
      cluster: {
        apiServer: {
          extraArgs: {
            'oidc-issuer-url': ISSUER,
            'oidc-client-id': CLIENT,
            'oidc-username-claim': 'sub',
            'oidc-username-prefix': 'oidc:',
            'oidc-groups-claim': 'groups',
            'oidc-groups-prefix': 'oidc:',
          },
        },
      },
    });
    assert.equal(p.command, 'talosctl patch mc -n CP1,CP2,CP3 --patch @pocketkube-oidc-patch.yaml');
    assert.ok(p.notes.some((n) => n.includes('--dry-run')));
  });

  test('legacy with a CA explains how the file gets onto the nodes instead of inventing an oidc-ca-file path', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'legacy', caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
    assert.doesNotMatch(p.patchYaml, /oidc-ca-file/);
    assert.ok(p.notes.some((n) => /oidc-ca-file/.test(n) && /control-plane node/.test(n)));
  });

  test('multidoc: one KubeAuthenticationConfig with jwt, prefixes and the default anonymous health paths', () => {
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: MULTIDOC, nodes: ['10.0.0.11', '10.0.0.12'] });
    const [doc, ...rest] = docs(p.patchYaml);
    assert.equal(rest.length, 0);
    assert.equal(doc!.apiVersion, 'v1alpha1');
    assert.equal(doc!.kind, 'KubeAuthenticationConfig');
    assert.deepEqual(doc!.configuration, {
      apiVersion: 'apiserver.config.k8s.io/v1beta1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: { url: ISSUER, audiences: [CLIENT] },
          claimMappings: { username: { claim: 'sub', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' } },
        },
      ],
      anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
    });
    assert.equal(p.command, 'talosctl patch mc -n 10.0.0.11,10.0.0.12 --patch @pocketkube-oidc-patch.yaml');
  });

  test('multidoc keeps other issuers and the anonymous block already in KubeAuthenticationConfig, since configuration is replaced whole', () => {
    const existing = MULTIDOC.replace(
      '    jwt: []\n',
      '    jwt:\n        - issuer:\n              url: https://ci.example.com\n              audiences: [ci]\n          claimMappings:\n              username: {claim: sub, prefix: "ci:"}\n',
    ).replace('            - path: /healthz\n', '');
    const p = talosPatch({ issuer: ISSUER, clientId: CLIENT, machineConfigText: existing });
    const conf = docs(p.patchYaml)[0]!.configuration;
    assert.deepEqual(conf.jwt.map((j: any) => j.issuer.url), ['https://ci.example.com', ISSUER]);
    assert.deepEqual(conf.anonymous.conditions, [{ path: '/livez' }, { path: '/readyz' }]);
    assert.ok(p.notes.some((n) => /keeps the 1 other JWT issuer/.test(n)));
  });

  test('multidoc inlines the CA as certificateAuthority', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const conf = docs(talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'multidoc', caPem: pem }).patchYaml)[0]!.configuration;
    assert.equal(conf.jwt[0].issuer.certificateAuthority, pem);
  });

  test('the issuer is used exactly as given, a trailing slash kept but warned about', () => {
    const p = talosPatch({ issuer: `${ISSUER}/`, clientId: CLIENT, shape: 'multidoc' });
    assert.equal(docs(p.patchYaml)[0]!.configuration.jwt[0].issuer.url, `${ISSUER}/`);
    assert.ok(p.notes.some((n) => /ends with "\/"/.test(n)));
  });

  test('email username claim: both shapes warn that Pocket ID leaves email_verified false; multidoc adds no claim rule', () => {
    const legacy = talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'legacy', usernameClaim: 'email' });
    assert.equal((parse(legacy.patchYaml) as any).cluster.apiServer.extraArgs['oidc-username-claim'], 'email');
    assert.ok(legacy.notes.some((n) => /email_verified/.test(n) && /Pocket ID/.test(n)));
    const multi = talosPatch({ issuer: ISSUER, clientId: CLIENT, shape: 'multidoc', usernameClaim: 'email' });
    const jwt = docs(multi.patchYaml)[0]!.configuration.jwt[0];
    assert.deepEqual(jwt.claimMappings.username, { claim: 'email', prefix: 'oidc:' });
    assert.equal(jwt.claimValidationRules, undefined);
    assert.ok(multi.notes.some((n) => /checks email_verified itself/.test(n)));
  });

});

describe('talosPatch: the kube-apiserver stand-in accepts what the patch configures', { timeout: 60_000 }, () => {
  let dir: string;
  let idp: TinyIssuer;
  const servers: KubeApiServerHandle[] = [];

  before(async () => {
    dir = await tempDir('pocketkube-talos-patch-');
    idp = await startTinyIssuer(dir, CLIENT);
  });
  after(async () => {
    for (const s of servers) await s.close();
    await idp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function whoamiWithToken(api: KubeApiServerHandle, name: string) {
    const file = path.join(dir, `${name}.kubeconfig`);
    const token = await idp.sign(idp.claims());
    const context = await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name, user: { token } });
    return whoami({ kubeconfigFiles: [file], context });
  }

  test('the multidoc configuration body, fed to --authentication-config, authenticates oidc:<sub> in oidc:kubernetes', async () => {
    const p = talosPatch({ issuer: idp.issuer, clientId: CLIENT, shape: 'multidoc', caPem: idp.caPem });
    const configuration = docs(p.patchYaml)[0]!.configuration as AuthenticationConfiguration;
    const api = await startKubeApiServer({ authenticationConfig: configuration });
    servers.push(api);
    const me = await whoamiWithToken(api, 'multidoc');
    assert.equal(me.username, `oidc:${idp.claims().sub}`);
    assert.deepEqual(me.groups, ['oidc:kubernetes', 'system:authenticated']);
  });

  test('the legacy extraArgs, fed as the matching --oidc-* flags, authenticate the same user', async () => {
    const p = talosPatch({ issuer: idp.issuer, clientId: CLIENT, shape: 'legacy' });
    const args = (parse(p.patchYaml) as any).cluster.apiServer.extraArgs as Record<string, string>;
    const api = await startKubeApiServer({
      oidcIssuerUrl: args['oidc-issuer-url'],
      oidcClientId: args['oidc-client-id'],
      oidcUsernameClaim: args['oidc-username-claim'],
      oidcUsernamePrefix: args['oidc-username-prefix'],
      oidcGroupsClaim: args['oidc-groups-claim'],
      oidcGroupsPrefix: args['oidc-groups-prefix'],
      // What oidc-ca-file would point at once the CA is on the node (see the patch's notes).
      oidcCaPem: idp.caPem,
    });
    servers.push(api);
    const me = await whoamiWithToken(api, 'legacy');
    assert.equal(me.username, `oidc:${idp.claims().sub}`);
    assert.deepEqual(me.groups, ['oidc:kubernetes', 'system:authenticated']);
  });
});
