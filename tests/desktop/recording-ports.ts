/**
 * Recording implementations of the shell's ports (electron/desktop/ports.ts), for testing the composition's
 * decisions in plain Node. They record what the composition asked for and let a test play the user or the
 * OS (a second launch, a click, sleep, SIGTERM). Only the documented order of Electron's quit is modelled:
 * `quit()` emits `before-quit`; if nobody cancels it, every window gets `close`; a cancelled close cancels
 * the quit (https://www.electronjs.org/docs/latest/api/app#event-before-quit).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppState } from '../../electron/shared/ipc.js';
import type { JoinRequest } from '../../electron/shared/join-link.js';
import type { MenuItemModel } from '../../electron/desktop/tray-menu.js';
import type {
  AutostartPort,
  Bounds,
  Cancellable,
  DesktopPorts,
  KeychainPort,
  NotificationHandle,
  PrefsData,
  PrefsPort,
  TrayHandle,
  ViewName,
  WindowHandle,
} from '../../electron/desktop/ports.js';
import { REPO } from '../support/stack.js';

export const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

class Event implements Cancellable {
  prevented = false;
  preventDefault() {
    this.prevented = true;
  }
}

type Listener = () => void;

export class RecordingTray implements TrayHandle {
  icon: { file: string; template: boolean };
  toolTip = '';
  menu: MenuItemModel[] = [];
  destroyed = false;
  private onMenu: (item: MenuItemModel) => void = () => {};
  private clickListeners: Listener[] = [];

  constructor(
    private readonly log: string[],
    file: string,
    template: boolean,
  ) {
    this.icon = { file, template };
  }

  private alive() {
    // As Electron's Tray: any call after destroy() throws "Object has been destroyed".
    if (this.destroyed) throw new TypeError('Object has been destroyed');
  }
  setIcon(file: string, template: boolean) {
    this.alive();
    this.icon = { file, template };
  }
  setToolTip(text: string) {
    this.alive();
    this.toolTip = text;
  }
  setMenu(items: MenuItemModel[], onClick: (item: MenuItemModel) => void) {
    this.alive();
    this.menu = items;
    this.onMenu = onClick;
  }
  onClick(listener: Listener) {
    this.clickListeners.push(listener);
  }
  destroy() {
    this.alive();
    this.destroyed = true;
    this.log.push('tray:destroy');
  }
  /** The labels of the menu as shown, submenus flattened. */
  labels(items = this.menu): string[] {
    return items.flatMap((i) => [i.label ?? '—', ...(i.submenu ? this.labels(i.submenu) : [])]);
  }
  item(label: string | RegExp): MenuItemModel | undefined {
    const find = (items: MenuItemModel[]): MenuItemModel | undefined => {
      for (const i of items) {
        if (typeof label === 'string' ? i.label === label : label.test(i.label ?? '')) return i;
        const inner = i.submenu && find(i.submenu);
        if (inner) return inner;
      }
      return undefined;
    };
    return find(this.menu);
  }
  /** The user picks a menu item. */
  choose(label: string | RegExp) {
    const item = this.item(label);
    if (!item) throw new Error(`no menu item ${label} in: ${this.labels().join(' | ')}`);
    this.onMenu(item);
  }
  clickIcon() {
    for (const l of this.clickListeners) l();
  }
}

export class RecordingWindow implements WindowHandle {
  visible = false;
  destroyed = false;
  views: ViewName[] = [];
  /** Join previews asked for, in order (the one the window was created on included). */
  joins: JoinRequest[] = [];
  sent: AppState[] = [];
  private closeListeners: ((e: Cancellable) => void)[] = [];
  private readyListeners: Listener[] = [];
  readonly sender = {};

  constructor(
    readonly created: { bounds: Bounds; view: ViewName; join?: JoinRequest },
    private bounds: Bounds,
  ) {
    if (created.join) this.joins.push(created.join);
    else this.views.push(created.view);
  }
  show() {
    this.visible = true;
  }
  focus() {}
  hide() {
    this.visible = false;
  }
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return this.destroyed;
  }
  getBounds() {
    return this.bounds;
  }
  showView(view: ViewName) {
    this.views.push(view);
  }
  showJoin(request: JoinRequest) {
    this.joins.push(request);
  }
  send(state: AppState) {
    this.sent.push(state);
  }
  owns(sender: unknown) {
    return sender === this.sender;
  }
  onClose(listener: (e: Cancellable) => void) {
    this.closeListeners.push(listener);
  }
  onReadyToShow(listener: Listener) {
    this.readyListeners.push(listener);
  }
  /** The page finished its first paint. */
  ready() {
    for (const l of this.readyListeners.splice(0)) l();
  }
  /** The user (or the quitting app) closes the window; answers whether the close went through. */
  close(): boolean {
    const e = new Event();
    for (const l of this.closeListeners) l(e);
    if (!e.prevented) {
      this.destroyed = true;
      this.visible = false;
    }
    return !e.prevented;
  }
  moveTo(bounds: Bounds) {
    this.bounds = bounds;
  }
}

export class RecordingNotification implements NotificationHandle {
  shown = false;
  private listeners = new Map<string, Listener[]>();
  constructor(readonly options: { title: string; body: string; actions: string[] }) {}
  on(event: 'click' | 'action' | 'close' | 'failed', listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  show() {
    this.shown = true;
  }
  emit(event: 'click' | 'action' | 'close' | 'failed') {
    for (const l of this.listeners.get(event) ?? []) l();
  }
}

/** A real cipher (AES-256-GCM, a key per test) standing in for the OS keychain's, with its failure modes. */
export class TestKeychain implements KeychainPort {
  private readonly key = randomBytes(32);
  available = true;
  backendName: string | undefined = 'gnome_libsecret';
  /** A denied keychain prompt: decryption fails. */
  deny = false;
  async isAvailable() {
    return this.available;
  }
  backend() {
    return this.backendName;
  }
  async encrypt(text: string) {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }
  async decrypt(blob: Uint8Array) {
    if (this.deny) throw new Error('The user denied access to the keychain');
    const b = Buffer.from(blob);
    const d = createDecipheriv('aes-256-gcm', this.key, b.subarray(0, 12));
    d.setAuthTag(b.subarray(12, 28));
    return { text: Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8'), shouldReEncrypt: false };
  }
}

export class MemoryPrefs implements PrefsPort {
  data: PrefsData = { closeHintShown: false, firstRunDone: false, window: { width: 420, height: 640 } };
  get<K extends keyof PrefsData>(key: K): PrefsData[K] {
    return this.data[key];
  }
  set<K extends keyof PrefsData>(key: K, value: PrefsData[K]) {
    this.data[key] = value;
  }
}

/** macOS/Windows login items as the OS keeps them. */
export class RecordingLoginItems implements AutostartPort {
  enabled = false;
  openedAtLogin = false;
  async isEnabled() {
    return this.enabled;
  }
  async setEnabled(enabled: boolean) {
    this.enabled = enabled;
  }
  wasOpenedAtLogin() {
    return this.openedAtLogin;
  }
}

export interface RecordingOptions {
  platform?: NodeJS.Platform;
  argv?: string[];
  /** Run as `electron <folder>` (npm start). */
  defaultApp?: boolean;
  /** What the OS answers to setAsDefaultProtocolClient. */
  protocolClientRegistered?: boolean;
  /** Another instance holds the single-instance lock. */
  lockTaken?: boolean;
  workAreas?: Required<Bounds>[];
  taskbarDark?: boolean;
  autostart?: AutostartPort;
  prefs?: MemoryPrefs;
  keychain?: TestKeychain;
  /** Opening the prefs fails (a schema error in the file). */
  prefsError?: Error;
  trayError?: Error;
  /** The file the user picks in an open dialog (none: the dialog is cancelled). */
  openPath?: string;
}

/** Every port, recording; `ports` is what the composition receives. */
export class RecordingDesktop {
  readonly log: string[] = [];
  readonly logs: { level: string; message: string }[] = [];
  readonly trays: RecordingTray[] = [];
  readonly windows: RecordingWindow[] = [];
  readonly notifications: RecordingNotification[] = [];
  readonly errors: { title: string; message: string }[] = [];
  readonly opened: string[] = [];
  readonly clipboard: string[] = [];
  readonly ipc = new Map<string, (sender: unknown, args: unknown[]) => Promise<unknown>>();
  readonly prefs: MemoryPrefs;
  readonly keychain: TestKeychain;
  readonly autostart: AutostartPort;
  exitCode?: number;
  quitCount = 0;
  /** The app went all the way through quitting (not cancelled). */
  quitCompleted = false;
  quitCancelled = 0;
  modelId?: string;
  dockHidden = false;
  /** Every setAsDefaultProtocolClient call, as Electron received it. */
  readonly protocolClients: { scheme: string; executable?: string; args?: string[] }[] = [];
  private ready = Promise.resolve();
  /** What openExternal does after recording the URL (a test may sign in in Chromium). */
  onOpenExternal: (url: string) => void = () => {};
  private handlers = new Map<string, ((...a: never[]) => void)[]>();
  private timers = new Set<{ ms: number; fn: () => void; due: number }>();
  private wallOffset = 0;
  private mono = 0;

  constructor(readonly options: RecordingOptions = {}) {
    this.prefs = options.prefs ?? new MemoryPrefs();
    this.keychain = options.keychain ?? new TestKeychain();
    this.autostart = options.autostart ?? new RecordingLoginItems();
    this.ports = this.makePorts();
  }

  /** What the composition receives. */
  readonly ports: DesktopPorts;

  private on(name: string, fn: (...a: never[]) => void) {
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), fn]);
  }
  emit(name: 'second-instance' | 'activate' | 'resume' | 'unlock-screen' | 'SIGTERM' | 'window-all-closed') {
    for (const fn of this.handlers.get(name) ?? []) (fn as (argv: string[]) => void)(['/opt/PocketKube/pocketkube-app']);
  }
  /** Windows/Linux: the OS started the app again, e.g. for a clicked link; Electron passes its argv. */
  secondInstance(argv: string[]) {
    for (const fn of this.handlers.get('second-instance') ?? []) (fn as (argv: string[]) => void)(argv);
  }
  /** macOS: a link of a registered scheme was opened. */
  openUrl(url: string) {
    for (const fn of this.handlers.get('open-url') ?? []) (fn as (url: string) => void)(url);
  }
  /** Holds whenReady() until the returned function is called (macOS delivers open-url before ready). */
  holdReady(): () => void {
    let release!: () => void;
    this.ready = new Promise<void>((resolve) => (release = resolve));
    return release;
  }
  /** Electron's documented quit order (see the file comment). */
  private quit() {
    this.quitCount++;
    this.log.push('app:quit');
    const e = new Event();
    for (const fn of this.handlers.get('before-quit') ?? []) (fn as (e: Event) => void)(e);
    if (e.prevented) return;
    for (const w of this.windows.filter((w) => !w.destroyed)) {
      if (!w.close()) {
        this.quitCancelled++;
        this.log.push('app:quit-cancelled');
        return;
      }
    }
    this.quitCompleted = true;
    this.log.push('app:quit-completed');
  }

  /** The menu-refresh and clock-check timers fire as if `ms` passed (the wall clock moving with them). */
  tick(ms: number) {
    this.mono += ms;
    for (const t of [...this.timers]) {
      while (this.timers.has(t) && t.due <= this.mono) {
        t.due += t.ms;
        t.fn();
      }
    }
  }
  /** The wall clock jumps (NTP, a manual change) without monotonic time passing. */
  jumpWallClock(ms: number) {
    this.wallOffset += ms;
  }
  activeTimers() {
    return this.timers.size;
  }

  get tray(): RecordingTray {
    const t = this.trays.at(-1);
    if (!t) throw new Error('no tray was created');
    return t;
  }
  get window(): RecordingWindow | undefined {
    return this.windows.at(-1);
  }

  private makePorts(): DesktopPorts {
    return {
    app: {
      platform: this.options.platform ?? 'linux',
      version: PACKAGE_VERSION,
      argv: this.options.argv ?? ['pocketkube'],
      defaultApp: this.options.defaultApp ?? false,
      execPath: this.options.defaultApp ? '/home/alice/pocketkube/node_modules/electron/dist/electron' : '/opt/PocketKube/pocketkube-app',
      appPath: this.options.defaultApp ? '/home/alice/pocketkube' : '/opt/PocketKube/resources/app.asar',
      requestSingleInstanceLock: () => !this.options.lockTaken,
      setAsDefaultProtocolClient: (scheme, executable, args) => {
        this.protocolClients.push({ scheme, ...(executable ? { executable } : {}), ...(args ? { args } : {}) });
        return this.options.protocolClientRegistered ?? true;
      },
      onOpenUrl: (l) => this.on('open-url', l),
      whenReady: () => this.ready,
      onSecondInstance: (l) => this.on('second-instance', l),
      onActivate: (l) => this.on('activate', l),
      onBeforeQuit: (l) => this.on('before-quit', l),
      onWindowAllClosed: (l) => this.on('window-all-closed', l),
      quit: () => this.quit(),
      exit: (code) => {
        this.exitCode = code;
        this.log.push(`app:exit ${code}`);
      },
      hideDock: () => (this.dockHidden = true),
      setAppUserModelId: (id) => (this.modelId = id),
    },
    tray: {
      create: (file, template) => {
        if (this.options.trayError) throw this.options.trayError;
        const t = new RecordingTray(this.log, file, template);
        this.trays.push(t);
        return t;
      },
      panelIsDark: () => this.options.taskbarDark ?? false,
    },
    windows: {
      create: (options) => {
        const w = new RecordingWindow(options, options.bounds);
        this.windows.push(w);
        return w;
      },
    },
    screen: { workAreas: () => this.options.workAreas ?? [{ x: 0, y: 0, width: 1920, height: 1050 }] },
    notifications: {
      isSupported: () => true,
      create: (options) => {
        const n = new RecordingNotification(options);
        this.notifications.push(n);
        return n;
      },
    },
    clipboard: { writeText: (text) => void this.clipboard.push(text) },
    dialogs: {
      showError: async (title, message) => void this.errors.push({ title, message }),
      chooseSavePath: async () => undefined,
      chooseOpenPath: async () => this.options.openPath,
    },
    shell: {
      openExternal: async (url) => {
        this.opened.push(url);
        this.onOpenExternal(url);
      },
    },
    power: { onResume: (l) => this.on('resume', l), onUnlockScreen: (l) => this.on('unlock-screen', l) },
    ipc: { handle: (channel, h) => void this.ipc.set(channel, h) },
    autostart: {
      isEnabled: () => this.autostart.isEnabled(),
      setEnabled: (on) => this.autostart.setEnabled(on),
      wasOpenedAtLogin: () => this.autostart.wasOpenedAtLogin(),
    },
    timers: {
      every: (ms, fn) => {
        const t = { ms, fn, due: this.mono + ms };
        this.timers.add(t);
        return () => {
          this.timers.delete(t);
          this.log.push('timer:stop');
        };
      },
      wallNow: () => Date.now() + this.wallOffset + this.mono,
      monotonicNow: () => this.mono,
    },
    signals: { onTerminate: (l) => this.on('SIGTERM', l) },
    keychain: this.keychain,
    openPrefs: () => {
      if (this.options.prefsError) throw this.options.prefsError;
      return this.prefs;
    },
    log: (level, message) => void this.logs.push({ level, message }),
    };
  }
}
