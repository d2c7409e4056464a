/**
 * Every decision the tray app makes, over small typed ports (ports.ts) instead of Electron: who owns the
 * sessions, what start-up does and what a failure in it shows, when the window opens and where, what the
 * tray shows, which notifications fire and what their click does, quitting, sleep and clock jumps, start at
 * login, and moving secrets into the keychain. `main.ts` passes Electron in; the tests pass recorders.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, AgentAlreadyRunningError } from '../agent/agent.js';
import { probeSocket } from '../agent/server.js';
import type { MonotonicClock } from '../core/platform/clock.js';
import { monotonicClockOf } from '../core/platform/clock-jump.js';
import { ensureHome, type Home } from '../core/platform/home.js';
import { FileSecretStore, keychainBlobPath, type SecretStore } from '../core/session/secret-store.js';
import { INVOKE_CHANNELS, invokeChannel, toResult, type AppState } from '../shared/ipc.js';
import { JOIN_SCHEME, joinLinkIn, joinRequestFor, type JoinRequest } from '../shared/join-link.js';
import { AppController, type DesktopAdapter } from './controller.js';
import type { Bounds, DesktopPorts, NotificationHandle, PrefsPort, TrayHandle, ViewName, WindowHandle } from './ports.js';
import { SafeStorageSecretStore, keychainUsable } from './safe-storage-store.js';
import { buildTrayMenu, kubectlCommand, notificationsFor, tooltip, trayIconState, type MenuItemModel, type TrayAction, type TrayIconState } from './tray-menu.js';

/** The installer's appId: Windows shows notifications only for an app with this user model id. */
export const APP_USER_MODEL_ID = 'dev.pocketkube.app';
const MENU_REFRESH_MS = 60_000;

export interface ShellOptions {
  home: Home;
  /** The folder holding `tray/` icons. */
  resources: string;
  /** The kubeconfig files (default: KUBECONFIG as kubectl reads it). */
  kubeconfigFiles?: string[];
  /** Packaged app: installs the helper kubeconfigs name (a path that survives updates). */
  installHelper?: () => Promise<void>;
  /** How long to wait for a headless agent asked to stop to remove its socket (take-over). */
  takeOverWaitMs?: number;
}

export type ShellPhase = 'idle' | 'second-instance' | 'starting' | 'running' | 'failed' | 'quitting';

/** The tray icon file for a state, chosen by the panel it sits on (not the app's theme). */
export function trayIcon(resources: string, state: TrayIconState, platform: NodeJS.Platform, taskbarDark: boolean): { file: string; template: boolean } {
  const dir = path.join(resources, 'tray');
  // macOS draws template images for the menu bar's own appearance.
  if (platform === 'darwin') return { file: path.join(dir, `${state}Template.png`), template: true };
  // Windows says how its taskbar is drawn; Linux panels (GNOME's top bar, Ubuntu's dock) are dark.
  const dark = platform === 'win32' ? taskbarDark : true;
  return { file: path.join(dir, `${state}-${dark ? 'dark' : 'light'}.png`), template: false };
}

/** Saved window bounds, kept only if their title bar is on a display attached now; else centred, and sized to fit. */
export function visibleBounds(saved: Bounds, areas: Required<Bounds>[]): Bounds {
  const size = { width: saved.width, height: saved.height };
  if (saved.x !== undefined && saved.y !== undefined) {
    const { x, y } = saved;
    const home = areas.find((a) => x + 100 > a.x && x < a.x + a.width - 100 && y >= a.y && y < a.y + a.height - 40);
    if (home) return { x, y, width: Math.min(size.width, home.width), height: Math.min(size.height, home.height) };
  }
  const largest = [...areas].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  return largest ? { width: Math.min(size.width, largest.width), height: Math.min(size.height, largest.height) } : size;
}

/**
 * How the OS should start this app for a `pocketkube:` link. Packaged: the app itself. `npm start`: Electron
 * with the app's folder (as Electron's deep-link guide does), keeping --no-sandbox where the sandbox cannot start.
 */
export function protocolClientCommand(app: { defaultApp: boolean; execPath: string; appPath: string; argv: readonly string[] }): { executable?: string; args?: string[] } {
  if (!app.defaultApp) return {};
  return { executable: app.execPath, args: [...(app.argv.includes('--no-sandbox') ? ['--no-sandbox'] : []), app.appPath] };
}

export class DesktopShell {
  phase: ShellPhase = 'idle';
  owner: AppState['owner'] = 'app';
  agent?: Agent;
  controller?: AppController;
  window?: WindowHandle;
  tray?: TrayHandle;
  failure?: string;
  private prefs?: PrefsPort;
  private startAtLogin = false;
  private stopTimers: (() => void)[] = [];
  private takingOver?: Promise<void>;
  private cleanedUp = false;
  /** A join link that arrived before start-up finished (macOS open-url before ready, the first launch's argv). */
  private pendingLink?: string;
  /** Electron drops a Notification's handlers when the object is garbage-collected: hold each until it is done. */
  private readonly liveNotifications = new Set<NotificationHandle>();

  constructor(
    private readonly ports: DesktopPorts,
    private readonly options: ShellOptions,
  ) {}

  /** The whole life of the app: the single-instance lock, the event handlers, start-up or its failure. */
  async run(): Promise<void> {
    const { app } = this.ports;
    if (!app.requestSingleInstanceLock()) {
      this.phase = 'second-instance';
      app.quit();
      return;
    }
    // Registered before start-up, so a relaunch or Quit works even when start-up fails.
    // A link clicked while running starts a second instance on Windows and Linux: its argv carries the link.
    app.onSecondInstance((argv) => {
      const link = joinLinkIn(argv);
      if (link) this.openLink(link);
      else this.manualLaunch();
    });
    // macOS sends links as open-url, the first one before ready when the link launched the app.
    app.onOpenUrl((url) => this.openLink(url));
    this.pendingLink = joinLinkIn(app.argv);
    this.registerProtocol();
    app.onActivate(() => this.manualLaunch());
    app.onBeforeQuit((event) => this.beforeQuit(event));
    app.onWindowAllClosed(() => {
      /* stay in the tray */
    });
    this.ports.signals.onTerminate(() => this.quit());
    await app.whenReady();
    this.phase = 'starting';
    try {
      await this.start();
      this.phase = 'running';
    } catch (err) {
      await this.fail(err as Error);
    }
    const link = this.pendingLink;
    this.pendingLink = undefined;
    // After a failed start-up the dialog already said why; a link changes nothing then.
    if (link && this.phase === 'running') this.openLink(link);
  }

  /** Every OS: this app opens `pocketkube:` links (the packaged app also declares the scheme, electron-builder.yml). */
  private registerProtocol(): void {
    const { executable, args } = protocolClientCommand(this.ports.app);
    let registered = false;
    try {
      registered = this.ports.app.setAsDefaultProtocolClient(JOIN_SCHEME, executable, args);
    } catch (err) {
      this.ports.log('warn', `Registering pocketkube:// links failed: ${(err as Error).message}`);
    }
    if (!registered) this.ports.log('warn', 'The OS did not make PocketKube the handler of pocketkube:// links, so join links will not open it; `pocketkube join URL` does the same.');
  }

  /**
   * A join link opens the window on its preview (or on the sentence saying why it was refused); nothing is
   * written until the user confirms there. Before start-up has finished, the latest link waits for it.
   */
  openLink(link: string): void {
    if (this.phase === 'idle' || this.phase === 'starting') {
      this.pendingLink = link;
      return;
    }
    if (this.phase !== 'running') return this.manualLaunch();
    const request = joinRequestFor(link);
    if ('problem' in request) this.ports.log('warn', `Join link refused: ${request.problem}`);
    this.showWindow(undefined, request);
  }

  private async start(): Promise<void> {
    const { app } = this.ports;
    if (app.platform === 'darwin') app.hideDock(); // a tray app: no Dock icon
    if (app.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
    this.prefs = this.ports.openPrefs();
    await ensureHome(this.options.home);
    await this.options.installHelper?.();
    // A headless `pocketkube agent` already keeps the sessions: be its client rather than a second refresher.
    if (await probeSocket(this.options.home.socketPath)) this.owner = 'external';
    else await this.startAgent();

    const controller = new AppController({
      home: this.options.home,
      desktop: this.desktopAdapter(),
      owner: () => this.owner,
      version: app.version,
      files: this.options.kubeconfigFiles ? () => this.options.kubeconfigFiles! : undefined,
    });
    this.controller = controller;
    // Every invoke channel in the schema, answered only for our own window's page.
    for (const name of INVOKE_CHANNELS) {
      this.ports.ipc.handle(invokeChannel(name), async (sender, args) => {
        if (!this.window || this.window.isDestroyed() || !this.window.owns(sender)) {
          return { ok: false, error: { code: 'forbidden', message: 'not the PocketKube window' } };
        }
        const handler = controller.handlers[name] as (...a: unknown[]) => Promise<unknown>;
        return toResult(() => handler(...args));
      });
    }
    this.startAtLogin = await this.ports.autostart.isEnabled();
    this.tray = this.ports.tray.create(this.iconFor('signed-out').file, this.iconFor('signed-out').template);
    this.tray.onClick(() => void this.dispatch({ kind: 'open-window' }));
    this.tray.setToolTip('PocketKube: connecting to the agent…');
    controller.on('state', (state: AppState, prev: AppState | undefined) => this.onState(state, prev));
    controller.on('agent-down', () => this.onAgentDown());
    controller.start();

    const { timers, power } = this.ports;
    // "Token expires in 42 min" stays current, and the login-item state is read back from the OS.
    this.stopTimers.push(
      timers.every(MENU_REFRESH_MS, () => {
        this.render();
        void this.readStartAtLogin().then((changed) => changed && this.render());
      }),
    );
    // After sleep or unlock, expiry is re-checked at once; the agent itself watches for jumps of the wall
    // clock (on this timer port: see startAgent), as the headless one does.
    const recheck = () => this.agent?.recheckAll();
    power.onResume(recheck);
    power.onUnlockScreen(recheck);

    // A first run, or any launch the user made (not the OS at login), opens the window: on GNOME without
    // the AppIndicator extension there is no tray icon to click.
    // The first run goes to Setup, unless providers were already added with the CLI.
    const firstRun = !this.prefs.get('firstRunDone');
    const unconfigured = firstRun && !(await controller.client.listProviders().catch(() => [])).length;
    // A launch by a join link opens the window on the join preview instead (run() does, once running).
    if (!this.pendingLink && (firstRun || !this.ports.autostart.wasOpenedAtLogin())) this.showWindow(unconfigured ? 'setup' : undefined);
    if (firstRun) this.prefs.set('firstRunDone', true);
  }

  /** The app's own agent, with the secrets the headless agent or the CLI left in the 0600 file moved in. */
  private async startAgent(): Promise<void> {
    const { store, moveIn } = await this.ownSecretStore();
    const agent = new Agent({
      home: this.options.home,
      mode: 'tray',
      store,
      // Only the lock holder may move secrets: another agent may still be rotating the token in that file.
      onLockTaken: moveIn,
      kubeconfigFiles: this.options.kubeconfigFiles,
      log: (level, message) => this.ports.log(level, message),
      jumpClock: this.agentJumpClock(),
    });
    try {
      await agent.start();
    } catch (err) {
      // A headless agent started at the same moment and won: be its client.
      if (err instanceof AgentAlreadyRunningError && (await probeSocket(this.options.home.socketPath))) {
        this.owner = 'external';
        return;
      }
      throw err;
    }
    this.agent = agent;
    this.owner = 'app';
  }

  /** Our timer port as the agent's jump clock: its timer stops with ours at quit, before the tray goes. */
  private agentJumpClock(): MonotonicClock {
    const { timers } = this.ports;
    const every = (ms: number, fn: () => void) => {
      const stopTimer = timers.every(ms, fn);
      let live = true;
      const stop = () => {
        if (!live) return;
        live = false;
        const i = this.stopTimers.indexOf(stop);
        if (i >= 0) this.stopTimers.splice(i, 1);
        stopTimer();
      };
      this.stopTimers.push(stop);
      return stop;
    };
    return monotonicClockOf({ every, wallNow: () => timers.wallNow(), monotonicNow: () => timers.monotonicNow() });
  }

  /**
   * The keychain store when there is a real keychain, with anything in the plain 0600 file moved in
   * (overwriting: the file is newer, e.g. after a headless agent kept refreshing). The move (`moveIn`) runs
   * only once the agent holds the one-agent lock, so nobody is still rotating the token in that file.
   */
  private async ownSecretStore(): Promise<{ store: SecretStore; moveIn?: () => Promise<void> }> {
    const { secretsFile } = this.options.home;
    const file = new FileSecretStore(secretsFile);
    // Read (and check) the file now: a corrupt one is a start-up failure that names it, not a silent sign-out.
    await readSecretsFile(secretsFile);
    if (!(await keychainUsable(this.ports.keychain, this.ports.app.platform))) {
      this.ports.log('warn', 'No OS keychain (Linux without a keyring gives only basic_text): secrets stay in the 0600 file.');
      return { store: file };
    }
    const keychain = new SafeStorageSecretStore(keychainBlobPath(secretsFile), this.ports.keychain);
    // Open the keychain now too: a denied prompt or another user's blob is shown at start-up.
    await keychain.get('');
    const moveIn = async () => {
      // Read again under the lock: the agent that held it until now may have rotated a token since.
      const current = await readSecretsFile(secretsFile);
      if (!Object.keys(current).length) return;
      await keychain.importAll(current);
      for (const key of Object.keys(current)) await file.delete(key);
      this.ports.log('info', `Moved ${Object.keys(current).length} secret(s) from ${secretsFile} into the OS keychain.`);
    };
    return { store: keychain, moveIn };
  }

  private desktopAdapter(): DesktopAdapter {
    const { clipboard, dialogs, shell } = this.ports;
    return {
      copyText: async (text) => clipboard.writeText(text),
      saveText: async (name, text) => {
        const file = await dialogs.chooseSavePath(name);
        if (!file) return null;
        await writeFile(file, text, { mode: 0o644 });
        return { path: file };
      },
      openFile: async (purpose) => {
        const file = await dialogs.chooseOpenPath(`Choose a ${purpose.replace('-', ' ')} file`);
        if (!file) return null;
        if (purpose !== 'team-profile') return { path: file, text: await readFile(file, 'utf8') };
        // Bounded: a device or a huge file is refused at 256 KiB, not loaded into memory.
        const { readProfileFile } = await import('../core/team/profile.js');
        return { path: file, text: await readProfileFile(file) };
      },
      openExternal: (url) => shell.openExternal(url),
    };
  }

  private iconFor(state: TrayIconState) {
    return trayIcon(this.options.resources, state, this.ports.app.platform, this.ports.tray.panelIsDark());
  }

  private render(): void {
    const state = this.controller?.state();
    if (!state || !this.tray || this.phase === 'quitting') return;
    const now = this.ports.timers.wallNow();
    const icon = this.iconFor(trayIconState(state, now));
    this.tray.setIcon(icon.file, icon.template);
    this.tray.setToolTip(tooltip(state, now));
    this.tray.setMenu(buildTrayMenu({ ...state, owner: this.owner }, now, { startAtLogin: this.startAtLogin }), (item) => {
      if (item.action) void this.dispatch(item.action);
    });
  }

  private onState(state: AppState, prev: AppState | undefined): void {
    this.render();
    if (this.window && !this.window.isDestroyed()) this.window.send(state);
    for (const n of notificationsFor(prev, state, this.ports.timers.wallNow())) {
      this.notify(n.title, n.body, n.action);
      // A sign-in started from the tray or window brings the window back when done.
      if (n.id.startsWith('signed-in:') && this.window && !this.window.isDestroyed() && this.window.isVisible()) this.window.focus();
    }
  }

  /**
   * A notification, held until it is closed or used. Actions (buttons) exist only on macOS and Windows; on
   * Linux a click on the notification does the job.
   */
  notify(title: string, body: string, action?: TrayAction & { label: string }): void {
    const { notifications, app } = this.ports;
    if (!notifications.isSupported()) {
      this.ports.log('warn', `Notifications are not available here: ${title}. ${body}`);
      return;
    }
    const buttons = action && app.platform !== 'linux' ? [action.label] : [];
    const note = notifications.create({ title, body, actions: buttons });
    const done = () => this.liveNotifications.delete(note);
    this.liveNotifications.add(note);
    note.on('click', () => {
      done();
      if (action) void this.dispatch(action);
    });
    note.on('action', () => {
      done();
      if (action) void this.dispatch(action);
    });
    note.on('close', done);
    note.on('failed', done);
    note.show();
  }

  /** How many notifications are held (shown and not yet closed or used). */
  heldNotifications(): number {
    return this.liveNotifications.size;
  }

  /** The headless agent went away: own the sessions here (or follow another agent that took the socket). */
  private onAgentDown(): void {
    if (this.owner !== 'external' || this.phase !== 'running' || this.takingOver) return;
    this.takingOver = (async () => {
      let stillStopping = false;
      const res = await toResult(async () => {
        if (await probeSocket(this.options.home.socketPath)) return;
        await this.startAgent().catch((err: Error) => {
          // It has closed its socket but is still storing its last refresh: the next `agent-down` retries.
          if (err instanceof AgentAlreadyRunningError) stillStopping = true;
          else throw err;
        });
      });
      if (stillStopping) this.ports.log('info', 'The headless agent is still stopping; taking over once it has.');
      else if (!res.ok) {
        this.ports.log('error', `Could not take over the sessions: ${res.error.message}`);
        this.notify('Could not take over the sessions', res.error.message);
      } else if (this.owner === 'app') this.ports.log('info', 'The headless agent stopped; this app now keeps the sessions.');
      this.render();
    })().finally(() => (this.takingOver = undefined));
  }

  /** Resolves when a take-over after `agent-down` has finished (for callers that must wait for it). */
  async settled(): Promise<void> {
    await this.takingOver;
  }

  showWindow(view?: ViewName, join?: JoinRequest): void {
    if (this.phase === 'quitting') return;
    const prefs = this.prefs;
    if (!prefs) return;
    if (this.window && !this.window.isDestroyed()) {
      if (join) this.window.showJoin(join);
      else if (view) this.window.showView(view);
      this.window.show();
      this.window.focus();
      return;
    }
    const win = this.ports.windows.create({ bounds: visibleBounds(prefs.get('window'), this.ports.screen.workAreas()), view: view ?? 'account', ...(join ? { join } : {}) });
    this.window = win;
    win.onReadyToShow(() => {
      win.show();
      win.focus();
    });
    win.onClose((event) => {
      if (this.phase === 'quitting') return;
      event.preventDefault();
      this.saveBounds();
      win.hide();
      if (!prefs.get('closeHintShown')) {
        prefs.set('closeHintShown', true);
        this.notify('PocketKube is still running', 'It keeps your session alive from the tray. Quit it from the tray menu.');
      }
    });
  }

  private saveBounds(): void {
    if (this.prefs && this.window && !this.window.isDestroyed()) this.prefs.set('window', { ...this.prefs.get('window'), ...this.window.getBounds() });
  }

  /** The user started the app again (second launch, Finder/Dock on macOS): show the window, or the failure. */
  private manualLaunch(): void {
    if (this.phase === 'failed') void this.ports.dialogs.showError('PocketKube could not start', this.failure ?? '');
    else if (this.phase === 'running') this.showWindow();
  }

  /** Reads the OS's login-item state; true when it differs from what the menu showed. */
  private async readStartAtLogin(): Promise<boolean> {
    const res = await toResult(() => this.ports.autostart.isEnabled());
    if (!res.ok || res.value === this.startAtLogin) return false;
    this.startAtLogin = res.value;
    return true;
  }

  async dispatch(action: TrayAction): Promise<void> {
    const h = this.controller?.handlers;
    if (action.kind === 'quit') return this.quit();
    if (!h) return;
    switch (action.kind) {
      case 'sign-in': {
        const res = await toResult(() => h.signIn(action.provider));
        if (!res.ok) this.notify('Sign-in could not start', res.error.message);
        break;
      }
      case 'sign-out':
        await toResult(() => h.signOut(action.provider));
        break;
      case 'refresh': {
        const res = await toResult(() => h.refresh(action.provider));
        if (!res.ok) this.notify('Refresh failed', res.error.message);
        break;
      }
      case 'use-context': {
        const res = await toResult(() => h.useContext(action.name));
        if (!res.ok) this.notify('Could not switch context', res.error.message);
        break;
      }
      case 'copy-kubectl':
        this.ports.clipboard.writeText(kubectlCommand(action.context));
        break;
      case 'open-window':
        this.showWindow(action.view);
        break;
      case 'add-cluster':
        this.showWindow('clusters');
        break;
      case 'toggle-start-at-login': {
        const res = await toResult(() => this.ports.autostart.setEnabled(!this.startAtLogin));
        if (!res.ok) this.notify('Could not change Start at login', res.error.message);
        await this.readStartAtLogin();
        this.render();
        break;
      }
      case 'take-over':
        await this.takeOver();
        break;
    }
  }

  /**
   * Asks the headless agent to stop; it removes its socket only after its last refresh is stored and its
   * pid file is gone. Then owns the sessions here, with its secrets moved into the keychain.
   */
  private async takeOver(): Promise<void> {
    const controller = this.controller!;
    await toResult(() => controller.client.shutdown());
    const wait = this.options.takeOverWaitMs ?? 30_000;
    for (let waited = 0; waited < wait && existsSync(this.options.home.socketPath); waited += 100) await new Promise((r) => setTimeout(r, 100));
    await this.takingOver;
    if (this.owner === 'app') return this.render();
    const res = await toResult(() => this.startAgent());
    if (!res.ok) this.notify('Could not take over the sessions', res.error.message);
    else if (!this.agent) {
      // It still holds the lock (busy, or it ignores the request): it keeps the sessions, and its secrets stay put.
      this.notify('Could not take over the sessions', `The PocketKube agent for ${this.options.home.dir} did not stop when asked; it still keeps the sessions.`);
    }
    this.render();
  }

  /** Quit from the menu or on SIGTERM: the same path as Cmd+Q or the OS quitting the app (`before-quit`). */
  quit(): void {
    this.ports.app.quit();
  }

  /**
   * The first `before-quit` is held until the app's agent has stored its last refresh and stopped; then the
   * app quits again, and nothing (the window's close handler included) cancels it. When an external agent
   * owns the sessions there is nothing to wait for, but the quit must go through just the same.
   */
  private beforeQuit(event: { preventDefault(): void }): void {
    this.phase = 'quitting';
    if (this.cleanedUp) return;
    event.preventDefault();
    void this.cleanUp().finally(() => {
      this.cleanedUp = true;
      this.ports.app.quit();
    });
  }

  private cleaning?: Promise<void>;
  private cleanUp(): Promise<void> {
    this.cleaning ??= (async () => {
      this.saveBounds();
      // Timers first: none may render into a tray that is gone.
      for (const stop of this.stopTimers.splice(0)) stop();
      this.controller?.stop();
      this.tray?.destroy();
      this.tray = undefined;
      const agent = this.agent;
      this.agent = undefined;
      const res = await toResult(async () => agent?.stop());
      if (!res.ok) this.ports.log('error', `The agent did not stop cleanly: ${res.error.message}`);
    })();
    return this.cleaning;
  }

  /**
   * Start-up failed (a corrupt secrets file, an undecryptable or denied keychain, bad prefs, another agent):
   * logged, shown in a dialog, and the tray stays in an error state with Quit, so the process never sits
   * invisible holding the single-instance lock. Whatever had started is stopped.
   */
  private async fail(err: Error): Promise<void> {
    this.phase = 'failed';
    this.failure = `${err.message}`;
    this.ports.log('error', `PocketKube could not start: ${this.failure}`);
    for (const stop of this.stopTimers.splice(0)) stop();
    this.controller?.stop();
    const agent = this.agent;
    this.agent = undefined;
    await agent?.stop().catch(() => {});
    try {
      const icon = this.iconFor('signed-out');
      this.tray ??= this.ports.tray.create(icon.file, icon.template);
      this.tray.setIcon(icon.file, icon.template);
      this.tray.setToolTip(`PocketKube could not start: ${this.failure}`);
      const menu: MenuItemModel[] = [
        { label: 'PocketKube could not start', enabled: false },
        { label: this.failure.length > 120 ? `${this.failure.slice(0, 117)}…` : this.failure, enabled: false },
        { type: 'separator' },
        { label: 'Quit PocketKube', action: { kind: 'quit' } },
      ];
      this.tray.setMenu(menu, (item) => {
        if (item.action?.kind === 'quit') this.quit();
      });
    } catch (trayErr) {
      // Without a tray nothing could quit us: give the lock back now.
      this.ports.log('error', `No tray either (${(trayErr as Error).message}); exiting.`);
      await this.ports.dialogs.showError('PocketKube could not start', this.failure).catch(() => {});
      this.ports.app.exit(1);
      return;
    }
    await this.ports.dialogs.showError('PocketKube could not start', `${this.failure}\n\nPocketKube stays in the tray so you can quit it; start it again once this is fixed.`).catch(() => {});
  }
}

/** The plain file's secrets; a file that is not a JSON object is a start-up failure that names it. */
async function readSecretsFile(file: string): Promise<Record<string, string>> {
  const raw = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{}';
    throw err;
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file} is not a JSON object, so PocketKube cannot read the secrets kept there; nothing was changed: move the file aside and sign in again.`);
  }
  return parsed as Record<string, string>;
}

export function composeDesktop(ports: DesktopPorts, options: ShellOptions): DesktopShell {
  return new DesktopShell(ports, options);
}
