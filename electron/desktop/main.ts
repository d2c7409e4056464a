/**
 * The tray app's composition root: creates the services and connects them to Electron. It decides nothing;
 * the agent owns the sessions, the pure tray functions decide the menu, the controller answers the window.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, dialog, ipcMain, Notification, powerMonitor, shell } from 'electron';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, AGENT_VERSION } from '../agent/agent.js';
import { installHelper } from '../core/credential/install-helper.js';
import { AppController, type DesktopAdapter } from './controller.js';
import { INVOKE_CHANNELS, STATE_CHANNEL, invokeChannel, toResult, type AppState } from '../shared/ipc.js';
import { ensureHome, resolveHome } from '../core/platform/home.js';
import { FileSecretStore, type SecretStore } from '../core/session/secret-store.js';
import { probeSocket } from '../agent/server.js';
import { notificationsFor, kubectlCommand, type TrayAction } from './tray-menu.js';
import { openPrefs } from './prefs.js';
import { SafeStorageSecretStore } from './safe-storage-store.js';
import { TrayView } from './tray-view.js';
import { createWindow } from './window.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RESOURCES = app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.join(ROOT, 'resources');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void app.whenReady().then(start);
}

/**
 * The keychain store, with anything the headless agent or the CLI left in the plain 0600 file moved in
 * (overwriting: the file is newer, e.g. after taking over from a headless agent that kept refreshing).
 * Called only when no other agent runs, so nobody is still rotating the token in that file.
 */
async function ownSecretStore(home: ReturnType<typeof resolveHome>): Promise<SecretStore> {
  const file = new FileSecretStore(home.secretsFile);
  if (!SafeStorageSecretStore.usable()) return file; // Linux without a keyring: said in status
  const keychain = new SafeStorageSecretStore(path.join(home.dir, 'secrets.keychain'));
  const raw = await readFile(home.secretsFile, 'utf8').catch(() => '{}');
  const entries = JSON.parse(raw) as Record<string, string>;
  if (Object.keys(entries).length) {
    await keychain.importAll(entries);
    for (const key of Object.keys(entries)) await file.delete(key);
  }
  return keychain;
}

async function start(): Promise<void> {
  if (process.platform === 'darwin') app.dock?.hide(); // a tray app: no Dock icon
  const home = resolveHome();
  await ensureHome(home);
  const prefs = openPrefs(app.getPath('userData'));
  if (app.isPackaged) {
    // Kubeconfigs name a helper path that survives app updates; it runs this app's binary as Node.
    process.env.POCKETKUBE_HELPER = await installHelper(home, {
      template: path.join(RESOURCES, 'bin', 'pocketkube'),
      executable: process.env.APPIMAGE ?? process.execPath,
      cliBundle: path.join(ROOT, 'dist', 'cli', 'pocketkube-cli.mjs'),
    });
  }
  let agent: Agent | undefined;
  let owner: AppState['owner'] = 'app';
  const startAgent = async () => {
    const store = await ownSecretStore(home);
    agent = new Agent({ home, mode: 'tray', store, log: (level, message) => console[level === 'info' ? 'log' : level](message) });
    await agent.start();
    owner = 'app';
  };
  // A headless `pocketkube agent` already keeps the sessions: be its client rather than a second refresher.
  if (await probeSocket(home.socketPath)) owner = 'external';
  else await startAgent();

  let quitting = false;
  let win: BrowserWindow | undefined;
  const showWindow = () => {
    if (!win || win.isDestroyed()) {
      win = createWindow({ root: ROOT, bounds: prefs.get('window'), icon: path.join(RESOURCES, 'icon.png') });
      win.on('close', (event) => {
        if (quitting) return;
        event.preventDefault();
        prefs.set('window', { ...prefs.get('window'), ...win!.getBounds() });
        win!.hide();
        if (!prefs.get('closeHintShown')) {
          prefs.set('closeHintShown', true);
          new Notification({ title: 'PocketKube is still running', body: 'It keeps your session alive from the tray. Quit it from the tray menu.' }).show();
        }
      });
    }
    win.show();
    win.focus();
  };

  const desktop: DesktopAdapter = {
    copyText: async (text) => clipboard.writeText(text),
    saveText: async (name, text) => {
      const res = await dialog.showSaveDialog({ defaultPath: name });
      if (res.canceled || !res.filePath) return null;
      const { writeFile } = await import('node:fs/promises');
      await writeFile(res.filePath, text, { mode: 0o644 });
      return { path: res.filePath };
    },
    openFile: async (purpose) => {
      const res = await dialog.showOpenDialog({ properties: ['openFile', 'showHiddenFiles'], title: `Choose a ${purpose.replace('-', ' ')} file` });
      const file = res.filePaths[0];
      if (res.canceled || !file) return null;
      return { path: file, text: await readFile(file, 'utf8') };
    },
    openExternal: (url) => shell.openExternal(url),
  };
  const controller = new AppController({ home, desktop, owner: () => owner, version: AGENT_VERSION });

  // Every invoke channel in the schema, answered only for our own window's frames.
  for (const name of INVOKE_CHANNELS) {
    ipcMain.handle(invokeChannel(name), (event, ...args: unknown[]) => {
      if (!win || event.sender !== win.webContents) return { ok: false, error: { code: 'forbidden', message: 'not the PocketKube window' } };
      const handler = controller.handlers[name] as (...a: unknown[]) => Promise<unknown>;
      return toResult(() => handler(...args));
    });
  }

  const tray = new TrayView(RESOURCES, (action) => void dispatch(action));
  const render = () => {
    const state = controller.state();
    if (state) tray.render(state, Date.now(), { startAtLogin: prefs.get('startAtLogin') });
  };
  controller.on('state', (state: AppState, prev: AppState | undefined) => {
    render();
    if (win && !win.isDestroyed()) win.webContents.send(STATE_CHANNEL, state);
    for (const n of notificationsFor(prev, state, Date.now())) {
      const note = new Notification({ title: n.title, body: n.body, actions: n.action ? [{ type: 'button', text: n.action.label }] : [] });
      if (n.action) {
        const act = n.action;
        note.on('action', () => void dispatch(act));
        note.on('click', () => void dispatch(act));
      }
      note.show();
      // A sign-in started from the tray or window brings the window back when done.
      if (n.id.startsWith('signed-in:') && win && !win.isDestroyed() && win.isVisible()) win.focus();
    }
  });
  controller.start();
  // "Token expires in 42 min" stays current: re-render the menu each minute (no agent request).
  setInterval(render, 60_000).unref();

  // After sleep, unlock, or a jump of the wall clock, expiry is re-checked at once.
  const recheck = () => agent?.recheckAll();
  powerMonitor.on('resume', recheck);
  powerMonitor.on('unlock-screen', recheck);
  let lastWall = Date.now();
  let lastMono = performance.now();
  setInterval(() => {
    const drift = Date.now() - lastWall - (performance.now() - lastMono);
    lastWall = Date.now();
    lastMono = performance.now();
    if (Math.abs(drift) > 5_000) recheck();
  }, 15_000).unref();

  async function dispatch(action: TrayAction): Promise<void> {
    const h = controller.handlers;
    switch (action.kind) {
      case 'sign-in': {
        const res = await toResult(() => h.signIn(action.provider));
        if (!res.ok) new Notification({ title: 'Sign-in could not start', body: res.error.message }).show();
        break;
      }
      case 'sign-out':
        await toResult(() => h.signOut(action.provider));
        break;
      case 'refresh': {
        const res = await toResult(() => h.refresh(action.provider));
        if (!res.ok) new Notification({ title: 'Refresh failed', body: res.error.message }).show();
        break;
      }
      case 'use-context': {
        const res = await toResult(() => h.useContext(action.name));
        if (!res.ok) new Notification({ title: 'Could not switch context', body: res.error.message }).show();
        break;
      }
      case 'copy-kubectl':
        clipboard.writeText(kubectlCommand(action.context));
        break;
      case 'open-window':
      case 'add-cluster':
        showWindow();
        break;
      case 'toggle-start-at-login': {
        const next = !prefs.get('startAtLogin');
        prefs.set('startAtLogin', next);
        app.setLoginItemSettings({ openAtLogin: next });
        render();
        break;
      }
      case 'take-over': {
        // Ask the headless agent to stop; it removes its socket only after its last refresh is stored and
        // its pid file is gone. Then own the sessions here, with its secrets moved into the keychain.
        await toResult(() => controller.client.shutdown());
        for (let i = 0; i < 300 && existsSync(home.socketPath); i++) await new Promise((r) => setTimeout(r, 100));
        const res = await toResult(startAgent);
        if (!res.ok) new Notification({ title: 'Could not take over the sessions', body: res.error.message }).show();
        break;
      }
      case 'quit':
        quitting = true;
        app.quit();
        break;
    }
  }

  app.on('second-instance', showWindow);
  app.on('window-all-closed', () => {
    /* stay in the tray */
  });
  app.on('before-quit', (event) => {
    if (!agent) return;
    quitting = true;
    event.preventDefault();
    const a = agent;
    agent = undefined;
    controller.stop();
    tray.destroy();
    void a.stop().finally(() => app.exit(0));
  });
}
