/**
 * What the tray and the window talk to: a client of the agent's socket API (status pushed over /v1/events),
 * plus the kubeconfig and Talos services. No Electron here; Electron passes its desktop adapters in.
 */
import { EventEmitter } from 'node:events';
import type { AgentStatus } from '../shared/api.js';
import { addCluster } from '../core/kubeconfig/cluster.js';
import { kubeconfigFiles, listContexts, removeContext, useContext } from '../core/kubeconfig/index.js';
import { toResult, type AddClusterRequest, type AppState, type ContextsState, type ExportTeamRequest, type FileChoice, type JoinSource, type PocketKubeHandlers } from '../shared/ipc.js';
import type { JoinPlan, JoinResult, TeamProfile } from '../shared/team.js';
import { applyJoin, planJoin, type JoinDeps } from '../core/team/join.js';
import { exportTeamProfile, parseTeamProfile, readTeamProfile, teamProfileText } from '../core/team/profile.js';
import type { Home } from '../core/platform/home.js';
import { UsageError } from '../core/platform/errors.js';
import { AgentClient } from '../client/agent-client.js';
import { applyRbac, rbacBinding, whoami } from '../core/talos/index.js';
import { clusterFromKubeconfigText, doctorForProvider, patchForProvider } from '../core/talos/setup.js';

/** The parts of the desktop only Electron can reach: clipboard, dialogs, the system browser. */
export interface DesktopAdapter {
  copyText(text: string): Promise<void>;
  saveText(suggestedName: string, text: string): Promise<{ path: string } | null>;
  openFile(purpose: 'machine-config' | 'kubeconfig' | 'ca' | 'team-profile'): Promise<FileChoice | null>;
  openExternal(url: string): Promise<void>;
}

export interface ControllerOptions {
  home: Home;
  desktop: DesktopAdapter;
  owner: () => AppState['owner'];
  version: string;
  files?: () => string[];
}

export class AppController extends EventEmitter {
  readonly client: AgentClient;
  private status?: AgentStatus;
  private contexts: ContextsState = { files: [], contexts: [], errors: [] };
  private kubeconfigSeen?: string;
  private unsubscribe?: () => void;
  private current?: AppState;
  /** The profile and plan the window last showed, per source: a join applies that very profile (not a second read of the source), or nothing. */
  private previewed?: { key: string; read: { profile: TeamProfile; source: string }; plan: JoinPlan };

  constructor(private readonly options: ControllerOptions) {
    super();
    this.client = new AgentClient(options.home.socketPath);
  }

  private files(): string[] {
    return this.options.files?.() ?? kubeconfigFiles();
  }

  start(): void {
    // One long request (the agent's event stream), reconnecting when the agent restarts; no polling.
    this.unsubscribe = this.client.watchStatus(
      (status) => void this.onStatus(status),
      () => this.emit('agent-down'),
    );
  }

  stop(): void {
    this.unsubscribe?.();
  }

  private async onStatus(status: AgentStatus): Promise<void> {
    this.status = status;
    // Re-list contexts only when the agent saw the kubeconfig change (or the first time).
    const seen = `${status.kubeconfig.changedAt ?? ''}|${status.kubeconfig.currentContext ?? ''}|${status.kubeconfig.contexts}`;
    if (seen !== this.kubeconfigSeen) {
      this.kubeconfigSeen = seen;
      await this.readContexts();
    }
    this.publish();
  }

  private async readContexts(): Promise<void> {
    const files = this.files();
    const res = await listContexts(files);
    this.contexts = {
      files,
      currentContext: res.currentContext,
      contexts: res.contexts,
      errors: res.errors.map((e) => e.message),
      changedAt: this.status?.kubeconfig.changedAt,
    };
  }

  private publish(): void {
    if (!this.status) return;
    const prev = this.current;
    this.current = {
      status: this.status,
      contexts: this.contexts,
      recent: this.status.recent,
      owner: this.options.owner(),
      platform: process.platform,
      version: this.options.version,
    };
    this.emit('state', this.current, prev);
  }

  state(): AppState | undefined {
    return this.current;
  }

  async waitForState(): Promise<AppState> {
    if (this.current) return this.current;
    return new Promise((resolve) => this.once('state', resolve));
  }



  private async addCluster(req: AddClusterRequest): Promise<{ context: string; file: string }> {
    let server = req.server;
    let caData: string | undefined;
    let name = req.name;
    if (req.kubeconfigText) {
      const c = clusterFromKubeconfigText(req.kubeconfigText);
      server = c.server;
      caData = c.caData;
      name = name || c.name;
    }
    const res = await addCluster(this.options.home, { ...req, name, server, caData }, this.files());
    await this.readContexts();
    this.publish();
    return { context: res.context, file: res.file };
  }

  private joinDeps(): JoinDeps {
    return {
      home: this.options.home,
      kubeconfigFiles: this.files(),
      // Through the agent, which owns the providers and their sessions (and drops a re-pointed provider's secret).
      providers: () => this.client.listProviders(),
      saveProvider: async (p) => {
        await this.client.addProvider({ name: p.name, issuer: p.issuer, clientId: p.clientId, scopes: p.scopes, callbackPort: p.callbackPort, ...(p.caFile ? { caFile: p.caFile } : {}) });
      },
    };
  }

  /** The profile a join source names: an address main fetches (https, or http on loopback), or a chosen file's text. */
  private async readJoinSource(source: JoinSource): Promise<{ profile: TeamProfile; source: string }> {
    if (typeof source?.text === 'string') {
      // parseTeamProfile refuses a text over the profile size limit before parsing it.
      const name = source.name || 'the chosen file';
      return { profile: parseTeamProfile(source.text, name), source: name };
    }
    const url = source?.url?.trim();
    if (!url) throw new UsageError('No team profile was given: choose its file, or paste its https:// address; nothing was changed.');
    // Only addresses: a path typed into the window is not read from this process's disk.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new UsageError(`"${url}" is not an address: paste the profile's https:// address, or choose its file instead; nothing was changed.`);
    // readTeamProfile applies the address rules (profileUrlProblem: https, loopback, no user name or password).
    return readTeamProfile(url);
  }

  private async previewJoin(source: JoinSource): Promise<JoinPlan> {
    const read = await this.readJoinSource(source);
    const plan = await planJoin(this.joinDeps(), read.profile, read.source);
    this.previewed = { key: JSON.stringify(source), read, plan };
    return plan;
  }

  /** Joins as previewed, shows the new contexts, and starts the sign-in unless the session already holds. */
  private async join(source: JoinSource, options: { confirmed: boolean }): Promise<JoinResult> {
    const deps = this.joinDeps();
    const shown = this.previewed?.key === JSON.stringify(source) ? this.previewed : undefined;
    const read = shown?.read ?? (await this.readJoinSource(source));
    const seen = shown?.plan ?? (await planJoin(deps, read.profile, read.source));
    const result = await applyJoin(deps, read.profile, seen, { confirmed: Boolean(options?.confirmed) });
    this.previewed = undefined;
    await this.readContexts();
    this.publish();
    const name = result.plan.provider.name;
    const session = await this.client.provider(name).catch(() => undefined);
    if (session?.state === 'signed-in' && result.plan.provider.action === 'unchanged') return { ...result, signedIn: true };
    // The join is written by now: a sign-in that cannot start (one already waiting, say) does not undo it.
    const started = await toResult(() => this.handlers.signIn(name));
    return { ...result, signedIn: false, ...(started.ok ? { signIn: started.value } : {}) };
  }

  private async exportTeam(request: ExportTeamRequest): Promise<{ text: string; suggestedName: string }> {
    const profile = await exportTeamProfile(
      { providers: () => this.client.listProviders(), kubeconfigFiles: this.files() },
      { provider: request?.provider, contexts: request?.contexts, team: request?.team || undefined, group: request?.group || undefined },
    );
    const format = request?.format === 'json' ? 'json' : 'yaml';
    return { text: teamProfileText(profile, format), suggestedName: `${profile.team}.pocketkube.${format}` };
  }

  /** The calls the window makes, each one a plain async function; IPC wraps them into Results. */
  readonly handlers: PocketKubeHandlers = {
    getState: async () => this.waitForState(),
    signIn: async (provider, options) => {
      const started = await this.client.login(provider, { device: options?.device });
      if (started.method === 'browser') await this.options.desktop.openExternal(started.url);
      return started;
    },
    signOut: async (provider) => {
      await this.client.logout(provider);
      return null;
    },
    refresh: async (provider) => {
      await this.client.refresh(provider);
      return null;
    },
    useContext: async (name) => {
      await useContext(name, this.files());
      await this.readContexts();
      this.publish();
      return null;
    },
    addCluster: (req) => this.addCluster(req),
    removeCluster: async (context) => {
      const res = await removeContext(context, this.files());
      await this.readContexts();
      this.publish();
      return { removed: res.removed };
    },
    whoami: (context) => whoami({ kubeconfigFiles: this.files(), context }),
    talosPatch: (req) => patchForProvider(this.options.home, req),
    rbacBinding: async (req) => rbacBinding(req),
    applyRbac: (req) => applyRbac(rbacBinding(req), { kubeconfigFiles: this.files(), context: req.context }),
    doctor: (req) => doctorForProvider(this.options.home, () => this.client.status(5_000), { ...req, kubeconfigFiles: this.files() }),
    copyText: async (text) => {
      await this.options.desktop.copyText(text);
      return null;
    },
    saveText: (name, text) => this.options.desktop.saveText(name, text),
    openFile: (purpose) => this.options.desktop.openFile(purpose),
    openExternal: async (url) => {
      if (!/^https?:\/\//.test(url)) throw new UsageError('Only http and https links open outside PocketKube.');
      await this.options.desktop.openExternal(url);
      return null;
    },
    previewJoin: (source) => this.previewJoin(source),
    join: (source, options) => this.join(source, options),
    exportTeam: (request) => this.exportTeam(request),
  };
}
