/** Account: per provider, who you are (name, email, groups), the ID token's countdown, and its claims. */
import { useId } from 'react';
import type { AppState } from '../../electron/shared/ipc.js';
import type { RefreshRecord, SessionSnapshot } from '../../electron/shared/api.js';
import { useShell } from '../shell.js';
import { useAction } from '../api.js';
import { Avatar, ClaimsView, displayName, EmailLine, TokenExpiry } from '../components/identity.js';
import { Chips, EmptyState, ErrorNote, Note } from '../components/ui.js';
import { formatDateTime, redactText } from '../format.js';
import { RelativeTime } from '../time.js';

export function AccountView({ state }: { state: AppState }) {
  const { goTo } = useShell();
  const providers = state.status.providers;
  if (!providers.length) {
    return (
      <EmptyState title="No Pocket ID provider yet">
        <p>PocketKube signs you in to a Pocket ID client. Register one in Pocket ID and tell PocketKube about it; the guide walks you through it.</p>
        <button type="button" className="btn btn-primary" onClick={() => goTo('setup')}>
          Open the setup guide
        </button>
      </EmptyState>
    );
  }
  return (
    <div className="stack">
      {providers.map((p) => (
        <ProviderCard key={p.provider} session={p} />
      ))}
    </div>
  );
}

const TRIGGER: Record<RefreshRecord['trigger'], string> = {
  background: 'in the background',
  'on-demand': 'when kubectl asked',
  manual: 'by you',
  resume: 'at start-up',
};

function LastRefresh({ record }: { record?: RefreshRecord }) {
  if (!record) return <>Not refreshed since you signed in.</>;
  const result = record.result === 'ok' ? 'succeeded' : record.result === 'retrying' ? 'failed; retrying' : 'failed; signed out';
  return (
    <>
      <span className={`result result-${record.result}`}>{result}</span> <RelativeTime at={record.at} /> ({TRIGGER[record.trigger]}, {formatDateTime(record.at)})
      {record.message && <span className="muted">: {redactText(record.message)}</span>}
    </>
  );
}

function ProviderCard({ session }: { session: SessionSnapshot }) {
  const headingId = useId();
  const [signIn, runSignIn] = useAction<{ method: 'browser' | 'device'; url: string; userCode?: string }>();
  const [signOut, runSignOut] = useAction<null>();
  const [refresh, runRefresh] = useAction<null>();
  const [openPage, runOpenPage] = useAction<null>();
  const name = displayName(session.identity, session.provider);
  const signedIn = session.state === 'signed-in';
  const busy = signIn.status === 'pending' || signOut.status === 'pending' || refresh.status === 'pending';
  const doSignIn = (device?: boolean) => void runSignIn((api) => api.signIn(session.provider, device ? { device: true } : undefined));

  return (
    <article className="card" aria-labelledby={headingId}>
      <header className="identity">
        <Avatar identity={signedIn ? session.identity : undefined} fallback={session.provider} />
        <div className="identity-text">
          <h2 id={headingId}>{signedIn ? name : session.provider}</h2>
          <p className="muted provider-line">
            {session.provider} · <span className="issuer">{session.issuer}</span>
          </p>
        </div>
      </header>

      {signedIn ? (
        <>
          {session.identity && <EmailLine identity={session.identity} />}
          <div className="field">
            <h3 className="field-label">Groups</h3>
            <Chips
              items={session.identity?.groups ?? []}
              label={`Groups of ${name}`}
              empty={
                <Note kind="warn" title="No groups in your token">
                  <p>Clusters that grant access by group will answer 403. Ask your Pocket ID admin to add you to a group this client allows, and check that the groups scope is requested (Setup, step 1).</p>
                </Note>
              }
            />
          </div>
          {session.idToken ? (
            <TokenExpiry
              issuedAt={session.idToken.issuedAt}
              expiresAt={session.idToken.expiresAt}
              retrying={session.lastRefresh?.result === 'retrying' ? (session.lastRefresh.message ?? 'no answer') : undefined}
            />
          ) : (
            <Note kind="info">
              <p>Signed in; the ID token arrives with the next refresh.</p>
            </Note>
          )}
          <dl className="facts">
            <dt>Last refresh</dt>
            <dd>
              <LastRefresh record={session.lastRefresh} />
            </dd>
            {session.nextRefreshAt && (
              <>
                <dt>Next refresh</dt>
                <dd>
                  <RelativeTime at={session.nextRefreshAt} /> <span className="muted">({formatDateTime(session.nextRefreshAt)})</span>
                </dd>
              </>
            )}
            <dt>Session</dt>
            <dd>Lasts until Pocket ID ends it or you sign out (Pocket ID does not say when its refresh token expires).</dd>
          </dl>
          {session.signingIn && (
            <p className="hint" role="status">
              Signing in again in your browser; this session stays in use until that finishes.
            </p>
          )}
          <div className="row actions">
            <button type="button" className="btn btn-primary" onClick={() => void runRefresh((api) => api.refresh(session.provider))} disabled={busy}>
              {refresh.status === 'pending' ? 'Refreshing…' : 'Refresh now'}
            </button>
            <button type="button" className="btn" onClick={() => void runSignOut((api) => api.signOut(session.provider))} disabled={busy}>
              {signOut.status === 'pending' ? 'Signing out…' : 'Sign out'}
            </button>
          </div>
        </>
      ) : (
        <>
          <Note kind="warn" title="Signed out">
            <p>{session.signedOutReason ? `Why: ${redactText(session.signedOutReason)}.` : 'Not signed in.'} kubectl gets no token for this provider until you sign in.</p>
          </Note>
          {session.signingIn ? (
            <Note kind="info" title="Waiting for you in the browser">
              {session.signingIn.userCode ? (
                <p>
                  Open <span className="url">{session.signingIn.url}</span> and enter the code <strong className="user-code">{session.signingIn.userCode}</strong>.
                </p>
              ) : (
                <p>Finish signing in with your passkey in the browser tab that opened. This window updates by itself.</p>
              )}
              <div className="row">
                <button type="button" className="btn" onClick={() => void runOpenPage((api) => api.openExternal(session.signingIn!.url))}>
                  Open the sign-in page again
                </button>
              </div>
              {openPage.status === 'failed' && <ErrorNote title="Could not open the browser" error={openPage.error} />}
            </Note>
          ) : (
            <div className="row actions">
              <button type="button" className="btn btn-primary" onClick={() => doSignIn()} disabled={busy}>
                {signIn.status === 'pending' ? 'Opening the browser…' : 'Sign in'}
              </button>
              <button type="button" className="btn" onClick={() => doSignIn(true)} disabled={busy}>
                Sign in with a code
              </button>
            </div>
          )}
        </>
      )}

      {signIn.status === 'failed' && <ErrorNote title="Sign-in did not start" error={signIn.error} />}
      {signOut.status === 'failed' && <ErrorNote title="Could not sign out" error={signOut.error} />}
      {refresh.status === 'failed' && (
        <ErrorNote title="Refresh failed" error={refresh.error}>
          {refresh.error.needsSignIn && (
            <button type="button" className="btn btn-primary" onClick={() => doSignIn()}>
              Sign in again
            </button>
          )}
        </ErrorNote>
      )}

      {signedIn && session.claims && <ClaimsView claims={session.claims} />}
    </article>
  );
}
