import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { SessionSnapshot } from '../../shared/api.js';
import { listContexts } from '../kubeconfig/index.js';
import { currentContextOf, msUntilPromptChanges, promptFile, promptFileText, promptLine, promptOutput, promptStatus, PromptStatusFile } from './prompt-status.js';

const NOW = Date.parse('2026-11-28T18:00:00Z');
const ours = { name: 'pocket-id@prod', ours: true, provider: 'pocket-id' };

function session(minutesLeft: number, over: Partial<SessionSnapshot> = {}): SessionSnapshot {
  const expiresAt = new Date(NOW + minutesLeft * 60_000).toISOString();
  return {
    provider: 'pocket-id',
    issuer: 'https://id.example.com',
    clientId: 'c',
    confidential: false,
    scopes: ['openid'],
    redirectUri: 'http://localhost:8000',
    state: 'signed-in',
    identity: { sub: 's', name: 'Alice Anderson', preferredUsername: 'alice', email: 'alice@example.com', groups: [] },
    idToken: { issuedAt: new Date(NOW - 60_000).toISOString(), expiresAt, credentialExpiresAt: expiresAt, state: 'valid', secondsLeft: minutesLeft * 60, expiresIn: '' },
    ...over,
  };
}

test('signed in: context, short name and whole minutes left', () => {
  const p = promptStatus(ours, [session(42.5)], NOW);
  assert.deepEqual(p, { state: 'signed-in', context: 'pocket-id@prod', provider: 'pocket-id', who: 'alice', minutesLeft: 42 });
  assert.equal(promptLine(p, 'plain'), 'pocket-id@prod (alice, 42m)');
});

test('the short name falls back to the email\'s local part, then the name', () => {
  const noUser = session(30, { identity: { sub: 's', name: 'Alice A', email: 'al@example.com', groups: [] } });
  assert.equal(promptStatus(ours, [noUser], NOW).who, 'al');
  assert.equal(promptStatus(ours, [session(30, { identity: { sub: 's', name: 'Alice A', groups: [] } })], NOW).who, 'Alice A');
});

test('expiring: under the refresh lead time, marked and yellow; expired is marked red', () => {
  const p = promptStatus(ours, [session(3.2)], NOW);
  assert.equal(p.state, 'expiring');
  assert.equal(promptLine(p, 'plain'), 'pocket-id@prod (alice, expiring 3m)');
  assert.equal(promptLine(p, 'bash'), '\x01\x1b[33m\x02pocket-id@prod (alice, expiring 3m)\x01\x1b[0m\x02');
  const gone = promptStatus(ours, [session(-1)], NOW);
  assert.equal(promptLine(gone, 'zsh'), '%{\x1b[31m%}pocket-id@prod (alice, expired)%{\x1b[0m%}');
});

test('signed out, or a provider the agent does not know: the context and "(signed out)"', () => {
  const out = session(0, { state: 'signed-out' });
  delete out.idToken;
  assert.equal(promptLine(promptStatus(ours, [out], NOW), 'plain'), 'pocket-id@prod (signed out)');
  assert.equal(promptLine(promptStatus(ours, [], NOW), 'plain'), 'pocket-id@prod (signed out)');
});

test('another tool\'s context prints its name alone, uncoloured, and nothing with --ours-only; no context prints nothing', () => {
  const p = promptStatus({ name: 'admin@prod', ours: false }, [session(42)], NOW);
  assert.equal(promptLine(p, 'bash'), 'admin@prod');
  assert.equal(promptOutput(p, 'bash', { colour: true, oursOnly: true }), '');
  assert.equal(promptLine(promptStatus(undefined, [], NOW), 'zsh'), '');
});

test('zsh doubles % (it expands the output) and bash wraps colour in readline\'s markers; NO_COLOR drops the codes', () => {
  const p = promptStatus({ ...ours, name: '100%@prod' }, [session(10)], NOW);
  assert.equal(promptLine(p, 'zsh'), '%{\x1b[32m%}100%%@prod (alice, 10m)%{\x1b[0m%}');
  assert.equal(promptLine(p, 'zsh', { colour: false }), '100%%@prod (alice, 10m)');
  assert.equal(promptLine(p, 'bash', { colour: false }), '100%@prod (alice, 10m)');
});

test('control characters from a kubeconfig or a token never reach the terminal or break the file\'s lines', () => {
  const p = promptStatus({ ...ours, name: 'evil\x1b]0;x\x07\nctx' }, [session(10, { identity: { sub: 's', preferredUsername: 'a\rb', groups: [] } })], NOW);
  assert.equal(promptLine(p, 'plain'), 'evil?]0;x??ctx (a?b, 10m)');
  assert.equal(promptFileText(p).split('\n').length, 1 + 4 * 4 + 1);
});

test('json is the status itself, for scripts', () => {
  assert.deepEqual(JSON.parse(promptLine(promptStatus(ours, [session(42)], NOW), 'json')), { state: 'signed-in', context: 'pocket-id@prod', provider: 'pocket-id', who: 'alice', minutesLeft: 42 });
  assert.deepEqual(JSON.parse(promptLine({ state: 'no-agent' }, 'json')), { state: 'no-agent' });
});

test('the next change is when the whole minutes left tick down', () => {
  assert.equal(msUntilPromptChanges(ours, [session(42.5)], NOW), 30_001);
  assert.equal(msUntilPromptChanges({ name: 'x', ours: false }, [session(42.5)], NOW), undefined);
});

test('a current-context that names no entry is not ours', () => {
  assert.deepEqual(currentContextOf({ currentContext: 'gone', contexts: [] }), { name: 'gone', ours: false });
  assert.equal(currentContextOf({ contexts: [] }), undefined);
});

test('an imported kubelogin user keeps its own name: the provider is the one its --provider names', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-prompt-kc-'));
  try {
    const file = path.join(dir, 'config');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: prod',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users:',
      '- {name: oidc, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /opt/pk/pocketkube, args: [credential, --provider, pocket-id]}}}',
      '- {name: other, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /opt/pk/pocketkube, args: ["credential", "--provider=work"]}}}',
      'contexts: [{name: prod, context: {cluster: c, user: oidc}}, {name: w, context: {cluster: c, user: other}}]',
      '',
    ].join('\n'));
    const read = await listContexts([file]);
    assert.deepEqual(currentContextOf(read), { name: 'prod', ours: true, provider: 'pocket-id' });
    assert.equal(read.contexts.find((c) => c.name === 'w')?.provider, 'work');
    assert.equal(promptLine(promptStatus(currentContextOf(read), [session(42)], NOW), 'plain'), 'prod (alice, 42m)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the file is 0600, holds every format and the down lines, and is dated a minute after the next tick', { skip: process.platform === 'win32' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-prompt-'));
  try {
    let now = NOW;
    const timers: { ms: number; fn: () => void }[] = [];
    const file = new PromptStatusFile({ dir }, {
      clock: { now: () => now, setTimer: (ms, fn) => (timers.push({ ms, fn }), () => {}) },
      log: () => {},
      current: () => ours,
      sessions: () => [session(42.5 - (now - NOW) / 60_000)],
    });
    const before = Date.now();
    file.update();
    const st = statSync(promptFile({ dir }));
    assert.equal(st.mode & 0o777, 0o600);
    assert.ok(st.mtimeMs >= before + 30_001 + 60_000 - 1000 && st.mtimeMs <= Date.now() + 30_001 + 60_000 + 1000, `mtime ${st.mtimeMs - before}`);
    const text = readFileSync(promptFile({ dir }), 'utf8');
    assert.match(text, /^ours 1\nplain pocket-id@prod \(alice, 42m\)\n/);
    assert.match(text, /\ndown-plain pocketkube: agent not running\n/);
    assert.match(text, /\nnocolour-bash pocket-id@prod \(alice, 42m\)\n/);
    assert.equal(timers.at(-1)!.ms, 30_001);
    now += 30_001;
    timers.at(-1)!.fn();
    assert.match(readFileSync(promptFile({ dir }), 'utf8'), /^ours 1\nplain pocket-id@prod \(alice, 41m\)\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
