import { unlink } from 'node:fs/promises';
import { systemClock, type Clock, type MonotonicClock } from '../core/platform/clock.js';
import { watchClockJumps } from '../core/platform/clock-jump.js';
import type { ExpiryPolicy } from '../shared/expiry.js';
import { ensureHome, type Home } from '../core/platform/home.js';
import { PocketKubeError } from '../core/platform/errors.js';
import { deleteProviderSecrets, ProviderRegistry, saveProvider, secretKeys, type ProviderConfig } from '../core/session/providers.js';
import { FileSecretStore, type SecretStore } from '../core/session/secret-store.js';
import { Session, type Logger, type SessionSnapshot } from '../core/session/session.js';
import { CredentialCache, type CacheableCredential } from '../core/credential/credential-cache.js';
import { currentContextOf, PromptStatusFile, type CurrentContext } from '../core/session/prompt-status.js';
import { kubeconfigFiles, listContexts } from '../core/kubeconfig/index.js';
import { watchKubeconfigs } from '../core/kubeconfig/watch.js';
import { checkSocketPath, probeSocket, startSocketServer, type SocketServer } from './server.js';
import { takeInstanceLock, type InstanceLock } from './instance-lock.js';
import { createRoutes, type AgentApi } from './routes.js';
import type { AgentStatus } from '../shared/api.js';
import { pocketkubeVersion } from '../core/platform/version.js';
export type { AgentStatus };

export const AGENT_VERSION = pocketkubeVersion();

export interface AgentOptions {
  home: Home;
  mode?: 'headless' | 'tray';
  store?: SecretStore;
  clock?: Clock;
  policy?: ExpiryPolicy;
  log?: Logger;
  loginTimeoutMs?: number;
  /** The kubeconfig files to watch (default: KUBECONFIG as kubectl reads it). */
  kubeconfigFiles?: string[];
  /** Called when a client asks the agent to stop (POST /v1/shutdown), e.g. the tray app taking over. */
  onShutdownRequest?: () => void;
  /** How long a client may take to send a request before it is cut off. */
  socketLimits?: { requestTimeoutMs?: number; headersTimeoutMs?: number };
  /** Runs once this agent holds the lock, before any session starts (the tray moves secrets into the keychain here). */
  onLockTaken?: () => Promise<void>;
  /** How long an agent holding the lock may take to answer on the socket before its lock counts as stale. */
  lockGraceMs?: number;
  /**
   * The wall and monotonic clocks whose moving apart (a sleep, a clock change) makes the agent re-check every
   * session's expiry at once. Default: `clock` when it has a monotonic side (the system clock does); the tray
   * app passes its timer port's. None: no watch.
   */
  jumpClock?: MonotonicClock;
}

export class AgentAlreadyRunningError extends PocketKubeError {
  override name = 'AgentAlreadyRunningError';
  constructor(message: string) {
    super('agent_running', message);
  }
}

/**
 * The one owner of every session. The tray app, the headless `pocketkube agent` and the tests all run this;
 * the CLI, kubectl's helper and the window are its clients over the socket.
 */
export class Agent implements AgentApi {
  readonly sessions = new Map<string, Session>();
  readonly registry: ProviderRegistry;
  readonly store: SecretStore;
  readonly clock: Clock;
  private server?: SocketServer;
  private readonly startedAt = new Date();
  private readonly listeners = new Set<(status: AgentStatus) => void>();
  private readonly log: Logger;
  private readonly recent: AgentStatus['recent'] = [];
  private kubeconfig: AgentStatus['kubeconfig'] = { files: [], contexts: 0, errors: [] };
  private stopWatching?: () => void;
  private stopJumpWatch?: () => void;
  private reloadQueue: Promise<void> = Promise.resolve();
  /** kubectl's fast path: each session's current credential in a private file the helper reads. */
  private readonly credentialCache: CredentialCache;
  /** `pocketkube prompt`'s lines for the current context, in a private file the sh entry point prints. */
  private readonly promptStatus: PromptStatusFile;
  private currentContext?: CurrentContext;

  constructor(readonly options: AgentOptions) {
    this.registry = new ProviderRegistry(options.home.settingsFile);
    this.store = options.store ?? new FileSecretStore(options.home.secretsFile);
    this.clock = options.clock ?? systemClock;
    const sink = options.log ?? (() => {});
    this.log = (level, message) => {
      this.recent.push({ at: new Date(this.clock.now()).toISOString(), level, message });
      if (this.recent.length > 100) this.recent.shift();
      sink(level, message);
    };
    this.credentialCache = new CredentialCache(options.home, { clock: this.clock, log: this.log, entries: () => this.cacheableCredentials() });
    this.promptStatus = new PromptStatusFile(options.home, {
      clock: this.clock,
      log: this.log,
      current: () => this.currentContext,
      sessions: () => [...this.sessions.values()].map((s) => s.snapshot()),
    });
  }

  get home(): Home {
    return this.options.home;
  }

  async start(): Promise<void> {
    // Before anything is created: Node would truncate a long path and listen outside the private home.
    checkSocketPath(this.home.socketPath);
    await ensureHome(this.home);
    await this.takeInstanceLock();
    try {
      await this.options.onLockTaken?.();
      this.credentialCache.start();
      await this.reloadProviders();
      this.server = await startSocketServer(this.home.socketPath, createRoutes(this), (m) => this.log('error', m), this.options.socketLimits);
      await this.watchKubeconfig();
      this.watchClockJumps();
      this.promptStatus.update();
    } catch (err) {
      // Nothing half-started: sessions, the socket and the lock go as on stop.
      await this.stop().catch((e: Error) => this.log('error', `stopping after a failed start: ${e.message}`));
      throw err;
    }
    this.log('info', `agent listening on ${this.home.socketPath}; secrets in ${this.store.describe()}`);
  }

  async stop(): Promise<void> {
    this.stopJumpWatch?.();
    this.stopJumpWatch = undefined;
    this.stopWatching?.();
    this.stopWatching = undefined;
    const server = this.server;
    this.server = undefined;
    await server?.close();
    // A reload under way may still create sessions: let it finish, then stop them all.
    await this.reloadQueue;
    await Promise.all([...this.sessions.values()].map((s) => s.quiesce()));
    this.sessions.clear();
    // No one keeps the cached credentials current from here on: kubectl must ask (and hear there is no agent).
    this.credentialCache.stop();
    this.promptStatus.stop();
    // Only now may another agent start: the pid file and socket go last, after every refresh has landed.
    await this.releaseInstanceLock();
    await server?.removeSocket();
  }

  private instanceLock?: InstanceLock;

  /** One agent per home: a live one (its socket answers) makes us refuse; a crashed one's lock and socket are replaced. */
  private async takeInstanceLock(): Promise<void> {
    this.instanceLock = await takeInstanceLock(this.home.pidFile, {
      answers: () => probeSocket(this.home.socketPath),
      startingGraceMs: this.options.lockGraceMs ?? 3_000,
      busy: (holder) =>
        new AgentAlreadyRunningError(
          `Another PocketKube agent is already running for ${this.home.dir}${holder.pid > 0 ? ` (pid ${holder.pid})` : ''}; use it, or stop it first.`,
        ),
      contended: () => new AgentAlreadyRunningError(`Could not take ${this.home.pidFile}: other agents keep starting for ${this.home.dir}; try again.`),
    });
    // We hold the lock and nothing answers on the socket: a file left there is a crashed agent's.
    if (process.platform !== 'win32') await unlink(this.home.socketPath).catch(() => {});
  }

  private async releaseInstanceLock(): Promise<void> {
    const lock = this.instanceLock;
    this.instanceLock = undefined;
    await lock?.release();
  }

  /** After a sleep or a clock change, refreshes that came due meanwhile run at once, not when a late timer fires. */
  private watchClockJumps(): void {
    const clock = this.options.jumpClock ?? (isMonotonic(this.clock) ? this.clock : undefined);
    if (!clock) return;
    this.stopJumpWatch = watchClockJumps(clock, (driftMs) => {
      const s = Math.round(Math.abs(driftMs) / 1000);
      this.log('info', `the wall clock moved ${s} s ${driftMs > 0 ? 'further' : 'less'} than running time (a sleep or a clock change); re-checking expiry`);
      this.recheckAll();
    });
  }

  /** Changes made by kubectl, kubectx, talosctl or an editor reach the status within a second. */
  private async watchKubeconfig(): Promise<void> {
    const files = this.options.kubeconfigFiles ?? kubeconfigFiles();
    await this.readKubeconfig(files, false);
    this.stopWatching = watchKubeconfigs(files, () => {
      void this.readKubeconfig(files, true);
    });
  }

  private async readKubeconfig(files: string[], changed: boolean): Promise<void> {
    const res = await listContexts(files).catch((err: Error) => ({ contexts: [], currentContext: undefined, errors: [err] }));
    this.kubeconfig = {
      files,
      currentContext: res.currentContext,
      contexts: res.contexts.length,
      changedAt: changed ? new Date(this.clock.now()).toISOString() : this.kubeconfig.changedAt,
      errors: res.errors.map((e) => e.message),
    };
    this.currentContext = currentContextOf(res);
    if (changed) this.notify();
  }

  /** Re-reads settings: new providers get a session (resumed from the store), removed ones are dropped. */
  reloadProviders(replace: string[] = []): Promise<void> {
    // One reload at a time: two overlapping ones could start two sessions on one refresh token.
    const run = this.reloadQueue.then(() => this.doReloadProviders(replace));
    this.reloadQueue = run.catch(() => {});
    return run;
  }

  private async doReloadProviders(replace: string[]): Promise<void> {
    const providers = await this.registry.list();
    const wanted = new Map(providers.map((p) => [p.name, p]));
    for (const [name, session] of this.sessions) {
      const next = wanted.get(name);
      if (!next || !sameProvider(next, session.provider) || replace.includes(name)) {
        this.sessions.delete(name);
        session.removeAllListeners();
        // Its refresh in flight must land in the store before a new session reads the refresh token.
        await session.quiesce();
      }
    }
    const resumes: Promise<void>[] = [];
    for (const p of providers) {
      if (this.sessions.has(p.name)) continue;
      const clientSecret = p.confidential ? await this.store.get(secretKeys.clientSecret(p.name)) : undefined;
      const session = new Session(p, {
        store: this.store,
        clock: this.clock,
        policy: this.options.policy,
        log: this.log,
        clientSecret,
        loginTimeoutMs: this.options.loginTimeoutMs,
      });
      session.on('change', () => this.notify());
      session.on('sign-in-needed', (name: string) =>
        this.log('warn', `kubectl asked for a ${name} token but you are not signed in; run \`pocketkube login ${name}\``),
      );
      this.sessions.set(p.name, session);
      // Resuming may need the network; the socket must not wait for it (kubectl asking meanwhile waits in credential()).
      resumes.push(session.resume().catch((err: Error) => this.log('error', `${p.name}: resume failed: ${err.message}`)));
    }
    this.notify();
    void Promise.all(resumes);
  }

  /** Adds or replaces a provider, storing its client secret in the agent's store. */
  async saveProvider(p: ProviderConfig, clientSecret?: string): Promise<void> {
    await saveProvider(this.registry, this.store, p, clientSecret);
    await this.reloadProviders(clientSecret ? [p.name] : []);
  }

  async removeProvider(name: string): Promise<boolean> {
    const session = this.sessions.get(name);
    if (session?.signedIn) await session.logout('provider removed');
    const removed = await this.registry.remove(name);
    await deleteProviderSecrets(this.store, name);
    await this.reloadProviders();
    return removed;
  }

  /** After sleep, unlock or a clock jump: re-check expiry at once and refresh what is due. */
  recheckAll(): void {
    for (const s of this.sessions.values()) s.recheck();
  }

  session(name: string): Session | undefined {
    return this.sessions.get(name);
  }

  liveSessions(): Session[] {
    return [...this.sessions.values()];
  }

  listProviders(): Promise<ProviderConfig[]> {
    return this.registry.list();
  }

  canStopOnRequest(): boolean {
    return Boolean(this.options.onShutdownRequest);
  }

  stopOnRequest(): void {
    this.options.onShutdownRequest?.();
  }

  status(): AgentStatus {
    return {
      apiVersion: 'pocketkube.dev/v1',
      kind: 'Status',
      agent: {
        running: true,
        pid: process.pid,
        version: AGENT_VERSION,
        mode: this.options.mode ?? 'headless',
        startedAt: this.startedAt.toISOString(),
        socket: this.home.socketPath,
        secrets: { kind: this.store.kind, where: this.store.describe() },
      },
      providers: [...this.sessions.values()].map((s) => s.snapshot()),
      kubeconfig: this.kubeconfig,
      recent: [...this.recent],
    };
  }

  /** Push updates for the tray and the window: one call per change, never polling. */
  onChange(listener: (status: AgentStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private cacheableCredentials(): Map<string, CacheableCredential> {
    const out = new Map<string, CacheableCredential>();
    for (const s of this.sessions.values()) {
      const c = s.credentialAsIs();
      if (c) out.set(s.name, c);
    }
    return out;
  }

  private notify(): void {
    this.credentialCache.update();
    this.promptStatus.update();
    if (!this.listeners.size) return;
    const status = this.status();
    for (const l of this.listeners) l(status);
  }
}

function isMonotonic(clock: Clock): clock is MonotonicClock {
  return typeof (clock as Partial<MonotonicClock>).monotonicNow === 'function';
}

function sameProvider(a: ProviderConfig, b: ProviderConfig): boolean {
  return JSON.stringify({ ...a, scopes: [...a.scopes] }) === JSON.stringify({ ...b, scopes: [...b.scopes] });
}
