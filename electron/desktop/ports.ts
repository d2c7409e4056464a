/**
 * The small typed ports the shell's composition talks to instead of Electron. `main.ts` implements each one
 * as one-liners over Electron (`adapters.ts`); the tests implement them with recording objects, so every
 * decision in `composition.ts` runs in plain Node against the real agent.
 */
import type { AppState } from '../shared/ipc.js';
import type { JoinRequest } from '../shared/join-link.js';
import type { MenuItemModel } from './tray-menu.js';

export type ViewName = 'account' | 'clusters' | 'setup' | 'diagnostics';
export interface Bounds {
  width: number;
  height: number;
  x?: number;
  y?: number;
}
/** Something the composition can cancel, as Electron's `before-quit` and window `close` events are. */
export interface Cancellable {
  preventDefault(): void;
}

export interface AppPort {
  readonly platform: NodeJS.Platform;
  /** package.json's version, as Electron's `app.getVersion()` reads it: the one version number. */
  readonly version: string;
  readonly argv: readonly string[];
  /** Run as `electron <folder>` (npm start) rather than as the packaged app. */
  readonly defaultApp: boolean;
  readonly execPath: string;
  /** The app's folder (what `electron <folder>` was given). */
  readonly appPath: string;
  requestSingleInstanceLock(): boolean;
  /** Makes this executable (with `args` before the link) the OS's handler of `scheme:` links; false when the OS said no. */
  setAsDefaultProtocolClient(scheme: string, executable?: string, args?: string[]): boolean;
  /** macOS: a link of a registered scheme was opened (also before ready, when it launched the app). */
  onOpenUrl(listener: (url: string) => void): void;
  whenReady(): Promise<void>;
  onSecondInstance(listener: (argv: readonly string[]) => void): void;
  /** macOS: the Dock icon or Finder relaunched the running app. */
  onActivate(listener: () => void): void;
  onBeforeQuit(listener: (event: Cancellable) => void): void;
  onWindowAllClosed(listener: () => void): void;
  quit(): void;
  exit(code: number): void;
  hideDock(): void;
  /** Windows: notifications need the app's user model id (the installer's appId). */
  setAppUserModelId(id: string): void;
}

export interface TrayHandle {
  setIcon(file: string, template: boolean): void;
  setToolTip(text: string): void;
  setMenu(items: MenuItemModel[], onClick: (item: MenuItemModel) => void): void;
  onClick(listener: () => void): void;
  destroy(): void;
}
export interface TrayPort {
  create(iconFile: string, template: boolean): TrayHandle;
  /** Whether the panel the tray icon sits on is dark (not the app's theme). */
  panelIsDark(): boolean;
}

export interface WindowHandle {
  show(): void;
  focus(): void;
  hide(): void;
  isVisible(): boolean;
  isDestroyed(): boolean;
  getBounds(): Bounds;
  showView(view: ViewName): void;
  /** The join preview for a link's profile, or the sentence saying why the link was refused. */
  showJoin(request: JoinRequest): void;
  send(state: AppState): void;
  /** True when an IPC call came from this window's page. */
  owns(sender: unknown): boolean;
  onClose(listener: (event: Cancellable) => void): void;
  onReadyToShow(listener: () => void): void;
}
export interface WindowPort {
  /** A hidden window on `view`; the composition shows it once it is ready to show. */
  create(options: { bounds: Bounds; view: ViewName; join?: JoinRequest }): WindowHandle;
}

export interface ScreenPort {
  /** The work areas of the displays attached now. */
  workAreas(): Required<Bounds>[];
}

export interface NotificationHandle {
  on(event: 'click' | 'action' | 'close' | 'failed', listener: () => void): void;
  show(): void;
}
export interface NotificationPort {
  isSupported(): boolean;
  create(options: { title: string; body: string; actions: string[] }): NotificationHandle;
}

export interface ClipboardPort {
  writeText(text: string): void;
}

export interface DialogPort {
  /** A modal error the user must see even when no tray icon is shown (GNOME without AppIndicator). */
  showError(title: string, message: string): Promise<void>;
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
  chooseOpenPath(title: string): Promise<string | undefined>;
}

export interface ShellPort {
  openExternal(url: string): Promise<void>;
}

export interface PowerPort {
  onResume(listener: () => void): void;
  onUnlockScreen(listener: () => void): void;
}

export interface IpcPort {
  handle(channel: string, handler: (sender: unknown, args: unknown[]) => Promise<unknown>): void;
}

/** Start at login, as the OS records it (so the checkbox shows the real state). */
export interface AutostartPort {
  isEnabled(): Promise<boolean>;
  setEnabled(enabled: boolean): Promise<void>;
  /** True when the OS started the app at login (then no window opens by itself). */
  wasOpenedAtLogin(): boolean;
}

export interface TimerPort {
  every(ms: number, fn: () => void): () => void;
  /** The wall clock, which can jump (NTP, a manual change, waking up). */
  wallNow(): number;
  /** A clock that never jumps: the difference between the two reveals a jump of the wall clock. */
  monotonicNow(): number;
}

export interface SignalPort {
  /** SIGTERM (logout, shutdown, `kill`): quit as the menu does. */
  onTerminate(listener: () => void): void;
}

/** Electron's safeStorage, asynchronous API only (the synchronous one is deprecated in 45, removed in 46). */
export interface KeychainPort {
  isAvailable(): Promise<boolean>;
  /** Linux: which secret store backs it; `basic_text` means a hard-coded key, i.e. no keychain. */
  backend(): string | undefined;
  encrypt(text: string): Promise<Uint8Array>;
  decrypt(blob: Uint8Array): Promise<{ text: string; shouldReEncrypt: boolean }>;
}

/** The tray app's own preferences (`prefs.ts`). */
export interface PrefsData {
  closeHintShown: boolean;
  /** Set once the window has been shown on a first run. */
  firstRunDone: boolean;
  window: Bounds;
}
export interface PrefsPort {
  get<K extends keyof PrefsData>(key: K): PrefsData[K];
  set<K extends keyof PrefsData>(key: K, value: PrefsData[K]): void;
}

export type LogPort = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface DesktopPorts {
  app: AppPort;
  tray: TrayPort;
  windows: WindowPort;
  screen: ScreenPort;
  notifications: NotificationPort;
  clipboard: ClipboardPort;
  dialogs: DialogPort;
  shell: ShellPort;
  power: PowerPort;
  ipc: IpcPort;
  autostart: AutostartPort;
  timers: TimerPort;
  signals: SignalPort;
  keychain: KeychainPort;
  /** Opened inside start-up, so a prefs file that fails its schema is a start-up failure shown like any other. */
  openPrefs(): PrefsPort;
  log: LogPort;
}
