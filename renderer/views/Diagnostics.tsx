/** Diagnostics: the agent, where it listens, where secrets are kept, and what happened lately. No secrets. */
import { useState } from 'react';
import type { AppState, LogEntry } from '../../electron/shared/ipc.js';
import { CopyButton, EmptyState, Note } from '../components/ui.js';
import { formatDateTime, formatTime, redactText } from '../format.js';
import { RelativeTime } from '../time.js';


export function DiagnosticsView({ state }: { state: AppState }) {
  const { agent, providers } = state.status;
  const [problemsOnly, setProblemsOnly] = useState(false);
  const recent = [...state.recent].reverse().filter((e) => !problemsOnly || e.level !== 'info');
  const report = diagnosticsText(state);
  return (
    <div className="stack">
      <section aria-labelledby="diag-agent">
        <div className="section-head">
          <h2 id="diag-agent">Agent</h2>
          <CopyButton text={report} what="diagnostics" label="Copy report" />
        </div>
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <span className="dot dot-ok" aria-hidden="true" /> Running · pid {agent.pid} · {agent.mode === 'tray' ? 'tray app' : 'headless agent'} · version {agent.version}
          </dd>
          <dt>Started</dt>
          <dd>
            <RelativeTime at={agent.startedAt} /> <span className="muted">({formatDateTime(agent.startedAt)})</span>
          </dd>
          <dt>Sessions kept by</dt>
          <dd>{state.owner === 'app' ? 'this app' : 'a headless pocketkube agent (this app is its client)'}</dd>
          <dt>Socket</dt>
          <dd>
            <code className="path">{agent.socket}</code> <CopyButton text={agent.socket} what="socket path" />
          </dd>
          <dt>Secrets</dt>
          <dd>{agent.secrets.where}</dd>
          <dt>App</dt>
          <dd>
            PocketKube {state.version} on {state.platform}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="diag-sessions">
        <h2 id="diag-sessions">Sessions</h2>
        {providers.length ? (
          <ul className="plain-list">
            {providers.map((p) => (
              <li key={p.provider}>
                <strong>{p.provider}</strong>: {p.state === 'signed-in' ? 'signed in' : `signed out (${redactText(p.signedOutReason ?? 'not signed in')})`}
                {p.lastRefresh && (
                  <>
                    {' '}
                    · last refresh {p.lastRefresh.result} <RelativeTime at={p.lastRefresh.at} />
                    {p.lastRefresh.message && <span className="muted">: {redactText(p.lastRefresh.message)}</span>}
                  </>
                )}
                {p.nextRefreshAt && (
                  <>
                    {' '}
                    · next <RelativeTime at={p.nextRefreshAt} />
                  </>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No provider configured.</p>
        )}
      </section>

      <section aria-labelledby="diag-kubeconfig">
        <h2 id="diag-kubeconfig">Kubeconfig</h2>
        <ul className="plain-list">
          {state.contexts.files.map((f) => (
            <li key={f} className="path">
              {f}
            </li>
          ))}
        </ul>
        {state.contexts.errors.length > 0 && (
          <Note kind="error" title="Files PocketKube will not write">
            <ul>
              {state.contexts.errors.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          </Note>
        )}
      </section>

      <section aria-labelledby="diag-recent">
        <div className="section-head">
          <h2 id="diag-recent">Recent events</h2>
          <label className="choice small">
            <input type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} /> Only warnings and errors
          </label>
        </div>
        {recent.length ? (
          <ol className="log" aria-labelledby="diag-recent">
            {recent.map((e, i) => (
              <LogLine key={`${e.at}-${i}`} entry={e} />
            ))}
          </ol>
        ) : (
          <EmptyState title={problemsOnly && state.recent.length ? 'No warnings or errors' : 'Nothing has happened yet'}>
            <p>Refreshes, sign-ins and errors appear here as they happen.</p>
          </EmptyState>
        )}
      </section>
    </div>
  );
}

function LogLine({ entry }: { entry: LogEntry }) {
  return (
    <li className={`log-line log-${entry.level}`}>
      <time dateTime={entry.at} title={formatDateTime(entry.at)}>
        {formatTime(entry.at)}
      </time>
      <span className={`level level-${entry.level}`}>{entry.level}</span>
      <span className="log-message">{redactText(entry.message)}</span>
    </li>
  );
}

/** A plain-text summary to paste into an issue: paths, states and recent lines, never a token. */
export function diagnosticsText(state: AppState): string {
  const { agent, providers } = state.status;
  const lines = [
    `PocketKube ${state.version} on ${state.platform}; agent ${agent.version} (${agent.mode}, pid ${agent.pid}) since ${agent.startedAt}; sessions kept by ${state.owner}`,
    `socket: ${agent.socket}`,
    `secrets: ${agent.secrets.kind} ${agent.secrets.where}`,
    ...providers.map(
      (p) =>
        `${p.provider}: ${p.state}${p.signedOutReason ? ` (${p.signedOutReason})` : ''}; issuer ${p.issuer}; expires ${p.idToken?.expiresAt ?? '-'}; last refresh ${p.lastRefresh ? `${p.lastRefresh.result} at ${p.lastRefresh.at}` : '-'}`,
    ),
    `kubeconfig: ${state.contexts.files.join(', ')}; current ${state.contexts.currentContext ?? '-'}`,
    ...state.contexts.errors.map((e) => `kubeconfig error: ${e}`),
    ...state.recent.map((e) => `${e.at} ${e.level} ${e.message}`),
  ];
  return redactText(lines.join('\n'));
}
