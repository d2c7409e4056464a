import path from 'node:path';
import { BrowserWindow, shell } from 'electron';
import type { Bounds } from './ports.js';

/** The window frame: isolated, sandboxed, no Node, navigation locked to the app's own page; hidden until ready. */
export function createWindow(opts: { root: string; bounds: Bounds; icon: string; hash: string }): BrowserWindow {
  const win = new BrowserWindow({
    ...opts.bounds,
    minWidth: 360,
    minHeight: 480,
    show: false,
    title: 'PocketKube',
    icon: opts.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: path.join(opts.root, 'dist', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  void win.loadFile(path.join(opts.root, 'dist', 'renderer', 'index.html'), { hash: opts.hash });
  return win;
}
