/**
 * The test bridge: `window.pocketkube` inside the page, implemented in the test process over fixture state.
 *
 * The page gets the same shape the preload exposes (every channel of INVOKE_CHANNELS plus `onState`); each
 * call crosses to Node through one Playwright binding, runs a handler here, and comes back as a `Result`
 * made by the schema's own `toResult`, as main's handlers do. Handlers change `state` and push it, so the
 * window sees a change exactly as it would from the agent. The Talos patch and RBAC binding come from the
 * real `talosPatch` and `rbacBinding`; the rest is fixture data. Every call is recorded in `calls`.
 * A failing call answers what the real handler answers: tests take it from real-failures.ts, which runs
 * main's controller on real bad input, and pass it to `fail`.
 */
import type { Page } from 'playwright-core';
import { INVOKE_CHANNELS, invokeChannel, toResult, type AppState, type InvokeChannel, type PocketKubeHandlers, type PocketKubeInvoke, type Result } from '../../electron/shared/ipc.js';
import type { Failure } from '../../electron/shared/api.js';
import type { ContextInfo, SessionSnapshot } from '../../electron/shared/api.js';
import { talosPatch } from '../../electron/core/talos/patch.js';
import { rbacBinding } from '../../electron/core/talos/rbac.js';
import { doctorChecks, KUBECONFIG, NOW, WHOAMI } from './fixtures.js';
import { planJoin } from '../../electron/core/team/join.js';
import { parseTeamProfile, teamProfileText } from '../../electron/core/team/profile.js';
import { resolveHome } from '../../electron/core/platform/home.js';
import type { JoinSource } from '../../electron/shared/ipc.js';
import type { TeamProfile } from '../../electron/shared/team.js';

export interface Call {
  channel: InvokeChannel;
  args: unknown[];
}

/** An error as main's handlers throw them: code, message and needsSignIn cross as data. */
export class HandlerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly needsSignIn?: boolean,
  ) {
    super(message);
  }
}

/** A call the fixture state has no answer for: the test should set one, or fail() the channel with a real failure. */
function fixtureGap(what: string): Error {
  return new Error(`test fixture gap: ${what}; give the fixture state an answer, or fail() the channel with a failure from real-failures.ts`);
}

type Handler<K extends InvokeChannel> = (...args: PocketKubeInvoke[K]['args']) => Promise<PocketKubeInvoke[K]['value']> | PocketKubeInvoke[K]['value'];
type Overrides = { [K in InvokeChannel]?: Handler<K> };

/** The files the file picker "chooses", per purpose; null is the user pressing Cancel. */
export type PickedFiles = Partial<Record<'machine-config' | 'kubeconfig' | 'ca' | 'team-profile', { path: string; text: string } | null>>;

export class FixtureBridge {
  readonly calls: Call[] = [];
  readonly pages = new Set<Page>();
  private overrides: Overrides = {};
  /** Channels whose call rejects, as Electron's ipcRenderer.invoke does when main has no handler for it. */
  private broken = new Set<InvokeChannel>();
  /** Until resolved, getState does not answer: the window's loading state. */
  private stateGate?: Promise<void>;
  files: PickedFiles = {};
  /** Team profiles "served" at https addresses (address → file text), for previewJoin and join. */
  profiles: Record<string, string> = {};

  constructor(public state: AppState) {}

  /** Replaces one channel's handler; throw a HandlerError from it to answer `{ok:false}`. */
  on<K extends InvokeChannel>(channel: K, handler: Handler<K>): this {
    this.broken.delete(channel);
    (this.overrides as Record<string, unknown>)[channel] = handler;
    return this;
  }

  /** Every call to `channel` answers this failure. */
  fail(channel: InvokeChannel, failure: Failure): this {
    (this.overrides as Record<string, unknown>)[channel] = () => {
      throw new HandlerError(failure.code, failure.message, failure.needsSignIn);
    };
    return this;
  }

  /** Every call to `channel` rejects in the page, with Electron's words for a channel main does not handle. */
  breakChannel(channel: InvokeChannel): this {
    this.broken.add(channel);
    return this;
  }

  /** Holds getState until the returned function is called. */
  holdState(): () => void {
    let release!: () => void;
    this.stateGate = new Promise<void>((resolve) => (release = resolve));
    return release;
  }

  callsTo(channel: InvokeChannel): unknown[][] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args);
  }

  async install(page: Page): Promise<void> {
    this.pages.add(page);
    page.once('close', () => this.pages.delete(page));
    await page.exposeBinding('__pocketkubeInvoke', (_source, channel: InvokeChannel, args: unknown[]) => this.invoke(channel, args));
    await page.addInitScript((channels: readonly string[]) => {
      type Listener = (state: unknown) => void;
      const w = window as unknown as Record<string, unknown> & { __pocketkubeInvoke: (channel: string, args: unknown[]) => Promise<unknown> };
      const listeners = new Set<Listener>();
      const api: Record<string, unknown> = {};
      for (const channel of channels) api[channel] = (...args: unknown[]) => w.__pocketkubeInvoke(channel, args);
      api.onState = (listener: Listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      };
      w.__pocketkubePush = (state: unknown) => {
        for (const l of listeners) l(state);
        return listeners.size;
      };
      w.pocketkube = Object.freeze(api);
    }, INVOKE_CHANNELS);
  }

  /** Sends the state to every page, as main does on every change of the agent. */
  async push(state?: AppState): Promise<void> {
    if (state) this.state = state;
    const snapshot = structuredClone(this.state);
    await Promise.all([...this.pages].map((p) => p.evaluate((s) => (window as unknown as { __pocketkubePush: (s: unknown) => number }).__pocketkubePush(s), snapshot)));
  }

  /** Changes one provider's snapshot and pushes. */
  async updateProvider(name: string, change: (s: SessionSnapshot) => SessionSnapshot): Promise<void> {
    this.state.status.providers = this.state.status.providers.map((p) => (p.provider === name ? change(p) : p));
    await this.push();
  }

  private async invoke(channel: InvokeChannel, args: unknown[]): Promise<Result<unknown>> {
    this.calls.push({ channel, args });
    if (this.broken.has(channel)) throw new Error(`Error invoking remote method '${invokeChannel(channel)}': Error: No handler registered for '${invokeChannel(channel)}'`);
    const handler = (this.overrides[channel] ?? this.defaults[channel]) as (...a: unknown[]) => unknown;
    if (!handler) return { ok: false, error: { code: 'unknown_channel', message: `no handler for ${channel}` } };
    // Results cross the binding as JSON, as they cross Electron's IPC as structured clones.
    return structuredClone(await toResult(async () => handler(...args)));
  }

  private provider(name: string): SessionSnapshot {
    const p = this.state.status.providers.find((s) => s.provider === name);
    if (!p) throw fixtureGap(`no provider named ${name}`);
    return p;
  }

  /**
   * A join source read as main reads it (the real parser), planned by the real planJoin against the fixture's
   * providers and an empty kubeconfig (every context an add); nothing is ever written.
   */
  private async joinPlan(source: JoinSource) {
    let profile: TeamProfile;
    let where: string;
    if (typeof source.text === 'string') {
      where = source.name ?? 'the chosen file';
      profile = parseTeamProfile(source.text, where);
    } else {
      const text = source.url ? this.profiles[source.url] : undefined;
      where = source.url ?? '';
      if (text === undefined) throw new HandlerError('profile-unreachable', `${where} answered HTTP 404 (Not Found), not a team profile: check the address with your admin; nothing was changed.`);
      profile = parseTeamProfile(text, where);
    }
    const providers = async () => this.state.status.providers.map((p) => ({ name: p.provider, issuer: p.issuer, clientId: p.clientId, confidential: p.confidential, scopes: p.scopes, callbackPort: Number(new URL(p.redirectUri).port) }));
    const deps = { home: resolveHome({ POCKETKUBE_HOME: '/nonexistent/pocketkube-fixture-home' }), kubeconfigFiles: [KUBECONFIG], providers, saveProvider: async () => {} };
    return { profile, plan: await planJoin(deps, profile, where) };
  }

  private setContexts(list: ContextInfo[], current: string | undefined): void {
    this.state.contexts = {
      ...this.state.contexts,
      contexts: list.map((c) => ({ ...c, current: c.name === current })),
      ...(current ? { currentContext: current } : {}),
    };
    if (!current) delete this.state.contexts.currentContext;
  }

  /** Behaviour over the fixture state, close to what main's handlers do with the real services. */
  private readonly defaults: PocketKubeHandlers = {
    getState: async () => {
      await this.stateGate;
      return structuredClone(this.state);
    },
    signIn: async (provider, options) => {
      const p = this.provider(provider);
      const method: 'browser' | 'device' = options?.device ? 'device' : 'browser';
      const url = method === 'device' ? `${p.issuer}/device` : `${p.issuer}/authorize?client_id=${p.clientId}&redirect_uri=${encodeURIComponent(p.redirectUri)}`;
      const signingIn = method === 'device' ? { method, url, userCode: 'KQXW-PRTD' } : { method, url };
      await this.updateProvider(provider, (s) => ({ ...s, signingIn }));
      return signingIn;
    },
    signOut: async (provider) => {
      this.provider(provider);
      await this.updateProvider(provider, (s) => ({
        provider: s.provider,
        issuer: s.issuer,
        clientId: s.clientId,
        confidential: s.confidential,
        scopes: s.scopes,
        redirectUri: s.redirectUri,
        state: 'signed-out',
        signedOutReason: 'you signed out',
      }));
      return null;
    },
    refresh: async (provider) => {
      const p = this.provider(provider);
      if (p.state !== 'signed-in') throw fixtureGap(`refresh of ${provider}, which is not signed in`);
      await this.updateProvider(provider, (s) => ({ ...s, lastRefresh: { at: new Date(NOW).toISOString(), trigger: 'manual', result: 'ok' } }));
      return null;
    },
    useContext: async (name) => {
      const list = this.state.contexts.contexts;
      if (!list.some((c) => c.name === name)) throw fixtureGap(`no context named ${name}`);
      this.setContexts(list, name);
      await this.push();
      return null;
    },
    addCluster: async (request) => {
      this.provider(request.provider);
      const from = request.fromContext ? this.state.contexts.contexts.find((c) => c.name === request.fromContext) : undefined;
      if (request.fromContext && !from) throw fixtureGap(`no context named ${request.fromContext}`);
      const cluster = request.name ?? from?.cluster ?? 'talos';
      const context = `${request.provider}@${cluster}`;
      const info: ContextInfo = {
        name: context,
        cluster: from?.cluster ?? cluster,
        user: request.provider,
        file: KUBECONFIG,
        current: false,
        ours: true,
        ...(request.server ?? from?.server ? { server: request.server ?? from?.server } : {}),
        ...(request.namespace ? { namespace: request.namespace } : {}),
      };
      const list = [...this.state.contexts.contexts.filter((c) => c.name !== context), info];
      this.setContexts(list, request.use ? context : this.state.contexts.currentContext);
      await this.push();
      return { context, file: KUBECONFIG };
    },
    removeCluster: async (name) => {
      const ctx = this.state.contexts.contexts.find((c) => c.name === name);
      if (!ctx?.ours) throw fixtureGap(`removal of ${name}, which is not PocketKube's`);
      const list = this.state.contexts.contexts.filter((c) => c.name !== name);
      const current = this.state.contexts.currentContext === name ? undefined : this.state.contexts.currentContext;
      this.setContexts(list, current);
      await this.push();
      return { removed: [`context/${name} (${ctx.file})`, `cluster/${ctx.cluster} (${ctx.file})`] };
    },
    whoami: async (context) => {
      const who = WHOAMI[context];
      if (!who) throw fixtureGap(`no whoami answer for ${context} in WHOAMI`);
      return structuredClone(who);
    },
    talosPatch: async (request) => {
      const p = this.provider(request.provider);
      return talosPatch({ issuer: p.issuer, clientId: p.clientId, ...request });
    },
    rbacBinding: async (request) => rbacBinding(request),
    applyRbac: async (request) => {
      if (!this.state.contexts.contexts.some((c) => c.name === request.context)) throw fixtureGap(`no context named ${request.context}`);
      return { action: 'created' as const };
    },
    doctor: async () => doctorChecks(),
    copyText: async () => null,
    saveText: async (suggestedName) => ({ path: `/home/alice/${suggestedName}` }),
    openFile: async (purpose) => this.files[purpose] ?? null,
    openExternal: async () => null,
    previewJoin: async (source) => (await this.joinPlan(source)).plan,
    join: async (source, options) => {
      const { profile, plan } = await this.joinPlan(source);
      if (plan.needsConfirmation && !options.confirmed) throw new HandlerError('needs-confirmation', `Joining ${profile.team} changes where provider ${profile.provider.name} signs in, which must be confirmed; nothing was written.`);
      const signIn = { method: 'browser' as const, url: `${profile.provider.issuer}/authorize?client_id=${profile.provider.clientId}` };
      return { plan, signedIn: false, signIn };
    },
    exportTeam: async (request) => {
      const p = this.provider(request.provider ?? this.state.status.providers[0]?.provider ?? '');
      const ours = this.state.contexts.contexts.filter((c) => c.ours && c.user === p.provider && (!request.contexts || request.contexts.includes(c.name)));
      const team = request.team || p.provider;
      const profile: TeamProfile = {
        apiVersion: 'pocketkube/v1',
        kind: 'TeamProfile',
        team,
        revision: 1,
        provider: { name: p.provider, issuer: p.issuer, clientId: p.clientId, scopes: p.scopes },
        clusters: ours.map((c) => ({ name: c.cluster, server: c.server ?? '', certificateAuthorityData: 'LS0tLS1CRUdJTi…', ...(c.namespace ? { namespace: c.namespace } : {}), ...(request.group ? { group: request.group } : {}) })),
      };
      const format = request.format === 'json' ? 'json' : 'yaml';
      return { text: teamProfileText(profile, format), suggestedName: `${team}.pocketkube.${format}` };
    },
  };
}
