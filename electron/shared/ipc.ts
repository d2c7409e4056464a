/**
 * The one IPC schema. Main's handlers, the preload's `window.pocketkube` and the renderer's calls are all
 * derived from `PocketKubeInvoke`; errors cross as data (`{ok:false, error}`), never as thrown strings.
 * Nothing here carries a token: the renderer sees claims, groups, times and messages.
 */
import type { AgentStatus, ContextInfo, Failure } from './api.js';
import type { DoctorCheck, RbacBinding, TalosPatch, WhoAmI } from './talos.js';
import type { JoinPlan, JoinResult } from './team.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: Failure };

export interface ContextsState {
  files: string[];
  currentContext?: string;
  contexts: ContextInfo[];
  /** One sentence per kubeconfig file that does not parse (file and line); nothing is written to it. */
  errors: string[];
  /** When a kubeconfig file last changed under us (kubectl, kubectx, talosctl, an editor). */
  changedAt?: string;
}

export interface LogEntry {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** Everything the window shows, pushed on every change. */
export interface AppState {
  status: AgentStatus;
  contexts: ContextsState;
  /** Recent agent log lines (refreshes, errors); never a secret. */
  recent: LogEntry[];
  /** 'app': this app owns the sessions; 'external': a headless `pocketkube agent` does and the app is its client. */
  owner: 'app' | 'external';
  platform: NodeJS.Platform;
  version: string;
}

export interface AddClusterRequest {
  provider: string;
  /** From an existing context (e.g. talosctl's admin@NAME): reuses its cluster entry. */
  fromContext?: string;
  /** Or from a server URL and CA file. */
  name?: string;
  server?: string;
  caFile?: string;
  /** Or from a kubeconfig file talosctl printed (`talosctl kubeconfig -`): its first cluster is used. */
  kubeconfigText?: string;
  namespace?: string;
  use?: boolean;
}

export interface TalosPatchRequest {
  provider: string;
  machineConfigText?: string;
  /** The chosen file's path, to name it when it is refused. */
  machineConfigName?: string;
  talosVersion?: string;
  usernameClaim?: 'sub' | 'email';
  usernamePrefix?: string;
  groupsPrefix?: string;
  nodes?: string[];
}

export interface RbacRequest {
  group: string;
  clusterRole?: string;
  name?: string;
  groupsPrefix?: string;
}

export interface DoctorRequest {
  provider: string;
  context?: string;
  group?: string;
  usernameClaim?: 'sub' | 'email';
}

/**
 * Where a team profile comes from: its https address (a join link, or typed in), or the text of a file the
 * user chose (`name` is the path shown in messages). Main reads the address; the window never fetches.
 */
export interface JoinSource {
  url?: string;
  text?: string;
  name?: string;
}

export interface ExportTeamRequest {
  /** The provider to share (the only one when there is one). */
  provider?: string;
  /** Our contexts to include (default: every PocketKube context of the provider). */
  contexts?: string[];
  /** The team's name (default: the provider's). */
  team?: string;
  /** The group the clusters' RBAC binds, shown to developers. */
  group?: string;
  format?: 'yaml' | 'json';
}

export interface FileChoice {
  path: string;
  text: string;
}

/** Request arguments and answer of every call the renderer can make. */
export interface PocketKubeInvoke {
  getState: { args: []; value: AppState };
  signIn: { args: [provider: string, options?: { device?: boolean }]; value: { method: 'browser' | 'device'; url: string; userCode?: string } };
  signOut: { args: [provider: string]; value: null };
  refresh: { args: [provider: string]; value: null };
  useContext: { args: [name: string]; value: null };
  addCluster: { args: [request: AddClusterRequest]; value: { context: string; file: string } };
  removeCluster: { args: [context: string]; value: { removed: string[] } };
  whoami: { args: [context: string]; value: WhoAmI };
  talosPatch: { args: [request: TalosPatchRequest]; value: TalosPatch };
  rbacBinding: { args: [request: RbacRequest]; value: RbacBinding };
  applyRbac: { args: [request: RbacRequest & { context: string }]; value: { action: 'created' | 'updated' | 'unchanged' } };
  doctor: { args: [request: DoctorRequest]; value: DoctorCheck[] };
  copyText: { args: [text: string]; value: null };
  saveText: { args: [suggestedName: string, text: string]; value: { path: string } | null };
  openFile: { args: [purpose: 'machine-config' | 'kubeconfig' | 'ca' | 'team-profile']; value: FileChoice | null };
  openExternal: { args: [url: string]; value: null };
  /** What joining the profile would do; reads only. */
  previewJoin: { args: [source: JoinSource]; value: JoinPlan };
  /** Joins (as previewed; `confirmed` once the user answered the plan's question), then starts the sign-in. */
  join: { args: [source: JoinSource, options: { confirmed: boolean }]; value: JoinResult };
  /** The team profile for a provider and its contexts, as the file to save and share. */
  exportTeam: { args: [request: ExportTeamRequest]; value: { text: string; suggestedName: string } };
}

export type InvokeChannel = keyof PocketKubeInvoke;

/** The list main registers and the preload exposes; `satisfies` keeps it in step with the interface. */
export const INVOKE_CHANNELS = [
  'getState',
  'signIn',
  'signOut',
  'refresh',
  'useContext',
  'addCluster',
  'removeCluster',
  'whoami',
  'talosPatch',
  'rbacBinding',
  'applyRbac',
  'doctor',
  'copyText',
  'saveText',
  'openFile',
  'openExternal',
  'previewJoin',
  'join',
  'exportTeam',
] as const satisfies readonly InvokeChannel[];

type MissingChannels = Exclude<InvokeChannel, (typeof INVOKE_CHANNELS)[number]>;
const _allChannelsListed: MissingChannels extends never ? true : never = true;
void _allChannelsListed;

export const STATE_CHANNEL = 'pocketkube:state';
export const invokeChannel = (name: InvokeChannel) => `pocketkube:${name}`;

/** What `window.pocketkube` is in the renderer. */
export type PocketKubeApi = {
  [K in InvokeChannel]: (...args: PocketKubeInvoke[K]['args']) => Promise<Result<PocketKubeInvoke[K]['value']>>;
} & {
  /** Pushed state; returns an unsubscribe function. */
  onState(listener: (state: AppState) => void): () => void;
};

/** What main implements; thrown errors are turned into `{ok:false}` by `toResult`. */
export type PocketKubeHandlers = {
  [K in InvokeChannel]: (...args: PocketKubeInvoke[K]['args']) => Promise<PocketKubeInvoke[K]['value']>;
};

export async function toResult<T>(run: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    const e = err as { code?: unknown; message?: string; needsSignIn?: boolean };
    return {
      ok: false,
      error: {
        code: typeof e?.code === 'string' ? e.code : 'error',
        message: e?.message ?? String(err),
        ...(e?.needsSignIn ? { needsSignIn: true } : {}),
      },
    };
  }
}
