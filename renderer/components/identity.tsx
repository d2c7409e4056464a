/** Who you are to your clusters: avatar, email badge, the ID token's countdown and its claims. */
import { useId, useState } from 'react';
import { DEFAULT_EXPIRY_POLICY, relativeTime } from '../../electron/shared/expiry.js';
import type { Identity } from '../../electron/shared/api.js';
import { CLAIM_MEANING, claimTime, clockFace, formatDateTime, initials, redact } from '../format.js';
import { RelativeTime, useNow } from '../time.js';
import { Segmented } from './ui.js';

export function displayName(identity: Identity | undefined, fallback: string): string {
  return identity?.name || identity?.preferredUsername || identity?.email || identity?.sub || fallback;
}

export function Avatar({ identity, fallback }: { identity?: Identity; fallback: string }) {
  const [broken, setBroken] = useState(false);
  const name = displayName(identity, fallback);
  if (identity?.picture && !broken) {
    return <img className="avatar" src={identity.picture} alt="" width={56} height={56} onError={() => setBroken(true)} referrerPolicy="no-referrer" />;
  }
  return (
    <span className="avatar avatar-initials" aria-hidden="true">
      {initials(name)}
    </span>
  );
}

export function EmailLine({ identity }: { identity: Identity }) {
  const id = useId();
  if (!identity.email) {
    return <p className="muted">Pocket ID sent no email address (the email scope was not granted).</p>;
  }
  const verified = identity.emailVerified;
  return (
    <div className="email">
      <span className="email-address">{identity.email}</span>{' '}
      <span className={`badge ${verified ? 'badge-ok' : 'badge-warn'}`} aria-describedby={id}>
        {verified ? 'verified' : verified === false ? 'not verified' : 'verification unknown'}
      </span>
      <p id={id} className="hint">
        {verified
          ? 'Clusters that name users by email accept you as this address.'
          : 'Clusters that name users by email refuse this token until the address is verified in Pocket ID. Clusters that name users by sub (PocketKube’s default) do not mind.'}
      </p>
    </div>
  );
}

/**
 * The ID token's live countdown and bar. It has its own once-a-second tick; nothing else re-renders.
 * "Soon" is the same threshold the tray and notifications use.
 */
export function TokenExpiry({ issuedAt, expiresAt, retrying }: { issuedAt: string; expiresAt: string; retrying?: string }) {
  const now = useNow();
  const start = Date.parse(issuedAt);
  const end = Date.parse(expiresAt);
  const total = Math.max(1, end - start);
  const left = Math.max(0, end - now);
  const state = left <= 0 ? 'expired' : left < DEFAULT_EXPIRY_POLICY.soonMs ? 'soon' : 'ok';
  const words = relativeTime(end, now);
  const percent = Math.round((left / total) * 100);
  return (
    <div className={`expiry expiry-${state}`}>
      <div className="expiry-line">
        <span className="countdown" role="timer" aria-label={`ID token ${left > 0 ? `expires ${words}` : `expired ${words}`}`}>
          {clockFace(left)}
        </span>
        <span className="expiry-words">
          {state === 'expired' ? (
            <>ID token expired {words}</>
          ) : (
            <>
              ID token expires {words}
              {state === 'soon' && <strong className="soon-flag"> · expiring soon</strong>}
            </>
          )}
          <span className="muted"> · at {formatDateTime(end)}</span>
        </span>
      </div>
      <progress className="expiry-bar" max={total} value={left} aria-label="ID token lifetime left" aria-valuetext={`${percent}% left, expires ${words}`} />
      {state !== 'ok' && (
        <p className="hint">
          {retrying
            ? `PocketKube could not refresh it yet (${retrying}) and keeps trying. If it runs out, sign in again.`
            : state === 'soon'
              ? 'PocketKube refreshes it by itself before it runs out; nothing to do.'
              : 'kubectl gets a fresh token the next time it asks, if the refresh token still works; otherwise sign in again.'}
        </p>
      )}
    </div>
  );
}

function ClaimValue({ name, value }: { name: string; value: unknown }) {
  const time = claimTime(name, value);
  if (time !== undefined) {
    return (
      <>
        <span>{formatDateTime(time)}</span> <span className="muted">(<RelativeTime at={time} />)</span>
        <span className="claim-raw">{String(value)}</span>
      </>
    );
  }
  if (Array.isArray(value)) return <>{value.length ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') : '(empty)'}</>;
  if (typeof value === 'string') return <>{value}</>;
  return <>{JSON.stringify(value)}</>;
}

/** Every claim of the ID token as a table, or as the JSON it came as. The token itself never reaches the window. */
export function ClaimsView({ claims, title = 'ID token claims' }: { claims: Record<string, unknown>; title?: string }) {
  const [mode, setMode] = useState<'table' | 'json'>('table');
  const id = useId();
  const safe = redact(claims);
  const names = Object.keys(safe).sort(claimOrder);
  return (
    <section className="claims" aria-labelledby={id}>
      <div className="section-head">
        <h3 id={id}>
          {title} <span className="muted">({names.length})</span>
        </h3>
        <Segmented
          label={`${title}: view as`}
          value={mode}
          onChange={setMode}
          options={[
            { value: 'table', label: 'Table' },
            { value: 'json', label: 'JSON' },
          ]}
        />
      </div>
      {mode === 'table' ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Claim</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {names.map((name) => (
                <tr key={name}>
                  <th scope="row">
                    <code>{name}</code>
                    {CLAIM_MEANING[name] && <span className="claim-meaning">{CLAIM_MEANING[name]}</span>}
                  </th>
                  <td>
                    <ClaimValue name={name} value={safe[name]} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <pre className="json" tabIndex={0} aria-label={`${title} as JSON`}>
          {JSON.stringify(safe, null, 2)}
        </pre>
      )}
    </section>
  );
}

const FIRST = ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'name', 'preferred_username', 'email', 'email_verified', 'groups'];
function claimOrder(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  return a.localeCompare(b);
}
