/**
 * The tray app's entry: creates Electron's objects as small ports (adapters.ts) and hands them to the
 * composition (composition.ts), which holds every decision and is tested in plain Node.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';
import { installHelper } from '../core/credential/install-helper.js';
import { resolveHome } from '../core/platform/home.js';
import * as electronPorts from './adapters.js';
import { composeDesktop } from './composition.js';
import { openPrefs } from './prefs.js';
import { createWindow } from './window.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RESOURCES = app.isPackaged ? path.join(process.resourcesPath, 'resources') : path.join(ROOT, 'resources');
const home = resolveHome();

const shell = composeDesktop(
  {
    app: electronPorts.appPort,
    tray: electronPorts.trayPort,
    windows: electronPorts.windowPort((o) => createWindow({ root: ROOT, icon: path.join(RESOURCES, 'icon.png'), ...o })),
    screen: electronPorts.screenPort,
    notifications: electronPorts.notificationPort,
    clipboard: electronPorts.clipboardPort,
    dialogs: electronPorts.dialogPort,
    shell: electronPorts.shellPort,
    power: electronPorts.powerPort,
    ipc: electronPorts.ipcPort,
    autostart: electronPorts.autostartPort(app.isPackaged ? [process.env.APPIMAGE ?? process.execPath] : [process.execPath, app.getAppPath()]),
    timers: electronPorts.timerPort,
    signals: electronPorts.signalPort,
    keychain: electronPorts.keychainPort,
    openPrefs: () => openPrefs(app.getPath('userData')),
    log: electronPorts.logPort(app.getPath('logs')),
  },
  {
    home,
    resources: RESOURCES,
    // Kubeconfigs name a helper path that survives app updates; it runs this app's binary as Node.
    installHelper: app.isPackaged
      ? async () => {
          process.env.POCKETKUBE_HELPER = await installHelper(home, {
            template: path.join(RESOURCES, 'bin', 'pocketkube'),
            executable: process.env.APPIMAGE ?? process.execPath,
            cliBundle: path.join(ROOT, 'dist', 'cli', 'pocketkube-cli.mjs'),
          });
        }
      : undefined,
  },
);
void shell.run();
