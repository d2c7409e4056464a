/**
 * What the tray and the window talk to: a client of the agent's socket API (status pushed over /v1/events),
 * plus the kubeconfig and Talos services. No Electron here; Electron passes its desktop adapters in.
 */
import { EventEmitter } from 'node:events';
import type { AgentStatus } from '../shared/api.js';
import { addCluster } from '../core/kubeconfig/cluster.js';
import { kubeconfigFiles, listContexts, removeContext, useContext } from '../core/kubeconfig/index.js';
import type { AddClusterRequest, AppState, ContextsState, FileChoice, PocketKubeHandlers } from '../shared/ipc.js';
import type { Home } from '../core/platform/home.js';
import { UsageError } from '../core/platform/errors.js';
import { AgentClient } from '../client/agent-client.js';
import { applyRbac, rbacBinding, whoami } from '../core/talos/index.js';
import { clusterFromKubeconfigText, doctorForProvider, patchForProvider } from '../core/talos/setup.js';

/** The parts of the desktop only Electron can reach: clipboard, dialogs, the system browser. */
export interface DesktopAdapter {
  copyText(text: string): Promise<void>;
  saveText(suggestedName: string, text: string): Promise<{ path: string } | null>;
  openFile(purpose: 'machine-config' | 'kubeconfig' | 'ca'): Promise<FileChoice | null>;
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
    doctor: (req) => doctorForProvider(this.options.home, () => this.client.status(5_000), req),
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
  };
}
