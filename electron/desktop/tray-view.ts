import path from 'node:path';
import { Menu, Tray, nativeImage, nativeTheme, type MenuItemConstructorOptions } from 'electron';
import type { AppState } from '../shared/ipc.js';
import { buildTrayMenu, tooltip, trayIconState, type MenuItemModel, type TrayAction, type TrayPrefs } from './tray-menu.js';

/** Renders the pure menu model into Electron's Tray; decides nothing. */
export class TrayView {
  private readonly tray: Tray;

  constructor(
    private readonly resources: string,
    private readonly dispatch: (action: TrayAction) => void,
  ) {
    this.tray = new Tray(this.icon('signed-out'));
    this.tray.on('click', () => this.dispatch({ kind: 'open-window' }));
  }

  private icon(state: ReturnType<typeof trayIconState>) {
    const dir = path.join(this.resources, 'tray');
    if (process.platform === 'darwin') {
      const img = nativeImage.createFromPath(path.join(dir, `${state}Template.png`));
      img.setTemplateImage(true);
      return img;
    }
    // Electron picks @2x on HiDPI from the 1x path.
    const panel = nativeTheme.shouldUseDarkColors ? 'dark' : 'light';
    return nativeImage.createFromPath(path.join(dir, `${state}-${panel}.png`));
  }

  private toElectron(items: MenuItemModel[]): MenuItemConstructorOptions[] {
    return items.map((m) => ({
      type: m.type ?? 'normal',
      label: m.label,
      enabled: m.enabled ?? true,
      checked: m.checked,
      submenu: m.submenu ? this.toElectron(m.submenu) : undefined,
      click: m.action ? () => this.dispatch(m.action!) : undefined,
    }));
  }

  /** Rebuilt on every change: Linux (AppIndicator) only shows a menu that is set again. */
  render(state: AppState, now: number, prefs: TrayPrefs): void {
    this.tray.setImage(this.icon(trayIconState(state, now)));
    this.tray.setToolTip(tooltip(state, now));
    this.tray.setContextMenu(Menu.buildFromTemplate(this.toElectron(buildTrayMenu(state, now, prefs))));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
