/**
 * The renderer's only door to main: `window.pocketkube`, typed by the IPC schema. Bundled into one CommonJS
 * file with `electron` external (sandboxed preloads cannot import modules). No raw ipcRenderer is exposed.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { INVOKE_CHANNELS, STATE_CHANNEL, invokeChannel, type AppState, type PocketKubeApi } from '../shared/ipc.js';

const api = Object.fromEntries(
  INVOKE_CHANNELS.map((name) => [name, (...args: unknown[]) => ipcRenderer.invoke(invokeChannel(name), ...args)]),
) as Omit<PocketKubeApi, 'onState'>;

const exposed: PocketKubeApi = {
  ...api,
  onState(listener: (state: AppState) => void) {
    const handler = (_event: IpcRendererEvent, state: AppState) => listener(state);
    ipcRenderer.on(STATE_CHANNEL, handler);
    return () => ipcRenderer.removeListener(STATE_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('pocketkube', exposed);
