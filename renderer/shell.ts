/** What the views share besides the agent's state: moving between tabs, and the choices made in Setup. */
import { createContext, useContext } from 'react';
import type { JoinSource } from '../electron/shared/ipc.js';

export const TABS = [
  { id: 'account', label: 'Account', loading: 'Loading your account…' },
  { id: 'clusters', label: 'Clusters', loading: 'Loading your kubeconfig contexts…' },
  { id: 'setup', label: 'Setup', loading: 'Loading the setup guide…' },
  { id: 'diagnostics', label: 'Diagnostics', loading: 'Loading diagnostics…' },
] as const;
export type TabId = (typeof TABS)[number]['id'];

/** Setup's choices that other views compare against (the prefixes the cluster adds to names and groups). */
export interface SetupChoices {
  group: string;
  groupsPrefix: string;
  usernamePrefix: string;
  usernameClaim: 'sub' | 'email';
}
export const DEFAULT_CHOICES: SetupChoices = { group: '', groupsPrefix: 'oidc:', usernamePrefix: 'oidc:', usernameClaim: 'sub' };

export interface Shell {
  goTo: (tab: TabId) => void;
  choices: SetupChoices;
  setChoices: (update: Partial<SetupChoices>) => void;
  /** Opens the Join view on a profile source, or on its chooser. */
  openJoin: (source?: JoinSource) => void;
}
export const ShellContext = createContext<Shell>({ goTo: () => {}, choices: DEFAULT_CHOICES, setChoices: () => {}, openJoin: () => {} });
export const useShell = () => useContext(ShellContext);
