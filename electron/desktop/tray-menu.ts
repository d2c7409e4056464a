/**
 * The tray, as pure functions of state: the menu template, the icon, the tooltip and the notifications.
 * Electron only renders what these return (and rebuilds the menu on every change: Linux needs it set again).
 */
import type { ContextInfo } from '../core/kubeconfig/index.js';
import type { AppState } from '../shared/ipc.js';
import { relativeTime } from '../shared/expiry.js';
import type { SessionSnapshot } from '../core/session/session.js';

export type TrayAction =
  | { kind: 'sign-in'; provider: string }
  | { kind: 'sign-out'; provider: string }
  | { kind: 'refresh'; provider: string }
  | { kind: 'use-context'; name: string }
  | { kind: 'copy-kubectl'; context: string }
  | { kind: 'open-window'; view?: 'account' | 'clusters' | 'setup' | 'diagnostics' }
  | { kind: 'add-cluster' }
  | { kind: 'toggle-start-at-login' }
  | { kind: 'take-over' }
  | { kind: 'quit' };

export interface MenuItemModel {
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio';
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  submenu?: MenuItemModel[];
  action?: TrayAction;
}

export interface TrayPrefs {
  startAtLogin: boolean;
}

export type TrayIconState = 'signed-in' | 'expiring' | 'signed-out';

/** "Token expires in 42 min": the words every surface uses for the ID token's expiry. */
export function expiryLine(p: SessionSnapshot, now: number): string | undefined {
  if (!p.idToken) return undefined;
  const at = Date.parse(p.idToken.expiresAt);
  return at <= now ? `Token expired ${relativeTime(at, now)}` : `Token expires ${relativeTime(at, now)}`;
}

function who(p: SessionSnapshot): string {
  const id = p.identity;
  if (!id) return p.provider;
  return [id.name, id.email ? `(${id.email})` : undefined].filter(Boolean).join(' ') || id.sub;
}

/** A session that cannot refresh (offline, or its last refresh failed) and is close to expiry. */
function failing(p: SessionSnapshot): boolean {
  return p.state === 'signed-in' && p.lastRefresh?.result === 'retrying';
}

export function trayIconState(state: AppState, now: number): TrayIconState {
  const providers = state.status.providers;
  if (!providers.length || providers.every((p) => p.state === 'signed-out')) return 'signed-out';
  for (const p of providers) {
    if (p.state !== 'signed-in' || !p.idToken) continue;
    const left = Date.parse(p.idToken.expiresAt) - now;
    if (left <= 0) return 'signed-out';
    if (failing(p) && left < 10 * 60_000) return 'expiring';
  }
  return providers.some((p) => p.state === 'signed-out') ? 'expiring' : 'signed-in';
}

export function tooltip(state: AppState, now: number): string {
  const lines = state.status.providers.map((p) =>
    p.state === 'signed-in' ? `${p.provider}: ${who(p)}, ${expiryLine(p, now)?.toLowerCase() ?? 'signed in'}` : `${p.provider}: signed out`,
  );
  return ['PocketKube', ...(lines.length ? lines : ['No provider yet'])].join('\n');
}

/** Contexts grouped by cluster, as radio items; the current one checked; foreign ones marked. */
function contextItems(contexts: ContextInfo[]): MenuItemModel[] {
  const byCluster = new Map<string, ContextInfo[]>();
  for (const c of contexts) {
    const key = c.cluster || '(no cluster)';
    if (!byCluster.has(key)) byCluster.set(key, []);
    byCluster.get(key)!.push(c);
  }
  const items: MenuItemModel[] = [];
  for (const [cluster, list] of [...byCluster].sort(([a], [b]) => a.localeCompare(b))) {
    items.push({ label: cluster, enabled: false });
    for (const c of list) {
      items.push({
        type: 'radio',
        label: `${c.name}${c.ours ? '' : '  (not PocketKube)'}`,
        checked: c.current,
        action: { kind: 'use-context', name: c.name },
      });
    }
  }
  return items;
}

const MAX_CONTEXTS_INLINE = 30;

export function buildTrayMenu(state: AppState, now: number, prefs: TrayPrefs): MenuItemModel[] {
  const menu: MenuItemModel[] = [];
  const providers = state.status.providers;
  if (state.owner === 'external') {
    menu.push({ label: 'Sessions are kept by a headless pocketkube agent', enabled: false });
    menu.push({ label: 'Take over from the agent', action: { kind: 'take-over' } });
    menu.push({ type: 'separator' });
  }
  if (!providers.length) {
    menu.push({ label: 'No Pocket ID connected yet', enabled: false });
    menu.push({ label: 'Set up PocketKube…', action: { kind: 'open-window', view: 'setup' } });
  }
  for (const p of providers) {
    if (p.state === 'signed-in') {
      menu.push({ label: who(p), enabled: false });
      const line = expiryLine(p, now);
      if (line) menu.push({ label: failing(p) ? `${line} (cannot refresh)` : line, enabled: false });
      const groups = p.identity?.groups ?? [];
      menu.push({
        label: `Groups (${groups.length})`,
        type: 'submenu',
        submenu: groups.length ? groups.map((g) => ({ label: g, enabled: false })) : [{ label: 'No groups in the token', enabled: false }],
      });
      menu.push({ label: 'Refresh now', action: { kind: 'refresh', provider: p.provider } });
      menu.push({ label: providers.length > 1 ? `Sign out of ${p.provider}` : 'Sign out', action: { kind: 'sign-out', provider: p.provider } });
    } else {
      menu.push({ label: `${p.provider}: signed out`, enabled: false });
      if (p.signingIn) menu.push({ label: 'Sign-in under way in your browser…', enabled: false });
      else menu.push({ label: providers.length > 1 ? `Sign in to ${p.provider}…` : 'Sign in…', action: { kind: 'sign-in', provider: p.provider } });
    }
    menu.push({ type: 'separator' });
  }

  const contexts = state.contexts.contexts;
  if (state.contexts.errors.length) menu.push({ label: `Kubeconfig problem: ${state.contexts.errors[0]}`, enabled: false });
  if (contexts.length) {
    const items = contextItems(contexts);
    if (contexts.length <= MAX_CONTEXTS_INLINE) {
      menu.push({ label: 'Kubernetes contexts', enabled: false }, ...items);
    } else {
      menu.push({ label: `Kubernetes contexts (${contexts.length})`, type: 'submenu', submenu: items });
    }
    const current = contexts.find((c) => c.current);
    if (current) menu.push({ label: `Copy kubectl command for ${current.name}`, action: { kind: 'copy-kubectl', context: current.name } });
  } else {
    menu.push({ label: 'No Kubernetes contexts', enabled: false });
  }
  menu.push({ label: 'Add cluster…', action: { kind: 'add-cluster' } });
  menu.push({ type: 'separator' });
  menu.push({ label: 'Open PocketKube…', action: { kind: 'open-window' } });
  menu.push({ type: 'checkbox', label: 'Start at login', checked: prefs.startAtLogin, action: { kind: 'toggle-start-at-login' } });
  menu.push({ label: 'Quit PocketKube', action: { kind: 'quit' } });
  return menu;
}

/** The shell command the "Copy kubectl command" item puts on the clipboard. */
export function kubectlCommand(context: string): string {
  return `kubectl --context ${/^[\w@.:-]+$/.test(context) ? context : `'${context.replace(/'/g, `'\\''`)}'`} get pods`;
}

export interface NotificationModel {
  id: string;
  title: string;
  body: string;
  action?: TrayAction & { label: string };
}

/**
 * What to tell the user between two states: signed in; expiring and cannot refresh (with a Sign in action);
 * refresh failed; signed out by the provider. Each fires once per change, never repeatedly.
 */
export function notificationsFor(prev: AppState | undefined, next: AppState, now: number): NotificationModel[] {
  const out: NotificationModel[] = [];
  for (const p of next.status.providers) {
    const before = prev?.status.providers.find((x) => x.provider === p.provider);
    if (!before) continue;
    if (before.state === 'signed-out' && p.state === 'signed-in') {
      out.push({ id: `signed-in:${p.provider}`, title: `Signed in to ${p.provider}`, body: `${who(p)}; ${expiryLine(p, now)?.toLowerCase() ?? ''}`.trim() });
    }
    if (before.state === 'signed-in' && p.state === 'signed-out' && p.lastRefresh?.result === 'signed-out') {
      out.push({
        id: `signed-out:${p.provider}`,
        title: `Signed out of ${p.provider}`,
        body: p.lastRefresh.message ?? p.signedOutReason ?? 'Pocket ID ended the session.',
        action: { kind: 'sign-in', provider: p.provider, label: 'Sign in' },
      });
    }
    const failedNow = p.lastRefresh?.result === 'retrying' && p.lastRefresh.at !== before.lastRefresh?.at;
    if (failedNow && before.lastRefresh?.result !== 'retrying') {
      out.push({ id: `refresh-failed:${p.provider}`, title: `Cannot refresh ${p.provider}`, body: `${p.lastRefresh!.message ?? 'Refresh failed'} PocketKube keeps retrying.` });
    }
    const soon = (s: SessionSnapshot) => s.idToken !== undefined && failing(s) && Date.parse(s.idToken.expiresAt) - now < 5 * 60_000;
    if (soon(p) && !soon(before)) {
      out.push({
        id: `expiring:${p.provider}`,
        title: `${p.provider} session expiring`,
        body: `${expiryLine(p, now)} and PocketKube cannot refresh it. Sign in again to keep kubectl working.`,
        action: { kind: 'sign-in', provider: p.provider, label: 'Sign in' },
      });
    }
  }
  return out;
}
