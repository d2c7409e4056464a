/**
 * PocketKube's kubeconfig writer: reads kubeconfig files the way kubectl merges them and adds, switches
 * and removes only the entries PocketKube owns, keeping every other byte of the user's files as it was.
 * No Electron here: the tray app, the headless agent, the CLI and the tests all use this module.
 */
export { KubeconfigError } from './errors.js';
export { kubeconfigFiles } from './files.js';
export { isOurs } from './ours.js';
export {
  addContext,
  addContexts,
  listContexts,
  isNamespaceName,
  removeContext,
  setCurrentNamespace,
  useContext,
  type AddContextOptions,
  type AddContextResult,
  type ContextInfo,
  type ExecSpec,
  type RemoveContextResult,
} from './kubeconfig.js';
export {
  importKubelogin,
  type ImportKubeloginOptions,
  type ImportKubeloginResult,
  type KubeloginUser,
  type ProviderToAdd,
} from './kubelogin.js';
export type { LockWait } from './lock.js';
export type { CommitInfo, FileOps, WriteObserver, WriteOptions } from './store.js';
