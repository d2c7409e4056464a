import Store from 'electron-store';
import type { PrefsData, PrefsPort } from './ports.js';

/**
 * The tray app's own preferences (providers and sessions stay in POCKETKUBE_HOME, shared with the CLI).
 * "Start at login" is not here: the OS keeps it, and the menu reads it back from there. No migrations, so
 * no version of its own: the app has one version number, package.json's.
 */
export function openPrefs(cwd: string): PrefsPort {
  const store = new Store<PrefsData>({
    cwd,
    name: 'app-prefs',
    schema: {
      closeHintShown: { type: 'boolean', default: false },
      firstRunDone: { type: 'boolean', default: false },
      window: {
        type: 'object',
        properties: { width: { type: 'number', minimum: 360 }, height: { type: 'number', minimum: 480 }, x: { type: 'number' }, y: { type: 'number' } },
        default: { width: 420, height: 640 },
      },
    },
  });
  return { get: (key) => store.get(key), set: (key, value) => store.set(key, value as Exclude<typeof value, undefined>) };
}
