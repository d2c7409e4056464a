/**
 * The tray app's decisions (electron/desktop/composition.ts), run in plain Node: the real Agent in a
 * temporary POCKETKUBE_HOME, its real socket, real files; Electron's side replaced by recording ports
 * (tests/desktop/recording-ports.ts). What only a real Electron can show is left to tests/electron/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { Agent, AGENT_VERSION } from '../../electron/agent/agent.js';
import { probeSocket } from '../../electron/agent/server.js';
import { AgentClient } from '../../electron/client/agent-client.js';
import { resolveHome, type Home } from '../../electron/core/platform/home.js';
import { FileSecretStore, MemorySecretStore, keychainBlobPath } from '../../electron/core/session/secret-store.js';
import { autostartEntryPath, xdgAutostart } from '../../electron/desktop/autostart.js';
import { APP_USER_MODEL_ID, DesktopShell } from '../../electron/desktop/composition.js';
import { SafeStorageSecretStore } from '../../electron/desktop/safe-storage-store.js';
import { teamProfileText } from '../../electron/core/team/profile.js';
import type { JoinPlan, JoinResult } from '../../electron/shared/team.js';
import { launchChromium, REPO, signInInBrowser, Stack } from '../support/stack.js';
import { removeTempDir, tempDir } from '../support/temp.js';
import { MemoryPrefs, PACKAGE_VERSION, RecordingDesktop, RecordingLoginItems, type RecordingOptions } from './recording-ports.js';

interface Running {
  desktop: RecordingDesktop;
  shell: DesktopShell;
  home: Home;
  dir: string;
  kubeconfig: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function newHome(): { dir: string; home: Home; kubeconfig: string } {
  const dir = tempDir('pk-shell-');
  cleanups.push(() => removeTempDir(dir));
  return { dir, home: resolveHome({ POCKETKUBE_HOME: path.join(dir, 'home') }), kubeconfig: path.join(dir, 'kube', 'config') };
}

/** Waits (bounded) until `check` holds, for things that arrive over the agent's socket. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the shell as Electron would, and waits for the first state from the agent when it runs. */
async function launch(options: RecordingOptions = {}, at: Partial<Running> = {}): Promise<Running> {
  const { dir, home, kubeconfig } = at.home && at.dir && at.kubeconfig ? (at as Running) : newHome();
  const desktop = new RecordingDesktop(options);
  const shell = new DesktopShell(desktop.ports, { home, resources: path.join(REPO, 'resources'), kubeconfigFiles: [kubeconfig], takeOverWaitMs: 10_000 });
  await shell.run();
  if (shell.phase === 'running') await shell.controller!.waitForState();
  cleanups.push(async () => {
    if (shell.phase !== 'quitting' && shell.phase !== 'second-instance') desktop.ports.app.quit();
    await until('the app to finish quitting', () => desktop.quitCompleted || desktop.exitCode !== undefined || shell.phase === 'second-instance' || shell.phase === 'failed');
  });
  return { desktop, shell, home, dir, kubeconfig };
}

/** A headless `pocketkube agent` for the same home (the same Agent the CLI runs), stoppable by a take-over. */
async function headlessAgent(home: Home, kubeconfig: string): Promise<Agent> {
  const agent: Agent = new Agent({ home, store: new MemorySecretStore(), kubeconfigFiles: [kubeconfig], onShutdownRequest: () => void agent.stop() });
  await agent.start();
  cleanups.push(() => agent.stop());
  return agent;
}

describe('start-up', () => {
  test('the first run opens the window on the Setup view, shown only once the page is ready', async () => {
    const { desktop, shell } = await launch();
    assert.equal(shell.phase, 'running');
    assert.equal(desktop.windows.length, 1);
    assert.equal(desktop.window!.created.view, 'setup');
    assert.equal(desktop.window!.visible, false, 'not shown before ready-to-show (no white flash)');
    desktop.window!.ready();
    assert.equal(desktop.window!.visible, true);
    assert.equal(desktop.prefs.data.firstRunDone, true);
  });

  test('a later launch at login stays in the tray; a launch by the user opens the window on Account', async () => {
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const atLogin = new RecordingLoginItems();
    atLogin.openedAtLogin = true;
    const first = await launch({ prefs, autostart: atLogin });
    assert.equal(first.desktop.windows.length, 0);
    first.desktop.ports.app.quit();
    await until('quit', () => first.desktop.quitCompleted);
    const byUser = await launch({ prefs }, first);
    assert.equal(byUser.desktop.windows.length, 1);
    assert.equal(byUser.desktop.window!.created.view, 'account');
  });

  test('the app owns the sessions: its agent serves the socket in tray mode with package.json\'s version', async () => {
    const { home, shell } = await launch();
    const status = await new AgentClient(home.socketPath).status();
    assert.equal(status.agent.mode, 'tray');
    assert.equal(shell.owner, 'app');
    assert.equal(shell.controller!.state()!.version, PACKAGE_VERSION);
    assert.equal(AGENT_VERSION, PACKAGE_VERSION, 'the agent reports the same one version number');
  });

  test('a second instance hands over and quits without starting anything', async () => {
    const { desktop, shell, home } = await launch({ lockTaken: true });
    assert.equal(shell.phase, 'second-instance');
    assert.equal(desktop.quitCount, 1);
    assert.equal(desktop.trays.length, 0);
    assert.equal(await probeSocket(home.socketPath), false);
  });

  test('a second launch and macOS activate show the window again, after it was closed to the tray', async () => {
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const { desktop } = await launch({ platform: 'darwin', prefs });
    assert.equal(desktop.dockHidden, true, 'a tray app has no Dock icon');
    const win = desktop.window!;
    win.ready();
    assert.equal(win.close(), false, 'closing the window keeps the app in the tray');
    assert.equal(win.visible, false);
    assert.match(desktop.notifications[0]!.options.title, /still running/);
    desktop.emit('activate');
    assert.equal(win.visible, true, 'activate (Finder, Dock) shows it');
    win.close();
    desktop.emit('second-instance');
    assert.equal(win.visible, true, 'a second launch shows it');
    assert.equal(desktop.windows.length, 1, 'the same window, not a new one');
  });

  test('Windows: notifications get the app user model id', async () => {
    const { desktop } = await launch({ platform: 'win32' });
    assert.equal(desktop.modelId, APP_USER_MODEL_ID);
  });
});

describe('a failure anywhere in start-up is shown, logged, and leaves Quit in the tray', () => {
  async function assertShownFailure(r: Running, pattern: RegExp) {
    const { desktop, shell, home } = r;
    assert.equal(shell.phase, 'failed');
    assert.equal(desktop.errors.length, 1, 'one dialog');
    assert.match(desktop.errors[0]!.message, pattern);
    assert.ok(desktop.logs.some((l) => l.level === 'error' && pattern.test(l.message)), 'logged');
    assert.match(desktop.tray.toolTip, /could not start/);
    assert.deepEqual(desktop.tray.labels().filter((l) => l !== '—').slice(-1), ['Quit PocketKube']);
    assert.equal(await probeSocket(home.socketPath), false, 'no half-started agent');
    assert.equal(existsSync(home.pidFile), false, 'the agent lock is not held');
    // Relaunching says it again rather than doing nothing.
    desktop.emit('second-instance');
    assert.equal(desktop.errors.length, 2);
    desktop.tray.choose('Quit PocketKube');
    await until('quit', () => desktop.quitCompleted);
  }

  test('a corrupt secrets.json', async () => {
    const h = newHome();
    await mkdir(h.home.dir, { recursive: true });
    await writeFile(h.home.secretsFile, '{"pocket-id/refresh-token": "abc', { mode: 0o600 });
    const r = await launch({}, h);
    await assertShownFailure(r, /secrets\.json is not a JSON object/);
    assert.equal(await readFile(h.home.secretsFile, 'utf8'), '{"pocket-id/refresh-token": "abc', 'nothing was lost');
  });

  test('a keychain that cannot decrypt (a denied prompt, another user\'s keychain)', async () => {
    const h = newHome();
    const keychain = new (await import('./recording-ports.js')).TestKeychain();
    await mkdir(h.home.dir, { recursive: true });
    await new SafeStorageSecretStore(keychainBlobPath(h.home.secretsFile), keychain).set('pocket-id/refresh-token', 'rt-secret');
    keychain.deny = true;
    const r = await launch({ keychain }, h);
    await assertShownFailure(r, /cannot be decrypted with this user's keychain/);
    assert.ok(!JSON.stringify(r.desktop.errors).includes('rt-secret'));
  });

  test('a prefs file that fails its schema', async () => {
    const r = await launch({ prefsError: new Error('Config schema violation: `window/width` must be >= 360') });
    await assertShownFailure(r, /Config schema violation/);
  });

  test('a stale pid file whose pid was reused by another process does not stop the app from owning the agent', async () => {
    const h = newHome();
    await mkdir(h.home.dir, { recursive: true, mode: 0o700 });
    await writeFile(h.home.pidFile, `${process.ppid}\n`);
    const r = await launch({}, h);
    assert.notEqual(r.shell.phase, 'failed');
    assert.deepEqual(r.desktop.errors, []);
    assert.equal((await readFile(h.home.pidFile, 'utf8')).split('\n')[0], String(process.pid), 'the app holds the lock');
    r.desktop.tray.choose('Quit PocketKube');
    await until('quit', () => r.desktop.quitCompleted);
  });

  test('with no tray either, the app exits and gives the single-instance lock back', async () => {
    const r = await launch({ prefsError: new Error('bad prefs'), trayError: new Error('no StatusNotifier host') });
    assert.equal(r.desktop.exitCode, 1);
    assert.equal(r.desktop.errors.length, 1);
  });
});

describe('quitting', () => {
  test('from the menu, when the app owns the agent: the agent stops first, timers before the tray, and nothing cancels it', async () => {
    const { desktop, home, shell } = await launch();
    desktop.window!.ready();
    desktop.tray.choose('Quit PocketKube');
    await until('quit', () => desktop.quitCompleted);
    assert.equal(desktop.quitCancelled, 0);
    assert.equal(shell.agent, undefined);
    assert.equal(await probeSocket(home.socketPath), false, 'the agent stopped');
    assert.equal(existsSync(home.pidFile), false);
    assert.equal(desktop.activeTimers(), 0);
    const log = desktop.log.filter((l) => l !== 'app:quit');
    assert.ok(log.lastIndexOf('timer:stop') < log.indexOf('tray:destroy'), `timers stop before the tray goes: ${log.join(', ')}`);
    desktop.tick(120_000); // a late tick must not touch the destroyed tray
  });

  test('Cmd+Q (before-quit) with the window open, when an external agent owns the sessions', async () => {
    const h = newHome();
    const headless = await headlessAgent(h.home, h.kubeconfig);
    const { desktop, shell } = await launch({ platform: 'darwin' }, h);
    assert.equal(shell.owner, 'external');
    desktop.window!.ready();
    desktop.ports.app.quit(); // what Cmd+Q and the app menu's Quit do
    await until('quit', () => desktop.quitCompleted || desktop.quitCancelled > 0);
    assert.equal(desktop.quitCancelled, 0, 'the window close handler did not cancel the quit');
    assert.equal(await probeSocket(h.home.socketPath), true, 'the headless agent is not ours to stop');
    assert.equal(headless.liveSessions().length, 0, 'and it still answers as before');
  });

  test('SIGTERM at logout quits as the menu does, with or without our agent', async () => {
    const own = await launch();
    own.desktop.window!.ready();
    own.desktop.emit('SIGTERM');
    await until('quit', () => own.desktop.quitCompleted);
    assert.equal(await probeSocket(own.home.socketPath), false);

    const h = newHome();
    await headlessAgent(h.home, h.kubeconfig);
    const ext = await launch({}, h);
    ext.desktop.window!.ready();
    ext.desktop.emit('SIGTERM');
    await until('quit', () => ext.desktop.quitCompleted || ext.desktop.quitCancelled > 0);
    assert.equal(ext.desktop.quitCancelled, 0);
  });
});

describe('an external agent', () => {
  test('the menu says who keeps the sessions; when that agent (a `pocketkube agent` process) goes away the app takes over and re-renders', async () => {
    const stack = await new Stack().start();
    cleanups.push(() => stack.close());
    const headless = await stack.startAgentProcess();
    const { desktop, shell } = await launch({}, { dir: stack.dir, home: stack.home, kubeconfig: stack.kubeconfig });
    assert.equal(shell.owner, 'external');
    assert.ok(desktop.tray.item('Take over from the agent'));
    assert.equal(await stack.stopAgentProcess(headless), 0);
    await until('the app to own the sessions', () => shell.owner === 'app' && shell.agent !== undefined, 30_000);
    await shell.settled();
    const status = await new AgentClient(stack.home.socketPath).status();
    assert.equal(status.agent.mode, 'tray');
    assert.equal(status.agent.pid, process.pid);
    assert.ok(!desktop.notifications.some((n) => /Could not take over/.test(n.options.title)), 'no false alarm while it was stopping');
    assert.equal(desktop.tray.item('Take over from the agent'), undefined, 'the menu no longer offers a take-over');
  });

  test('"Take over from the agent" stops the headless agent and starts ours', async () => {
    const h = newHome();
    await headlessAgent(h.home, h.kubeconfig);
    const { desktop, shell } = await launch({}, h);
    desktop.tray.choose('Take over from the agent');
    await until('take-over', () => shell.owner === 'app' && shell.agent !== undefined);
    assert.equal((await new AgentClient(h.home.socketPath).status()).agent.mode, 'tray');
  });
});

describe('sleep, unlock and clock jumps', () => {
  test('resume, unlock and a wall-clock jump re-check expiry at once; an ordinary tick does not', async () => {
    const { desktop, shell } = await launch();
    let rechecks = 0;
    const agent = shell.agent!;
    const original = agent.recheckAll.bind(agent);
    agent.recheckAll = () => {
      rechecks++;
      original();
    };
    desktop.tick(15_000);
    assert.equal(rechecks, 0);
    desktop.emit('resume');
    desktop.emit('unlock-screen');
    assert.equal(rechecks, 2);
    desktop.jumpWallClock(-3_600_000);
    desktop.tick(15_000);
    assert.equal(rechecks, 3);
  });
});

describe('start at login', () => {
  test('Linux: the menu writes and removes an XDG autostart entry and reads the real state back', async () => {
    const h = newHome();
    const env = { XDG_CONFIG_HOME: path.join(h.dir, 'config'), HOME: h.dir };
    const autostart = xdgAutostart({ env, command: ['/opt/Pocket Kube/pocketkube'], argv: ['pocketkube'] });
    const { desktop } = await launch({ autostart }, h);
    const entry = autostartEntryPath(env);
    assert.equal(desktop.tray.item('Start at login')!.checked, false);
    desktop.tray.choose('Start at login');
    await until('checked', () => desktop.tray.item('Start at login')!.checked === true);
    const text = await readFile(entry, 'utf8');
    assert.match(text, /^Exec="\/opt\/Pocket Kube\/pocketkube" --autostart$/m);
    assert.match(text, /^Type=Application$/m);
    // The desktop's own switch (Hidden=true) is read back as off on the next refresh.
    await writeFile(entry, `${text}Hidden=true\n`);
    desktop.tick(60_000);
    await until('unchecked', () => desktop.tray.item('Start at login')!.checked === false);
    desktop.tray.choose('Start at login');
    await until('checked again', () => desktop.tray.item('Start at login')!.checked === true);
    desktop.tray.choose('Start at login');
    await until('removed', () => !existsSync(entry) && desktop.tray.item('Start at login')!.checked === false);
  });

  test('a start from the XDG entry is a login start: no window', async () => {
    const h = newHome();
    const env = { XDG_CONFIG_HOME: path.join(h.dir, 'config') };
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const autostart = xdgAutostart({ env, command: ['/usr/bin/pocketkube'], argv: ['pocketkube', '--autostart'] });
    const { desktop } = await launch({ autostart, prefs }, h);
    assert.equal(desktop.windows.length, 0);
  });

  test('macOS/Windows: the checkbox shows what the OS reports, not a remembered preference', async () => {
    const items = new RecordingLoginItems();
    items.enabled = true;
    const { desktop } = await launch({ platform: 'darwin', autostart: items });
    assert.equal(desktop.tray.item('Start at login')!.checked, true);
    desktop.tray.choose('Start at login');
    await until('off', () => desktop.tray.item('Start at login')!.checked === false);
    assert.equal(items.enabled, false);
  });
});

describe('secrets and the keychain', () => {
  test('secrets in the 0600 file move into the keychain; a later headless agent is told where they are', async () => {
    const h = newHome();
    await mkdir(h.home.dir, { recursive: true, mode: 0o700 });
    await new FileSecretStore(h.home.secretsFile).set('pocket-id/refresh-token', 'rt-secret');
    const { desktop, home } = await launch({}, h);
    assert.deepEqual(JSON.parse(await readFile(home.secretsFile, 'utf8')), {}, 'nothing left in the plain file');
    const blob = await readFile(keychainBlobPath(home.secretsFile));
    assert.ok(!blob.includes('rt-secret'), 'encrypted on disk');
    assert.equal(await new SafeStorageSecretStore(keychainBlobPath(home.secretsFile), desktop.keychain).get('pocket-id/refresh-token'), 'rt-secret');
    const status = await new AgentClient(home.socketPath).status();
    assert.equal(status.agent.secrets.kind, 'os-keychain');
    assert.ok(!desktop.logs.some((l) => l.message.includes('rt-secret')));
  });

  test('a take-over while the headless agent still runs leaves its secrets file alone: the lock comes first', async () => {
    const h = newHome();
    await mkdir(h.home.dir, { recursive: true, mode: 0o700 });
    await new FileSecretStore(h.home.secretsFile).set('pocket-id/refresh-token', 'rt-in-use');
    // A headless agent that does not stop when asked (busy, or an older version): it keeps the lock.
    const stubborn = new Agent({ home: h.home, kubeconfigFiles: [h.kubeconfig] });
    await stubborn.start();
    cleanups.push(() => stubborn.stop());
    const { desktop, shell } = await launch({}, h);
    assert.equal(shell.owner, 'external');
    desktop.tray.choose('Take over from the agent');
    await until('the take-over to give up', () => desktop.notifications.some((n) => /Could not take over/.test(n.options.title)), 30_000);
    assert.equal(shell.owner, 'external');
    assert.deepEqual(JSON.parse(await readFile(h.home.secretsFile, 'utf8')), { 'pocket-id/refresh-token': 'rt-in-use' }, 'the running agent keeps its secrets');
    assert.equal(await new SafeStorageSecretStore(keychainBlobPath(h.home.secretsFile), desktop.keychain).get('pocket-id/refresh-token'), undefined, 'nothing moved into the keychain');
  });

  test('after the app quits, a headless `pocketkube agent` says plainly that the app\'s keychain holds the sessions', async () => {
    const stack = await new Stack().start();
    cleanups.push(() => stack.close());
    await stack.configure();
    await new FileSecretStore(stack.home.secretsFile).set('pocket-id/refresh-token', 'rt-secret');
    const r = await launch({}, { dir: stack.dir, home: stack.home, kubeconfig: stack.kubeconfig });
    r.desktop.ports.app.quit();
    await until('quit', () => r.desktop.quitCompleted);
    assert.ok(existsSync(keychainBlobPath(stack.home.secretsFile)), 'the app kept its secrets in the keychain');
    await stack.startAgentProcess();
    const status = await stack.cli(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Secrets: file .*secrets\.json .*sessions you signed in to in the PocketKube app are in its OS keychain .*start the app to use them, or sign in here$/m);
  });

  test('Linux basic_text (no keyring) is no keychain: secrets stay in the 0600 file', async () => {
    const h = newHome();
    await mkdir(h.home.dir, { recursive: true, mode: 0o700 });
    await new FileSecretStore(h.home.secretsFile).set('pocket-id/refresh-token', 'rt-secret');
    const keychain = new (await import('./recording-ports.js')).TestKeychain();
    keychain.backendName = 'basic_text';
    const { home } = await launch({ keychain }, h);
    assert.equal(JSON.parse(await readFile(home.secretsFile, 'utf8'))['pocket-id/refresh-token'], 'rt-secret');
    assert.equal(existsSync(keychainBlobPath(home.secretsFile)), false);
    assert.equal((await new AgentClient(home.socketPath).status()).agent.secrets.kind, 'file');
  });
});

describe('join links (pocketkube://join?profile=…)', () => {
  const PROFILE = 'https://platform.example.com/teams/acme.yaml';
  const LINK = `pocketkube://join?profile=${encodeURIComponent(PROFILE)}`;

  /** Nothing a join writes exists: no kubeconfig, no provider. */
  async function assertNothingWritten(r: Running) {
    assert.equal(existsSync(r.kubeconfig), false, 'no kubeconfig was written');
    assert.deepEqual(await new AgentClient(r.home.socketPath).listProviders(), [], 'no provider was added');
  }

  test('the app registers itself for pocketkube: links; a second instance does not', async () => {
    const { desktop } = await launch();
    assert.deepEqual(desktop.protocolClients, [{ scheme: 'pocketkube' }], 'packaged: the app itself, as the installer declares it');
    const second = await launch({ lockTaken: true });
    assert.deepEqual(second.desktop.protocolClients, []);
  });

  test('npm start registers Electron with the app folder (and --no-sandbox where the run needed it)', async () => {
    const { desktop } = await launch({ defaultApp: true, argv: ['/home/alice/pocketkube/node_modules/electron/dist/electron', '--no-sandbox', '/home/alice/pocketkube'] });
    assert.deepEqual(desktop.protocolClients, [
      { scheme: 'pocketkube', executable: '/home/alice/pocketkube/node_modules/electron/dist/electron', args: ['--no-sandbox', '/home/alice/pocketkube'] },
    ]);
  });

  test('a registration the OS refuses is logged with the CLI to use instead', async () => {
    const { desktop, shell } = await launch({ protocolClientRegistered: false });
    assert.equal(shell.phase, 'running');
    assert.ok(desktop.logs.some((l) => l.level === 'warn' && /pocketkube:\/\/ links.*`pocketkube join URL`/.test(l.message)));
  });

  test('a link at first launch opens the window on its join preview instead of Setup, and writes nothing', async () => {
    const r = await launch({ argv: ['/opt/PocketKube/pocketkube-app', LINK] });
    assert.equal(r.desktop.windows.length, 1);
    assert.deepEqual(r.desktop.window!.created.join, { profile: PROFILE });
    assert.deepEqual(r.desktop.window!.views, [], 'not the Setup view');
    r.desktop.window!.ready();
    assert.equal(r.desktop.window!.visible, true);
    await assertNothingWritten(r);
  });

  test('a link at a login start still opens the window', async () => {
    const atLogin = new RecordingLoginItems();
    atLogin.openedAtLogin = true;
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const r = await launch({ prefs, autostart: atLogin, argv: ['/opt/PocketKube/pocketkube-app', LINK] });
    assert.deepEqual(r.desktop.window?.created.join, { profile: PROFILE });
  });

  test('a link while running (Windows, Linux: a second instance) shows the preview in the same window', async () => {
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const r = await launch({ prefs });
    const win = r.desktop.window!;
    win.ready();
    win.close();
    assert.equal(win.visible, false);
    r.desktop.secondInstance(['/opt/PocketKube/pocketkube-app', '--original-process-start-time=1', LINK]);
    assert.equal(r.desktop.windows.length, 1, 'the same window');
    assert.deepEqual(win.joins, [{ profile: PROFILE }]);
    assert.equal(win.visible, true);
    // A second launch without a link is an ordinary relaunch: no preview.
    r.desktop.secondInstance(['/opt/PocketKube/pocketkube-app']);
    assert.equal(win.joins.length, 1);
    await assertNothingWritten(r);
  });

  test('macOS: open-url before ready waits for start-up, then opens the preview', async () => {
    const { dir, home, kubeconfig } = newHome();
    const desktop = new RecordingDesktop({ platform: 'darwin' });
    const release = desktop.holdReady();
    const shell = new DesktopShell(desktop.ports, { home, resources: path.join(REPO, 'resources'), kubeconfigFiles: [kubeconfig] });
    const running = shell.run();
    cleanups.push(async () => {
      desktop.ports.app.quit();
      await until('quit', () => desktop.quitCompleted);
    });
    desktop.openUrl(LINK);
    assert.equal(desktop.windows.length, 0, 'nothing is shown before ready');
    release();
    await running;
    assert.equal(shell.phase, 'running');
    assert.equal(desktop.windows.length, 1);
    assert.deepEqual(desktop.window!.created.join, { profile: PROFILE });
    await shell.controller!.waitForState();
    await assertNothingWritten({ desktop, shell, home, dir, kubeconfig });
  });

  test('macOS: open-url while running shows the preview in the open window', async () => {
    const r = await launch({ platform: 'darwin' });
    const win = r.desktop.window!;
    r.desktop.openUrl(`pocketkube://join/?profile=${encodeURIComponent(PROFILE)}&utm_source=chat`);
    assert.deepEqual(win.joins, [{ profile: PROFILE }]);
    assert.equal(r.desktop.windows.length, 1);
  });

  test('a bad link shows its one sentence in the window, is logged, and writes nothing', async () => {
    const r = await launch();
    r.desktop.secondInstance(['/opt/PocketKube/pocketkube-app', `pocketkube://join?profile=${encodeURIComponent('file:///etc/passwd')}`]);
    const shown = r.desktop.window!.joins.at(-1);
    assert.ok(shown && 'problem' in shown, 'a refusal, not a preview');
    assert.match(shown.problem, /^This join link points to a file on this computer, which a link may not do: .*\.$/);
    assert.ok(r.desktop.logs.some((l) => l.level === 'warn' && l.message.includes(shown.problem)));
    r.desktop.openUrl('pocketkube://join?profile=https%3A%2F%2Falice%3Ahunter2%40platform.example.com%2Ft.yaml');
    const secret = r.desktop.window!.joins.at(-1) as { problem: string };
    assert.match(secret.problem, /user name or password/);
    assert.ok(!JSON.stringify(r.desktop.logs).includes('hunter2'), 'the password is in no log');
    await assertNothingWritten(r);
  });

  test('the window joins: the preview writes nothing; Join adds the provider and context through the agent and signs in, and kubectl works', { timeout: 180_000 }, async (t) => {
    const stack = await new Stack().start();
    cleanups.push(() => stack.close());
    const browser = await launchChromium();
    t.after(() => browser.close());
    const r = await launch({}, { dir: stack.dir, home: stack.home, kubeconfig: stack.kubeconfig });
    const call = async <T>(channel: string, ...args: unknown[]) => {
      const res = (await r.desktop.ipc.get(`pocketkube:${channel}`)!(r.desktop.window!.sender, args)) as { ok: true; value: T } | { ok: false; error: { message: string } };
      if (!res.ok) throw new Error(`${channel}: ${res.error.message}`);
      return res.value;
    };
    const clusterCa = (await readFile(stack.api.caFile)).toString('base64');
    const profileText = (ca: string) =>
      teamProfileText(
        {
          apiVersion: 'pocketkube/v1',
          kind: 'TeamProfile',
          team: 'e2e-team',
          revision: 1,
          provider: { name: stack.provider, issuer: stack.pocketId.issuer, clientId: stack.clientId, callbackPort: stack.callbackPort, caData: stack.pocketId.caPem },
          clusters: [{ name: 'talos-e2e', server: stack.api.server, certificateAuthorityData: ca }],
        },
        'yaml',
      );
    // The profile is served on loopback, as a published one is fetched; what it serves can change under the window.
    let served = profileText(clusterCa);
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/yaml' }).end(served));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const source = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/e2e-team.yaml` };
    const plan = await call<JoinPlan>('previewJoin', source);
    assert.equal(plan.provider.action, 'add');
    assert.deepEqual(plan.contexts.map((c) => [c.name, c.action]), [[`${stack.provider}@talos-e2e`, 'add']]);
    await assertNothingWritten(r);
    // After the preview the address serves another cluster CA: Join writes the profile it showed, not that one.
    served = profileText(Buffer.from(stack.pocketId.caPem).toString('base64'));

    // No browser could be opened: the join is still done, and says the sign-in did not start.
    r.desktop.onOpenExternal = () => {
      throw new Error('no browser here');
    };
    const joinedWithoutBrowser = await call<JoinResult>('join', source, { confirmed: false });
    assert.equal(joinedWithoutBrowser.signedIn, false);
    assert.equal(joinedWithoutBrowser.signIn, undefined);
    const client = new AgentClient(r.home.socketPath);
    assert.deepEqual((await client.listProviders()).map((p) => p.name), [stack.provider]);
    assert.match(await readFile(r.kubeconfig, 'utf8'), new RegExp(`name: ${stack.provider}@talos-e2e`));
    assert.ok((await readFile(r.kubeconfig, 'utf8')).includes(`certificate-authority-data: ${clusterCa}`), 'the previewed cluster CA was written');
    served = profileText(clusterCa);

    // Joining again (nothing left to change) starts the sign-in, in the browser this time.
    r.desktop.onOpenExternal = (url) => void signInInBrowser(browser, url);
    const joined = await call<JoinResult>('join', source, { confirmed: false });
    assert.deepEqual([joined.plan.provider.action, ...joined.plan.contexts.map((c) => c.action)], ['unchanged', 'unchanged']);
    assert.equal(joined.signedIn, false);
    assert.equal(joined.signIn?.method, 'browser');
    assert.match(r.desktop.opened.at(-1)!, /^http:\/\/localhost:\d+\/start\/[\w-]+$/, 'the sign-in opened in the browser');
    await until('signed in', async () => (await client.provider(stack.provider)).state === 'signed-in', 60_000);
    await until('the window sees the new context', () => Boolean(r.shell.controller!.state()?.contexts.contexts.some((c) => c.name === `${stack.provider}@talos-e2e`)));
    const who = await stack.kubectl(['--context', `${stack.provider}@talos-e2e`, 'auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    assert.match((JSON.parse(who.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username, /^oidc:/);

    // Joining the same profile again changes nothing, and the session already holds.
    const again = await call<JoinPlan>('previewJoin', source);
    assert.deepEqual([again.provider.action, ...again.contexts.map((c) => c.action)], ['unchanged', 'unchanged']);
    const rejoined = await call<JoinResult>('join', source, { confirmed: false });
    assert.equal(rejoined.signedIn, true);
  });

  test('the window reads only addresses: a typed path or an address with a password is one sentence, and nothing is read', async () => {
    const r = await launch();
    const preview = (source: unknown) => r.desktop.ipc.get('pocketkube:previewJoin')!(r.desktop.window!.sender, [source]) as Promise<{ ok: boolean; error?: { message: string } }>;
    const typedPath = await preview({ url: '/etc/passwd' });
    assert.equal(typedPath.ok, false);
    assert.equal(typedPath.error!.message, '"/etc/passwd" is not an address: paste the profile\'s https:// address, or choose its file instead; nothing was changed.');
    const withPassword = await preview({ url: 'https://alice:hunter2@platform.example.com/team.yaml' });
    assert.match(withPassword.error!.message, /^The profile address https:\/\/platform\.example\.com\/team\.yaml carries a user name or password/);
    assert.ok(!withPassword.error!.message.includes('hunter2'));
    assert.match((await preview({})).error!.message, /^No team profile was given/);
    await assertNothingWritten(r);
  });

  test('a profile file chosen in the window is read at most to 256 KiB: /dev/zero is one sentence', async () => {
    const r = await launch({ openPath: '/dev/zero' });
    const res = (await r.desktop.ipc.get('pocketkube:openFile')!(r.desktop.window!.sender, ['team-profile'])) as { ok: boolean; error?: { message: string } };
    assert.equal(res.ok, false);
    assert.equal(res.error!.message, '/dev/zero: is over 256 KiB, far more than a team profile; check that this is the profile file; nothing was changed.');
    await assertNothingWritten(r);
  });

  test('a link after a failed start-up shows the failure again, not a preview', async () => {
    const r = await launch({ prefsError: new Error('bad prefs') });
    r.desktop.openUrl(LINK);
    assert.equal(r.desktop.windows.length, 0);
    assert.equal(r.desktop.errors.length, 2);
    r.desktop.tray.choose('Quit PocketKube');
    await until('quit', () => r.desktop.quitCompleted);
  });
});

describe('the window', () => {
  test('opens the view it was asked for, new or already open', async () => {
    const prefs = new MemoryPrefs();
    prefs.data.firstRunDone = true;
    const items = new RecordingLoginItems();
    items.openedAtLogin = true;
    const { desktop } = await launch({ prefs, autostart: items });
    desktop.tray.choose('Add cluster…');
    assert.equal(desktop.window!.created.view, 'clusters');
    desktop.window!.ready();
    desktop.tray.choose('Set up PocketKube…');
    assert.deepEqual(desktop.window!.views, ['clusters', 'setup']);
  });

  test('saved bounds on a display that is gone are not reused; on an attached one they are', async () => {
    const prefs = new MemoryPrefs();
    prefs.data.window = { width: 500, height: 700, x: 3000, y: 200 };
    const gone = await launch({ prefs, workAreas: [{ x: 0, y: 0, width: 1920, height: 1050 }] });
    assert.deepEqual(gone.desktop.window!.created.bounds, { width: 500, height: 700 });
    gone.desktop.ports.app.quit();
    await until('quit', () => gone.desktop.quitCompleted);
    const there = await launch({ prefs, workAreas: [{ x: 0, y: 0, width: 1920, height: 1050 }, { x: 1920, y: 0, width: 1920, height: 1050 }] }, gone);
    assert.deepEqual(there.desktop.window!.created.bounds, { width: 500, height: 700, x: 3000, y: 200 });
  });

  test('IPC answers only our own window', async () => {
    const { desktop } = await launch();
    const getState = desktop.ipc.get('pocketkube:getState')!;
    assert.deepEqual(((await getState({}, [])) as { ok: boolean }).ok, false);
    assert.equal(((await getState(desktop.window!.sender, [])) as { ok: boolean }).ok, true);
  });
});

describe('notifications', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  after(async () => {
    await browser?.close();
  });

  /** Signs in through the app (tray "Sign in…" → the system browser, here Chromium), then Pocket ID ends the session. */
  async function signedOutByPocketId(platform: NodeJS.Platform): Promise<Running> {
    const stack = await new Stack().start();
    cleanups.push(() => stack.close());
    await stack.configure();
    browser ??= await launchChromium();
    const r = await launch({ platform }, { dir: stack.dir, home: stack.home, kubeconfig: stack.kubeconfig });
    assert.equal(r.desktop.window!.created.view, 'account', 'a first run with a provider already added opens on Account, not Setup');
    r.desktop.onOpenExternal = (url) => void signInInBrowser(browser!, url);
    r.desktop.tray.choose('Sign in…');
    await until('signed in', () => r.desktop.notifications.some((n) => n.options.title === 'Signed in to pocket-id'), 30_000);
    await stack.pocketId.revokeUser('alice');
    r.desktop.onOpenExternal = () => {}; // from here on, record the sign-in the notification starts
    r.desktop.tray.choose('Refresh now');
    await until('signed out', () => r.desktop.notifications.some((n) => n.options.title === 'Signed out of pocket-id'), 30_000);
    return r;
  }

  // Actions (buttons) exist only on macOS and Windows; on Linux the click on the notification does the job.
  for (const { platform, actions, gesture } of [
    { platform: 'linux', actions: [], gesture: 'click' },
    { platform: 'darwin', actions: ['Sign in'], gesture: 'action' },
  ] as const) {
    test(`${platform}: "signed out by Pocket ID" offers ${actions.length ? 'a Sign in button' : 'no buttons'}, and its ${gesture} starts the sign-in`, async () => {
      const r = await signedOutByPocketId(platform);
      const note = r.desktop.notifications.find((n) => n.options.title === 'Signed out of pocket-id')!;
      assert.deepEqual(note.options.actions, actions);
      const before = r.desktop.opened.length;
      note.emit(gesture);
      await until('a browser sign-in', () => r.desktop.opened.length === before + 1);
      assert.match(r.desktop.opened.at(-1)!, /^http:\/\/localhost:\d+\/start\/[\w-]+$/, 'the one-time local link, not the authorization URL');
    });
  }

  test('a notification is held until it is closed or used, then let go', async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { desktop, shell } = await launch();
    let ref: WeakRef<object> | undefined;
    (() => {
      shell.notify('Cannot refresh pocket-id', 'Network down. PocketKube keeps retrying.');
      ref = new WeakRef(desktop.notifications.pop()!); // the recorder lets go of it: only the shell holds it now
    })();
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    assert.ok(ref!.deref(), 'still alive while shown');
    assert.equal(shell.heldNotifications(), 1);
    (ref!.deref() as { emit(e: string): void }).emit('close');
    assert.equal(shell.heldNotifications(), 0);
  });
});

describe('take-over of a signed-in `pocketkube agent` process (issue 14)', () => {
  test('"Take over from the agent": the process exits, the app moves its secrets into the keychain and resumes the session without a sign-in', async () => {
    const stack = await new Stack().start();
    cleanups.push(() => stack.close());
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const headless = await stack.signedInAgentProcess(browser);
    const headlessExit = new Promise<number | null>((resolve) => headless.once('exit', (code) => resolve(code)));
    const refreshToken = JSON.parse(await readFile(stack.home.secretsFile, 'utf8'))['provider/pocket-id/refresh-token'] as string;
    assert.ok(refreshToken, 'the headless agent keeps the session in the 0600 file');
    const { codeGrants } = await stack.pocketId.stats();
    const { desktop, shell } = await launch({}, { dir: stack.dir, home: stack.home, kubeconfig: stack.kubeconfig });
    assert.equal(shell.owner, 'external');
    desktop.tray.choose('Take over from the agent');
    await until('take-over', () => shell.owner === 'app' && shell.agent !== undefined, 30_000);
    assert.equal(await headlessExit, 0, 'the headless agent stopped cleanly when asked');
    assert.deepEqual(JSON.parse(await readFile(stack.home.secretsFile, 'utf8')), {}, 'nothing left in the plain file');
    assert.equal(await new SafeStorageSecretStore(keychainBlobPath(stack.home.secretsFile), desktop.keychain).get('provider/pocket-id/refresh-token'), refreshToken);
    const status = await new AgentClient(stack.home.socketPath).status();
    assert.equal(status.agent.mode, 'tray');
    assert.equal(status.agent.secrets.kind, 'os-keychain');
    assert.equal(status.providers[0]?.state, 'signed-in', 'the session went on in the app');
    const who = await stack.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal((await stack.pocketId.stats()).codeGrants, codeGrants, 'no new sign-in');
  });
});
