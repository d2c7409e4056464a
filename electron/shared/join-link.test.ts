import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { joinHash, joinLinkFor, joinLinkIn, joinPrompt, joinRequestFor, joinRequestFromHash, parseJoinLink } from './join-link.js';
import type { JoinPlan } from './team.js';

const PROFILE = 'https://platform.example.com/teams/acme.yaml';

function accepted(link: string): string {
  const r = parseJoinLink(link);
  assert.ok(r.ok, `refused ${link}: ${r.ok ? '' : r.problem}`);
  return r.profileUrl;
}
function refused(link: string): string {
  const r = parseJoinLink(link);
  assert.ok(!r.ok, `accepted ${link} as ${r.ok ? r.profileUrl : ''}`);
  // One sentence: no line breaks, ends with a full stop.
  assert.doesNotMatch(r.problem, /\n/);
  assert.match(r.problem, /[.?]$/);
  return r.problem;
}

describe('a join link is read as the OS hands it over', () => {
  test('the plain form, with the address percent-encoded', () => {
    assert.equal(accepted(`pocketkube://join?profile=${encodeURIComponent(PROFILE)}`), PROFILE);
  });
  test('the address left unencoded', () => {
    assert.equal(accepted(`pocketkube://join?profile=${PROFILE}`), PROFILE);
  });
  test('a trailing slash after the action (Windows, some browsers)', () => {
    assert.equal(accepted(`pocketkube://join/?profile=${encodeURIComponent(PROFILE)}`), PROFILE);
  });
  test('without the slashes, or with three', () => {
    assert.equal(accepted(`pocketkube:join?profile=${encodeURIComponent(PROFILE)}`), PROFILE);
    assert.equal(accepted(`pocketkube:///join?profile=${encodeURIComponent(PROFILE)}`), PROFILE);
  });
  test('upper case scheme and action, and surrounding white space', () => {
    assert.equal(accepted(`  POCKETKUBE://JOIN?profile=${encodeURIComponent(PROFILE)}\n`), PROFILE);
  });
  test('the address encoded twice (chat apps, mail clients)', () => {
    assert.equal(accepted(`pocketkube://join?profile=${encodeURIComponent(encodeURIComponent(PROFILE))}`), PROFILE);
  });
  test('unknown parameters are ignored, before or after the profile', () => {
    assert.equal(accepted(`pocketkube://join?utm_source=slack&profile=${encodeURIComponent(PROFILE)}&v=2`), PROFILE);
  });
  test("the profile address keeps its own query when it is encoded", () => {
    const signed = `${PROFILE}?rev=7&sig=abc`;
    assert.equal(accepted(joinLinkFor(signed)), signed);
  });
  test('joinLinkFor and parseJoinLink round-trip', () => {
    for (const url of [PROFILE, 'https://h.example/a b/ü.yaml', 'https://[::1]:8443/t.json']) {
      assert.equal(accepted(joinLinkFor(new URL(url).href)), new URL(url).href);
    }
  });
});

describe('everything else is refused with one sentence', () => {
  test('another scheme', () => {
    assert.match(refused(`https://example.com/join?profile=${PROFILE}`), /not a PocketKube link \(it starts with https:\)/);
    assert.match(refused('join?profile=x'), /not a PocketKube link \(it has no scheme\)/);
    assert.match(refused('pocketkubex://join?profile=x'), /not a PocketKube link/);
  });
  test('an action other than join', () => {
    assert.match(refused(`pocketkube://signin?profile=${PROFILE}`), /asks for "signin"/);
    assert.match(refused(`pocketkube://join/extra?profile=${PROFILE}`), /asks for "join\/extra"/);
    assert.match(refused(`pocketkube://?profile=${PROFILE}`), /asks for "nothing"/);
  });
  test('no profile, an empty one, or two', () => {
    assert.match(refused('pocketkube://join'), /names no profile/);
    assert.match(refused('pocketkube://join?profile='), /names no profile/);
    assert.match(refused('pocketkube://join?prof=x'), /names no profile/);
    assert.match(refused(`pocketkube://join?profile=${PROFILE}&profile=https://evil.example/t.yaml`), /names 2 profiles/);
  });
  test('a profile that is not an address', () => {
    assert.match(refused('pocketkube://join?profile=team.yaml'), /not an address/);
  });
  test('a file: address', () => {
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent('file:///home/alice/team.yaml')}`), /points to a file on this computer/);
  });
  test('another scheme for the profile', () => {
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent('ftp://example.com/t.yaml')}`), /uses ftp/);
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent('javascript:alert(1)')}`), /uses javascript/);
  });
  test('http is refused, on another host and on loopback alike (a link must not reach this machine\'s own servers)', () => {
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent('http://platform.example.com/t.yaml')}`), /uses http: a join link's profile must be an https:\/\/ address/);
    for (const local of ['http://127.0.0.1:8000/callback?code=x&state=y', 'http://localhost:8080/team.yaml', 'http://[::1]:8080/team.yaml']) {
      assert.match(refused(`pocketkube://join?profile=${encodeURIComponent(local)}`), /uses http: a join link's profile must be an https:\/\/ address/, local);
    }
    assert.match(refused('pocketkube://join?profile=http://127.0.0.1:8000/callback?code=x'), /uses http/);
  });
  test('credentials in the address are refused without repeating them', () => {
    const problem = refused(`pocketkube://join?profile=${encodeURIComponent('https://alice:hunter2@platform.example.com/t.yaml?token=s3cr3t')}`);
    assert.match(problem, /user name or password/);
    assert.doesNotMatch(problem, /hunter2|alice|s3cr3t/);
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent('https://tok@platform.example.com/t.yaml')}`), /user name or password/);
  });
  test('a link longer than any real one', () => {
    assert.match(refused(`pocketkube://join?profile=${encodeURIComponent(`${PROFILE}?x=${'a'.repeat(5000)}`)}`), /too long/);
  });
});

test('the link is found among the arguments Windows and Linux pass to a second instance', () => {
  const link = `pocketkube://join?profile=${encodeURIComponent(PROFILE)}`;
  assert.equal(joinLinkIn(['/opt/PocketKube/pocketkube-app', '--allow-file-access-from-files', link]), link);
  assert.equal(joinLinkIn(['C:\\PocketKube\\PocketKube.exe', link.toUpperCase()]), link.toUpperCase());
  assert.equal(joinLinkIn(['/usr/bin/electron', '/home/alice/pocketkube']), undefined);
});

test('a join request survives the window fragment, for a profile and for a refusal', () => {
  const good = joinRequestFor(`pocketkube://join?profile=${encodeURIComponent(`${PROFILE}?a=1&b=2#x`)}`);
  assert.deepEqual(joinRequestFromHash(`#${joinHash(good)}`), good);
  const bad = joinRequestFor('pocketkube://leave');
  assert.ok('problem' in bad);
  assert.deepEqual(joinRequestFromHash(joinHash(bad)), bad);
  assert.equal(joinRequestFromHash('#account'), undefined);
  assert.equal(joinRequestFromHash('#joiner'), undefined);
  assert.match((joinRequestFromHash('#join') as { problem: string }).problem, /named no profile/);
});

function plan(over: Partial<JoinPlan> = {}): JoinPlan {
  return {
    source: PROFILE,
    team: 'acme-platform',
    revision: 3,
    provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'add', changes: [] },
    contexts: [
      { name: 'acme@prod', cluster: 'prod', server: 'https://prod.acme.example:6443', file: '/home/alice/.kube/config', action: 'add', changes: [] },
      { name: 'acme@staging', cluster: 'staging', server: 'https://staging.acme.example:6443', file: '/home/alice/.kube/config', action: 'unchanged', changes: [] },
    ],
    needsConfirmation: false,
    warnings: [],
    ...over,
  };
}

describe('what the window asks before joining', () => {
  test('a new provider and contexts: lines for each, the changes counted, no second question', () => {
    const p = joinPrompt(plan());
    assert.equal(p.title, 'Join acme-platform');
    assert.deepEqual(
      p.lines.map((l) => [l.kind, l.name, l.action, l.detail]),
      [
        ['provider', 'acme', 'add', 'https://id.acme.example · client k8s'],
        ['context', 'acme@prod', 'add', '/home/alice/.kube/config'],
        ['context', 'acme@staging', 'unchanged', '/home/alice/.kube/config'],
      ],
    );
    assert.equal(p.changeCount, 2);
    assert.equal(p.nothingToChange, false);
    assert.equal(p.needsConfirmation, false);
    assert.equal(p.question, undefined);
  });

  test('an issuer change on an existing provider is highlighted from → to and asked about', () => {
    const p = joinPrompt(
      plan({
        provider: { name: 'acme', issuer: 'https://id2.acme.example', clientId: 'k8s', action: 'update', changes: [{ field: 'issuer', from: 'https://id.acme.example', to: 'https://id2.acme.example' }] },
        needsConfirmation: true,
      }),
    );
    assert.equal(p.lines[0]!.highlighted, true);
    assert.deepEqual(p.lines[0]!.changes, [{ field: 'issuer', from: 'https://id.acme.example', to: 'https://id2.acme.example' }]);
    assert.equal(p.needsConfirmation, true);
    assert.match(p.question!, /issuer from https:\/\/id\.acme\.example to https:\/\/id2\.acme\.example/);
  });

  test('a client id change is asked about even when the plan did not flag it', () => {
    const p = joinPrompt(plan({ provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k9s', action: 'update', changes: [{ field: 'clientId', from: 'k8s', to: 'k9s' }] } }));
    assert.equal(p.needsConfirmation, true);
    assert.match(p.question!, /client id from k8s to k9s/);
  });

  test('an issuer CA change on an existing provider is highlighted and asked about, with an older revision named too', () => {
    const p = joinPrompt(
      plan({
        provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'update', changes: [{ field: 'caData', from: 'SHA256 AA:BB', to: 'SHA256 CC:DD' }] },
        needsConfirmation: true,
        reasons: ['issuer-ca', 'older-revision'],
      }),
    );
    assert.equal(p.lines[0]!.highlighted, true);
    assert.equal(p.needsConfirmation, true);
    assert.equal(
      p.question,
      'This changes the existing provider acme: issuer certificate authority from SHA256 AA:BB to SHA256 CC:DD. Its sign-ins then trust the new certificate authority. Revision 3 of acme-platform is older than the one you joined before (see the warnings), so joining goes back to older settings. Join anyway?',
    );
  });

  test('a scope change updates the provider without a second question', () => {
    const p = joinPrompt(plan({ provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'update', changes: [{ field: 'scopes', from: 'openid', to: 'openid groups' }] } }));
    assert.equal(p.lines[0]!.highlighted, false);
    assert.equal(p.needsConfirmation, false);
  });

  test('a context update shows its changes; an unchanged line shows none', () => {
    const p = joinPrompt(
      plan({
        contexts: [
          { name: 'acme@prod', cluster: 'prod', server: 'https://new.acme.example:6443', file: '/k', action: 'update', changes: [{ field: 'server', from: 'https://old.acme.example:6443', to: 'https://new.acme.example:6443' }] },
          { name: 'acme@dev', cluster: 'dev', server: 'https://dev', file: '/k', action: 'unchanged', changes: [{ field: 'ignored' }] },
        ],
      }),
    );
    assert.equal(p.lines[1]!.changes.length, 1);
    assert.equal(p.lines[2]!.changes.length, 0);
  });

  test('an older revision than the one joined before is asked about as such', () => {
    const p = joinPrompt(plan({ revision: 2, needsConfirmation: true, warnings: ['This profile is revision 2 of acme-platform, older than revision 3 you joined.'] }));
    assert.equal(p.needsConfirmation, true);
    assert.equal(p.lines[0]!.highlighted, false);
    assert.match(p.question!, /^Revision 2 of acme-platform is older than the one you joined before/);
  });

  test('joining the same profile again: nothing to change, warnings passed on', () => {
    const p = joinPrompt(
      plan({
        provider: { name: 'acme', issuer: 'https://id.acme.example', clientId: 'k8s', action: 'unchanged', changes: [] },
        contexts: [{ name: 'acme@prod', cluster: 'prod', server: 'https://prod', file: '/k', action: 'unchanged', changes: [] }],
        warnings: ['This profile is revision 2; you joined revision 3 before.'],
      }),
    );
    assert.equal(p.changeCount, 0);
    assert.equal(p.nothingToChange, true);
    assert.deepEqual(p.warnings, ['This profile is revision 2; you joined revision 3 before.']);
  });
});
