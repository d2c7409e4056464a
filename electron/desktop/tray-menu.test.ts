import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppState } from '../shared/ipc.js';
import type { SessionSnapshot } from '../core/session/session.js';
import { buildTrayMenu, expiryLine, kubectlCommand, notificationsFor, tooltip, trayIconState, type MenuItemModel } from './tray-menu.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function signedIn(over: Partial<SessionSnapshot> = {}, minutesLeft = 42): SessionSnapshot {
  return {
    provider: 'pocket-id',
    issuer: 'https://id.example.com',
    clientId: 'c',
    confidential: false,
    scopes: ['openid', 'groups'],
    redirectUri: 'http://localhost:8000',
    state: 'signed-in',
    identity: { sub: 's', name: 'Alice Anderson', email: 'alice@example.com', emailVerified: true, groups: ['kubernetes', 'developers'] },
    idToken: {
      issuedAt: iso(NOW - 18 * 60_000),
      expiresAt: iso(NOW + minutesLeft * 60_000),
      credentialExpiresAt: iso(NOW + minutesLeft * 60_000 - 30_000),
      state: 'valid',
      secondsLeft: minutesLeft * 60,
      expiresIn: `in ${minutesLeft} min`,
    },
    lastRefresh: { at: iso(NOW - 60_000), trigger: 'background', result: 'ok' },
    ...over,
  };
}

function state(providers: SessionSnapshot[], contexts: AppState['contexts']['contexts'] = []): AppState {
  return {
    status: {
      apiVersion: 'pocketkube.dev/v1',
      kind: 'Status',
      agent: { running: true, pid: 1, version: '0.1.0', mode: 'tray', startedAt: iso(NOW), socket: '/s', secrets: { kind: 'os-keychain', where: 'keychain' } },
      providers,
      kubeconfig: { files: ['/k'], contexts: contexts.length, errors: [] },
      recent: [],
    },
    contexts: { files: ['/k'], contexts, errors: [], currentContext: contexts.find((c) => c.current)?.name },
    recent: [],
    owner: 'app',
    platform: 'linux',
    version: '0.1.0',
  };
}

const ctx = (name: string, cluster: string, current = false, ours = true) => ({ name, cluster, user: ours ? 'pocket-id' : 'admin', file: '/k', current, ours });
const labels = (menu: MenuItemModel[]) => menu.map((m) => m.label ?? `--${m.type}`);

test('the menu shows who is signed in, the expiry kept current, and groups in a submenu', () => {
  const menu = buildTrayMenu(state([signedIn()]), NOW, { startAtLogin: false });
  assert.equal(menu[0]!.label, 'Alice Anderson (alice@example.com)');
  assert.equal(menu[1]!.label, 'Token expires in 42 min');
  const groups = menu.find((m) => m.label?.startsWith('Groups'))!;
  assert.deepEqual(groups.submenu!.map((g) => g.label), ['kubernetes', 'developers']);
  // The same state a minute later says 41 min: the text is a function of the clock.
  assert.equal(buildTrayMenu(state([signedIn()]), NOW + 60_000, { startAtLogin: false })[1]!.label, 'Token expires in 41 min');
});

test('contexts are a radio list grouped by cluster, the current one checked, foreign ones marked', () => {
  const menu = buildTrayMenu(state([signedIn()], [ctx('pocket-id@prod', 'prod', true), ctx('admin@prod', 'prod', false, false), ctx('pocket-id@lab', 'lab')]), NOW, { startAtLogin: false });
  const l = labels(menu);
  const i = l.indexOf('Kubernetes contexts');
  assert.deepEqual(l.slice(i + 1, i + 6), ['lab', 'pocket-id@lab', 'prod', 'pocket-id@prod', 'admin@prod  (not PocketKube)']);
  const current = menu.find((m) => m.label === 'pocket-id@prod')!;
  assert.equal(current.type, 'radio');
  assert.equal(current.checked, true);
  assert.deepEqual(current.action, { kind: 'use-context', name: 'pocket-id@prod' });
  assert.ok(l.includes('Copy kubectl command for pocket-id@prod'));
});

test('many contexts move into a submenu so the menu stays usable', () => {
  const many = Array.from({ length: 40 }, (_, i) => ctx(`c${i}`, 'big', i === 0));
  const menu = buildTrayMenu(state([signedIn()], many), NOW, { startAtLogin: false });
  const sub = menu.find((m) => m.label === 'Kubernetes contexts (40)')!;
  assert.equal(sub.type, 'submenu');
  assert.equal(sub.submenu!.filter((m) => m.type === 'radio').length, 40);
});

test('signed out shows Sign in; signed in shows Refresh now and Sign out; the fixed items are always there', () => {
  const out = labels(buildTrayMenu(state([{ ...signedIn(), state: 'signed-out', identity: undefined, idToken: undefined }]), NOW, { startAtLogin: true }));
  assert.ok(out.includes('Sign in…'));
  assert.ok(!out.includes('Sign out'));
  const inn = labels(buildTrayMenu(state([signedIn()]), NOW, { startAtLogin: true }));
  assert.ok(inn.includes('Refresh now') && inn.includes('Sign out'));
  for (const l of [out, inn]) for (const fixed of ['Add cluster…', 'Open PocketKube…', 'Start at login', 'Quit PocketKube']) assert.ok(l.includes(fixed), fixed);
  const login = buildTrayMenu(state([signedIn()]), NOW, { startAtLogin: true }).find((m) => m.label === 'Start at login')!;
  assert.equal(login.checked, true);
});

test('a headless agent owning the sessions is said, with the offer to take over', () => {
  const s = { ...state([signedIn()]), owner: 'external' as const };
  const menu = buildTrayMenu(s, NOW, { startAtLogin: false });
  assert.deepEqual(menu[1]!.action, { kind: 'take-over' });
});

test('icon: signed in; expiring and cannot refresh; signed out or expired', () => {
  assert.equal(trayIconState(state([signedIn()]), NOW), 'signed-in');
  const stuck = signedIn({ lastRefresh: { at: iso(NOW), trigger: 'background', result: 'retrying', message: 'cannot reach' } }, 4);
  assert.equal(trayIconState(state([stuck]), NOW), 'expiring');
  assert.equal(trayIconState(state([signedIn({}, 4)]), NOW), 'signed-in', 'close to expiry but refreshing fine is not a warning');
  assert.equal(trayIconState(state([{ ...signedIn(), state: 'signed-out' }]), NOW), 'signed-out');
  assert.equal(trayIconState(state([signedIn({}, -1)]), NOW), 'signed-out');
  assert.equal(trayIconState(state([]), NOW), 'signed-out');
});

test('tooltip says who and until when', () => {
  assert.equal(tooltip(state([signedIn()]), NOW), 'PocketKube\npocket-id: Alice Anderson (alice@example.com), token expires in 42 min');
});

test('expiry text after expiry says how long ago', () => {
  assert.equal(expiryLine(signedIn({}, -2), NOW), 'Token expired 2 min ago');
});

test('notifications: signed in, signed out by the provider with a Sign in action, refresh failed once, expiring once', () => {
  const out = { ...signedIn(), state: 'signed-out' as const, identity: undefined, idToken: undefined, lastRefresh: undefined };
  assert.deepEqual(notificationsFor(state([out]), state([signedIn()]), NOW).map((n) => n.id), ['signed-in:pocket-id']);
  const revoked = { ...out, lastRefresh: { at: iso(NOW), trigger: 'background' as const, result: 'signed-out' as const, message: 'Pocket ID ended the session.' } };
  const n = notificationsFor(state([signedIn()]), state([revoked]), NOW);
  assert.equal(n[0]!.id, 'signed-out:pocket-id');
  assert.equal(n[0]!.body, 'Pocket ID ended the session.');
  assert.equal(n[0]!.action?.kind, 'sign-in');
  const failing = signedIn({ lastRefresh: { at: iso(NOW), trigger: 'background', result: 'retrying', message: 'Cannot reach Pocket ID.' } }, 3);
  const first = notificationsFor(state([signedIn({}, 3)]), state([failing]), NOW).map((x) => x.id);
  assert.deepEqual(first, ['refresh-failed:pocket-id', 'expiring:pocket-id']);
  const again = { ...failing, lastRefresh: { ...failing.lastRefresh!, at: iso(NOW + 2000) } };
  assert.deepEqual(notificationsFor(state([failing]), state([again]), NOW + 2000), [], 'a retry failing again does not notify again');
});

test('the copied kubectl command quotes context names that need it', () => {
  assert.equal(kubectlCommand('pocket-id@prod'), 'kubectl --context pocket-id@prod get pods');
  assert.equal(kubectlCommand("my ctx's"), `kubectl --context 'my ctx'\\''s' get pods`);
});
