/** The window: four views behind a tablist, all fed by the one state the agent pushes. */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { AppState, JoinSource } from '../electron/shared/ipc.js';
import { joinRequestFromHash } from '../electron/shared/join-link.js';
import { ErrorNote, Loading } from './components/ui.js';
import { DEFAULT_CHOICES, ShellContext, TABS, type SetupChoices, type TabId } from './shell.js';
import { useAppState, type Connection } from './state.js';
import { AccountView } from './views/Account.js';
import { ClustersView } from './views/Clusters.js';
import { DiagnosticsView } from './views/Diagnostics.js';
import { JoinView, type JoinOpen } from './views/Join.js';
import { SetupView } from './views/Setup.js';

function viewFromHash(): TabId {
  const asked = window.location.hash.slice(1);
  return TABS.find((t) => t.id === asked)?.id ?? 'account';
}

/** Each opening of the Join view is a new one (a second link replaces the first, half-done choices and all). */
let joinOpenings = 0;

/** A pocketkube://join link opens the window on `#join?profile=…` (or `#join?problem=…` when main refused it). */
function joinFromHash(): (JoinOpen & { key: number }) | null {
  const request = joinRequestFromHash(window.location.hash);
  if (!request) return null;
  return { key: ++joinOpenings, ...('profile' in request ? { source: { url: request.profile } } : { problem: request.problem }) };
}

export function App() {
  const [connection, retry] = useAppState();
  // The view the app asked for (the tray's "Set up…", "Add cluster…"): the page's #fragment, now and later.
  const [tab, setTab] = useState<TabId>(viewFromHash);
  const [join, setJoin] = useState(joinFromHash);
  useEffect(() => {
    const follow = () => {
      const asked = joinFromHash();
      if (asked) return setJoin(asked);
      setJoin(null);
      setTab(viewFromHash());
    };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  const openJoin = useCallback((source?: JoinSource) => setJoin({ key: ++joinOpenings, ...(source ? { source } : {}) }), []);
  const closeJoin = useCallback(() => {
    setJoin(null);
    // Forget the link's fragment, so the same link opened again is a change the window sees.
    if (joinRequestFromHash(window.location.hash)) history.replaceState(null, '', `#${viewFromHash()}`);
  }, []);
  const [choices, setChoicesState] = useState<SetupChoices>(DEFAULT_CHOICES);
  const tabRefs = useRef(new Map<TabId, HTMLButtonElement>());

  const goTo = useCallback((next: TabId) => {
    closeJoin();
    setTab(next);
    tabRefs.current.get(next)?.focus();
  }, [closeJoin]);
  const setChoices = useCallback((update: Partial<SetupChoices>) => setChoicesState((c) => ({ ...c, ...update })), []);
  const shell = useMemo(() => ({ goTo, choices, setChoices, openJoin }), [goTo, choices, setChoices, openJoin]);

  // A tablist as the ARIA pattern has it: one tab stop, arrows move and select, Home/End jump.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const to =
      event.key === 'ArrowRight' ? (i + 1) % TABS.length
      : event.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length
      : event.key === 'Home' ? 0
      : event.key === 'End' ? TABS.length - 1
      : -1;
    if (to < 0) return;
    event.preventDefault();
    goTo(TABS[to]!.id);
  };

  return (
    <ShellContext.Provider value={shell}>
      <div className="app">
        <header className="app-header">
          <div className="title-row">
            <h1>
              <span className="logo" aria-hidden="true">
                ⎈
              </span>{' '}
              PocketKube
            </h1>
            <StatusPill connection={connection} />
          </div>
          <div className="tabs" role="tablist" aria-label="PocketKube views" onKeyDown={onKeyDown}>
            {TABS.map((t) => (
              <button
                key={t.id}
                ref={(el) => {
                  if (el) tabRefs.current.set(t.id, el);
                  else tabRefs.current.delete(t.id);
                }}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`panel-${t.id}`}
                tabIndex={tab === t.id ? 0 : -1}
                onClick={() => {
                  closeJoin();
                  setTab(t.id);
                }}
              >
                {t.label}
              </button>
            ))}
          </div>
        </header>
        <main className="panels">
          {connection.phase === 'ready' && connection.state.owner === 'external' && (
            <p className="banner" role="note">
              A headless <code>pocketkube agent</code> owns the sessions; this window shows and changes them through it.
            </p>
          )}
          {join && <JoinView key={join.key} open={join} onClose={closeJoin} />}
          {TABS.map((t) => (
            // Every view stays mounted (hidden) so a half-done setup survives a look at another tab.
            <section key={t.id} role="tabpanel" id={`panel-${t.id}`} aria-labelledby={`tab-${t.id}`} hidden={Boolean(join) || tab !== t.id} tabIndex={0} className="panel">
              <Gate connection={connection} retry={retry} loading={t.loading}>
                {(state) => <View id={t.id} state={state} />}
              </Gate>
            </section>
          ))}
        </main>
      </div>
    </ShellContext.Provider>
  );
}

function View({ id, state }: { id: TabId; state: AppState }) {
  switch (id) {
    case 'account':
      return <AccountView state={state} />;
    case 'clusters':
      return <ClustersView state={state} />;
    case 'setup':
      return <SetupView state={state} />;
    case 'diagnostics':
      return <DiagnosticsView state={state} />;
  }
}

/** Loading and failure of the connection, the same in every view; the view itself handles its empty state. */
function Gate({ connection, retry, loading, children }: { connection: Connection; retry: () => void; loading: string; children: (state: AppState) => ReactNode }) {
  switch (connection.phase) {
    case 'loading':
      return <Loading label={loading} />;
    case 'no-bridge':
      return (
        <ErrorNote title="This page is not running inside PocketKube" error={{ code: 'ipc', message: 'The PocketKube API (window.pocketkube) is missing, so there is nothing to show.' }}>
          <button type="button" className="btn" onClick={retry}>
            Try again
          </button>
        </ErrorNote>
      );
    case 'failed':
      return (
        <ErrorNote title="PocketKube did not send its state" error={connection.error}>
          <button type="button" className="btn" onClick={retry}>
            Try again
          </button>
        </ErrorNote>
      );
    case 'ready':
      return <>{children(connection.state)}</>;
  }
}

function StatusPill({ connection }: { connection: Connection }) {
  if (connection.phase !== 'ready') return null;
  const providers = connection.state.status.providers;
  const signedIn = providers.filter((p) => p.state === 'signed-in');
  const text = !providers.length ? 'Not set up' : signedIn.length === providers.length ? 'Signed in' : signedIn.length ? `Signed in to ${signedIn.length} of ${providers.length}` : 'Signed out';
  const kind = !providers.length ? 'neutral' : signedIn.length === providers.length ? 'ok' : 'warn';
  return (
    <p className={`pill pill-${kind}`} role="status">
      {text}
    </p>
  );
}
