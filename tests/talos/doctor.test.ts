import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startKubeApiServer, type KubeApiServerHandle } from '../stand-ins/kube-apiserver/index.js';
import { startPocketId, type PocketIdHandle } from '../stand-ins/pocket-id.js';
import { applyRbac, doctor, formatChecks, rbacBinding, type DoctorCheck, type DoctorProvider } from '../../electron/core/talos/index.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { tempDir } from '../support/temp.js';
import { startTinyIssuer, type TinyIssuer } from '../support/token-issuer.js';

const CLIENT = 'pocketkube-test';
const SCOPES = ['openid', 'profile', 'email', 'groups'];

function check(checks: DoctorCheck[], id: string): DoctorCheck {
  const c = checks.find((x) => x.id === id);
  assert.ok(c, `check ${id} present in ${checks.map((x) => x.id).join(', ')}`);
  return c;
}

function assertFailsWithFix(c: DoctorCheck): void {
  assert.equal(c.ok, false, `${c.id} should fail: ${c.detail}`);
  assert.ok(c.fix && c.fix.length > 10, `${c.id} has a fix`);
}

describe('doctor against the Pocket ID look-alike provider', { timeout: 120_000 }, () => {
  let dir: string;
  let pid: PocketIdHandle;
  let provider: DoctorProvider;
  // No kubeconfig here, so the cluster checks are skipped rather than reading the developer's ~/.kube/config.
  let noKubeconfig: string[];

  before(async () => {
    dir = await tempDir('pocketkube-talos-doctor-pid-');
    noKubeconfig = [path.join(dir, 'no-such-kubeconfig')];
    pid = await startPocketId({
      stateDir: path.join(dir, 'pocket-id'),
      clients: [{ clientId: CLIENT, redirectUris: ['http://localhost:8000'], allowedGroups: ['kubernetes'] }],
    });
    provider = { name: 'pocket-id', issuer: pid.issuer, clientId: CLIENT, scopes: SCOPES, callbackPort: 8000, caFile: pid.caFile };
  });
  after(async () => {
    await pid?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a matching issuer, reachable keys and a close clock pass; the callback URL is stated, not guessed', async () => {
    const checks = await doctor({ provider, kubeconfigFiles: noKubeconfig });
    assert.equal(check(checks, 'issuer').ok, true);
    assert.equal(check(checks, 'jwks').ok, true);
    assert.equal(check(checks, 'clock').ok, true);
    assert.equal(check(checks, 'scopes').ok, true);
    const cb = check(checks, 'callback');
    assert.equal(cb.ok, 'skipped');
    assert.match(cb.detail, /exactly http:\/\/localhost:8000/);
    assert.equal(check(checks, 'token-groups').ok, 'skipped');
    assert.equal(check(checks, 'whoami').ok, 'skipped');
  });

  test('an issuer configured with a trailing slash is caught and explained as the cause of a silent 401', async () => {
    const checks = await doctor({ provider: { ...provider, issuer: `${pid.issuer}/` }, kubeconfigFiles: noKubeconfig });
    const c = check(checks, 'issuer');
    assertFailsWithFix(c);
    assert.match(c.detail, /trailing slash/);
    assert.match(c.detail, /401/);
    assert.ok(c.fix!.includes(`"${pid.issuer}"`), 'the fix names the exact discovery issuer');
  });

  test('an ID token without groups is caught; one with the wrong groups names the missing group', async () => {
    const base = { iss: pid.issuer, aud: [CLIENT], sub: pid.users[0]!.sub };
    let checks = await doctor({ provider, claims: base, kubeconfigFiles: noKubeconfig });
    assert.equal(check(checks, 'token').ok, true);
    const missing = check(checks, 'token-groups');
    assertFailsWithFix(missing);
    assert.match(missing.detail, /no groups claim/);

    checks = await doctor({ provider: { ...provider, scopes: ['openid', 'email'] }, claims: base, kubeconfigFiles: noKubeconfig });
    assertFailsWithFix(check(checks, 'scopes'));
    assert.match(check(checks, 'token-groups').fix!, /--scope groups/);

    checks = await doctor({ provider, claims: { ...base, groups: ['developers'] }, expectedGroup: 'kubernetes', kubeconfigFiles: noKubeconfig });
    const wrong = check(checks, 'token-groups');
    assertFailsWithFix(wrong);
    assert.match(wrong.detail, /without kubernetes/);
  });

  test('with the email username claim an unverified email fails; with sub it does not matter', async () => {
    const claims = { iss: pid.issuer, aud: [CLIENT], sub: 'x', email: 'bob@example.com', email_verified: false, groups: ['kubernetes'] };
    const checks = await doctor({ provider, claims, usernameClaim: 'email', kubeconfigFiles: noKubeconfig });
    const c = check(checks, 'email-verified');
    assertFailsWithFix(c);
    assert.match(c.detail, /email not verified/);
    assert.equal(check(await doctor({ provider, claims, kubeconfigFiles: noKubeconfig }), 'email-verified').ok, 'skipped');
  });

  test('a clock two minutes off Pocket ID\'s is reported with the zero-leeway reason', async () => {
    const checks = await doctor({ provider, kubeconfigFiles: noKubeconfig, now: () => Date.now() + 120_000 });
    const c = check(checks, 'clock');
    assertFailsWithFix(c);
    assert.match(c.detail, /ahead of Pocket ID's/);
    assert.match(c.detail, /zero leeway/);
  });

  test('formatChecks prints one line per check with ✔ ✖ – and the fix under failures', async () => {
    const checks = await doctor({ provider: { ...provider, issuer: `${pid.issuer}/` }, kubeconfigFiles: noKubeconfig });
    const text = formatChecks(checks);
    assert.match(text, /^✖ Issuer matches discovery: /m);
    assert.match(text, /^ {4}fix: Use "/m);
    assert.match(text, /^✔ Signing keys: /m);
    assert.match(text, /^– Callback URL: /m);
    assert.match(text, /problems? found\.$/);
  });
});

describe('doctor against the kube-apiserver stand-in: 401 and 403 told apart', { timeout: 60_000 }, () => {
  let dir: string;
  let idp: TinyIssuer;
  let api: KubeApiServerHandle;
  let provider: DoctorProvider;

  before(async () => {
    dir = await tempDir('pocketkube-talos-doctor-api-');
    idp = await startTinyIssuer(dir, CLIENT);
    api = await startKubeApiServer({
      authenticationConfig: {
        apiVersion: 'apiserver.config.k8s.io/v1beta1',
        kind: 'AuthenticationConfiguration',
        jwt: [
          {
            issuer: { url: idp.issuer, audiences: [CLIENT], certificateAuthority: idp.caPem },
            claimMappings: { username: { claim: 'sub', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' } },
          },
        ],
        anonymous: { enabled: true, conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }] },
      },
    });
    provider = { name: 'pocket-id', issuer: idp.issuer, clientId: CLIENT, scopes: SCOPES, callbackPort: 8000, caFile: idp.caFile };
  });
  after(async () => {
    await api?.close();
    await idp?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function kubeconfigWithToken(name: string, claims: Record<string, unknown>): Promise<{ file: string; context: string }> {
    const file = path.join(dir, `${name}.kubeconfig`);
    const context = await writeKubeconfig(file, { server: api.server, caPem: api.caPem, name, user: { token: await idp.sign(claims) } });
    return { file, context };
  }

  test('a token the API server cannot verify is a 401 explained as authentication, and RBAC is not blamed', async () => {
    const claims = idp.claims({ aud: ['kubernetes'] });
    const { file, context } = await kubeconfigWithToken('wrong-aud', claims);
    const checks = await doctor({ provider, claims, context, kubeconfigFiles: [file], expectedGroup: 'kubernetes' });
    assert.equal(check(checks, 'apiserver').ok, true, 'reachable, even though anonymous /version is refused');
    assertFailsWithFix(check(checks, 'token'));
    const who = check(checks, 'whoami');
    assertFailsWithFix(who);
    assert.match(who.detail, /^401 Unauthorized/);
    assert.match(who.detail, /not RBAC/);
    assert.match(who.fix!, /Fix the failures above first \(ID token issuer and audience\)/);
    assert.equal(check(checks, 'rbac').ok, 'skipped');
    assert.match(check(checks, 'rbac').detail, /never reaches RBAC/);
  });

  test('a 401 with nothing wrong on the PocketKube side points at the cluster\'s OIDC settings', async () => {
    const claims = idp.claims();
    const { file, context } = await kubeconfigWithToken('other-cluster', claims);
    // The cluster trusts another issuer: PocketKube's side is fine, so the fix names the cluster's settings.
    const other = await startKubeApiServer({ oidcIssuerUrl: 'https://elsewhere.example', oidcClientId: CLIENT });
    try {
      await writeKubeconfig(file, { server: other.server, caPem: other.caPem, name: 'other-cluster', user: { token: await idp.sign(claims) } });
      const checks = await doctor({ provider, claims, context, kubeconfigFiles: [file] });
      const who = check(checks, 'whoami');
      assertFailsWithFix(who);
      assert.match(who.fix!, new RegExp(`OIDC issuer exactly ${idp.issuer} and client id ${CLIENT}`));
    } finally {
      await other.close();
    }
  });

  test('an accepted token without a binding is a 403 explained as RBAC, with the rbac command as the fix', async () => {
    const claims = idp.claims();
    const { file, context } = await kubeconfigWithToken('no-binding', claims);
    const checks = await doctor({ provider, claims, context, kubeconfigFiles: [file], expectedGroup: 'kubernetes' });
    assert.equal(check(checks, 'whoami').ok, true);
    assert.match(check(checks, 'whoami').detail, new RegExp(`oidc:${claims.sub}`));
    assert.equal(check(checks, 'group').ok, true);
    const rbac = check(checks, 'rbac');
    assertFailsWithFix(rbac);
    assert.match(rbac.detail, /^403 Forbidden/);
    assert.match(rbac.detail, /not the token/);
    assert.match(rbac.fix!, /pocketkube talos rbac --group kubernetes --apply/);
  });

  test('a 403 for a user outside the expected group says to fix the membership, not to add a binding for it', async () => {
    const claims = idp.claims({ groups: ['developers'] });
    const { file, context } = await kubeconfigWithToken('wrong-group', claims);
    const checks = await doctor({ provider, claims, context, kubeconfigFiles: [file], expectedGroup: 'kubernetes' });
    const group = check(checks, 'group');
    assertFailsWithFix(group);
    assert.match(group.detail, /not oidc:kubernetes/);
    const rbac = check(checks, 'rbac');
    assertFailsWithFix(rbac);
    assert.match(rbac.fix!, /not in oidc:kubernetes/);
  });

  test('after the binding is applied from the admin context, every cluster check passes', async () => {
    const admin = path.join(dir, 'admin.kubeconfig');
    const { context: adminContext } = await api.writeAdminKubeconfig(admin, 'homelab');
    await applyRbac(rbacBinding({ group: 'kubernetes' }), { kubeconfigFiles: [admin], context: adminContext });
    const claims = idp.claims();
    const { file, context } = await kubeconfigWithToken('bound', claims);
    const checks = await doctor({ provider, claims, context, kubeconfigFiles: [file], expectedGroup: 'kubernetes' });
    const failed = checks.filter((c) => c.ok === false);
    assert.deepEqual(failed, [], formatChecks(checks));
    for (const id of ['apiserver', 'whoami', 'group', 'rbac']) assert.equal(check(checks, id).ok, true, id);
  });

  test('a context that points nowhere fails the reachability check and skips the rest', async () => {
    const file = path.join(dir, 'gone.kubeconfig');
    const context = await writeKubeconfig(file, { server: 'https://127.0.0.1:1', caPem: api.caPem, name: 'gone', user: { token: 'x' } });
    const checks = await doctor({ provider, context, kubeconfigFiles: [file] });
    const c = check(checks, 'apiserver');
    assertFailsWithFix(c);
    assert.match(c.detail, /ECONNREFUSED/);
    assert.equal(check(checks, 'whoami').ok, 'skipped');
  });
});
