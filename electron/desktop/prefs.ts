import Store from 'electron-store';
import type { AgentOptions } from '../agent/agent.js';

/** The tray app's own preferences (providers and sessions stay in POCKETKUBE_HOME, shared with the CLI). */
export interface Prefs {
  startAtLogin: boolean;
  /** The "still running in the tray" hint is shown once. */
  closeHintShown: boolean;
  window: { width: number; height: number; x?: number; y?: number };
}

export function openPrefs(cwd: string): Store<Prefs> {
  return new Store<Prefs>({
    cwd,
    name: 'app-prefs',
    projectVersion: '0.3.0',
    schema: {
      startAtLogin: { type: 'boolean', default: false },
      closeHintShown: { type: 'boolean', default: false },
      window: {
        type: 'object',
        properties: { width: { type: 'number', minimum: 360 }, height: { type: 'number', minimum: 480 }, x: { type: 'number' }, y: { type: 'number' } },
        default: { width: 420, height: 640 },
      },
    },
    migrations: {
      // 0.1 kept a "hideOnClose" flag; closing now always keeps the app in the tray.
      '0.2.0': (store) => {
        (store as unknown as { delete(k: string): void }).delete('hideOnClose');
      },
      // 0.2 recorded a one-time secrets import; the import now runs whenever the app's own agent starts.
      '0.3.0': (store) => {
        (store as unknown as { delete(k: string): void }).delete('secretsImported');
      },
    },
  });
}

export type { AgentOptions };
