/**
 * The ports over Electron: one-liners that decide nothing (composition.ts decides). Typechecked against
 * Electron's own types by `npm run typecheck`; run only inside Electron.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  nativeTheme,
  Notification,
  powerMonitor,
  safeStorage,
  screen,
  shell,
  Tray,
  type MenuItemConstructorOptions,
} from 'electron';
import { AUTOSTART_ARG, xdgAutostart } from './autostart.js';
import type { AppState } from '../shared/ipc.js';
import { STATE_CHANNEL } from '../shared/ipc.js';
import { joinHash } from '../shared/join-link.js';
import type { MenuItemModel } from './tray-menu.js';
import type {
  AppPort,
  AutostartPort,
  ClipboardPort,
  DialogPort,
  IpcPort,
  KeychainPort,
  LogPort,
  NotificationPort,
  PowerPort,
  ScreenPort,
  ShellPort,
  SignalPort,
  TimerPort,
  TrayPort,
  ViewName,
  WindowHandle,
  WindowPort,
} from './ports.js';

export const appPort: AppPort = {
  platform: process.platform,
  version: app.getVersion(),
  argv: process.argv,
  defaultApp: Boolean(process.defaultApp),
  execPath: process.execPath,
  appPath: app.getAppPath(),
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  setAsDefaultProtocolClient: (scheme, executable, args) => (executable ? app.setAsDefaultProtocolClient(scheme, executable, args) : app.setAsDefaultProtocolClient(scheme)),
  onOpenUrl: (l) =>
    void app.on('open-url', (e, url) => {
      e.preventDefault(); // handled: macOS does not try another handler
      l(url);
    }),
  whenReady: () => app.whenReady(),
  onSecondInstance: (l) => void app.on('second-instance', (_e, argv) => l(argv)),
  onActivate: (l) => void app.on('activate', () => l()),
  onBeforeQuit: (l) => void app.on('before-quit', (e) => l(e)),
  onWindowAllClosed: (l) => void app.on('window-all-closed', () => l()),
  quit: () => app.quit(),
  exit: (code) => app.exit(code),
  hideDock: () => app.dock?.hide(),
  setAppUserModelId: (id) => app.setAppUserModelId(id),
};

function toElectron(items: MenuItemModel[], onClick: (item: MenuItemModel) => void): MenuItemConstructorOptions[] {
  return items.map((m) => ({
    type: m.type ?? 'normal',
    label: m.label,
    enabled: m.enabled ?? true,
    checked: m.checked,
    submenu: m.submenu ? toElectron(m.submenu, onClick) : undefined,
    click: m.action ? () => onClick(m) : undefined,
  }));
}

function image(file: string, template: boolean) {
  const img = nativeImage.createFromPath(file); // Electron picks @2x on HiDPI from the 1x path
  img.setTemplateImage(template);
  return img;
}

export const trayPort: TrayPort = {
  panelIsDark: () => nativeTheme.shouldUseDarkColorsForSystemIntegratedUI,
  create(file, template) {
    const tray = new Tray(image(file, template));
    return {
      setIcon: (f, t) => tray.setImage(image(f, t)),
      setToolTip: (text) => tray.setToolTip(text),
      // Rebuilt on every change: Linux (AppIndicator) only shows a menu that is set again.
      setMenu: (items, onClick) => tray.setContextMenu(Menu.buildFromTemplate(toElectron(items, onClick))),
      onClick: (l) => void tray.on('click', () => l()),
      destroy: () => tray.destroy(),
    };
  },
};

export function windowPort(create: (options: { bounds: Parameters<WindowPort['create']>[0]['bounds']; hash: string }) => BrowserWindow): WindowPort {
  return {
    create(options): WindowHandle {
      const win = create({ bounds: options.bounds, hash: options.join ? joinHash(options.join) : options.view });
      return {
        show: () => win.show(),
        focus: () => win.focus(),
        hide: () => win.hide(),
        isVisible: () => win.isVisible(),
        isDestroyed: () => win.isDestroyed(),
        getBounds: () => win.getBounds(),
        showView: (view: ViewName) => void win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(view)}`),
        showJoin: (request) => void win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(joinHash(request))}`),
        send: (state: AppState) => win.webContents.send(STATE_CHANNEL, state),
        owns: (sender) => sender === win.webContents,
        onClose: (l) => void win.on('close', (e) => l(e)),
        onReadyToShow: (l) => void win.once('ready-to-show', () => l()),
      };
    },
  };
}

export const screenPort: ScreenPort = { workAreas: () => screen.getAllDisplays().map((d) => d.workArea) };

export const notificationPort: NotificationPort = {
  isSupported: () => Notification.isSupported(),
  create({ title, body, actions }) {
    const note = new Notification({ title, body, actions: actions.map((text) => ({ type: 'button' as const, text })) });
    return { on: (event, l) => void note.on(event as 'click', () => l()), show: () => note.show() };
  },
};

export const clipboardPort: ClipboardPort = { writeText: (text) => clipboard.writeText(text) };

export const dialogPort: DialogPort = {
  showError: async (title, message) => void (await dialog.showMessageBox({ type: 'error', title, message: title, detail: message, buttons: ['OK'] })),
  chooseSavePath: async (name) => (await dialog.showSaveDialog({ defaultPath: name })).filePath || undefined,
  chooseOpenPath: async (title) => (await dialog.showOpenDialog({ properties: ['openFile', 'showHiddenFiles'], title })).filePaths[0],
};

export const shellPort: ShellPort = { openExternal: (url) => shell.openExternal(url) };

export const powerPort: PowerPort = {
  onResume: (l) => void powerMonitor.on('resume', () => l()),
  onUnlockScreen: (l) => void powerMonitor.on('unlock-screen', () => l()),
};

export const ipcPort: IpcPort = { handle: (channel, h) => ipcMain.handle(channel, (event, ...args: unknown[]) => h(event.sender, args)) };

/** macOS and Windows keep login items themselves; Linux gets an XDG autostart entry (autostart.ts). */
export function autostartPort(linuxCommand: string[]): AutostartPort {
  if (process.platform === 'linux') return xdgAutostart({ command: linuxCommand, argv: process.argv });
  const settings = { args: [AUTOSTART_ARG] };
  return {
    isEnabled: async () => app.getLoginItemSettings(settings).openAtLogin,
    setEnabled: async (openAtLogin) => app.setLoginItemSettings({ ...settings, openAtLogin }),
    wasOpenedAtLogin: () => app.getLoginItemSettings().wasOpenedAtLogin || process.argv.includes(AUTOSTART_ARG),
  };
}

export const timerPort: TimerPort = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  wallNow: () => Date.now(),
  monotonicNow: () => performance.now(),
};

export const signalPort: SignalPort = { onTerminate: (l) => void process.on('SIGTERM', () => l()) };

export const keychainPort: KeychainPort = {
  isAvailable: () => safeStorage.isAsyncEncryptionAvailable(),
  backend: () => (process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : undefined),
  encrypt: (text) => safeStorage.encryptStringAsync(text),
  decrypt: async (blob) => {
    const r = await safeStorage.decryptStringAsync(Buffer.from(blob));
    return { text: r.result, shouldReEncrypt: r.shouldReEncrypt };
  },
};


/** The console (seen with `npm start`) and `<logs>/pocketkube.log` (seen when a packaged app fails at start). */
export function logPort(dir: string): LogPort {
  mkdirSync(dir, { recursive: true });
  return (level, message) => {
    console[level === 'info' ? 'log' : level](message);
    appendFileSync(path.join(dir, 'pocketkube.log'), `${new Date().toISOString()} ${level} ${message}\n`, { mode: 0o600 });
  };
}
