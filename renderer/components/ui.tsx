/** Small building blocks every view uses: notes, empty and loading states, copy buttons, badges. */
import { useEffect, useId, type ReactNode } from 'react';
import type { Failure, SessionSnapshot } from '../../electron/shared/api.js';
import { useAction } from '../api.js';
import { redactText } from '../format.js';

/** What to do next, per error code, where the message alone would leave someone stuck. */
const NEXT_STEP: Record<string, string> = {
  ipc: 'Close this window and open it again from the tray. If that does not help, quit PocketKube and start it again.',
  offline: 'Check your network or VPN; PocketKube keeps trying by itself.',
  busy: 'A sign-in is already waiting in your browser: finish it there, or wait a moment and try again.',
  sign_in_failed: 'Try signing in again. If it keeps failing, run the checks in Setup, step 4.',
  signed_out: 'Sign in again, then try once more.',
  timeout: 'PocketKube did not answer in time. Try again; if it keeps happening, see Diagnostics.',
};

export function nextStepFor(error: Failure): string | undefined {
  // The code's own step first: a sign-in that failed (needsSignIn too) is not fixed by "sign in again" alone.
  return NEXT_STEP[error.code] ?? (error.needsSignIn ? NEXT_STEP.signed_out : undefined);
}

export function ErrorNote({ title, error, children }: { title: string; error: Failure; children?: ReactNode }) {
  const next = nextStepFor(error);
  return (
    <div className="note note-error" role="alert">
      <p className="note-title">{title}</p>
      <p>{redactText(error.message)}</p>
      {next && <p className="note-next">{next}</p>}
      {children && <div className="row">{children}</div>}
    </div>
  );
}

/** A problem with what was typed, said next to the form before anything is sent. */
export function InlineProblem({ problem }: { problem?: string | null }) {
  if (!problem) return null;
  return (
    <p className="inline-error" role="alert">
      {problem}
    </p>
  );
}

export function Note({ kind, title, children }: { kind: 'info' | 'warn' | 'ok' | 'error'; title?: string; children: ReactNode }) {
  return (
    <div className={`note note-${kind}`}>
      {title && <p className="note-title">{title}</p>}
      {children}
    </div>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** Copies through main (the clipboard of the sandboxed page is not reliable in Electron). */
export function CopyButton({ text, label, what }: { text: string; label?: string; what: string }) {
  const [state, run, reset] = useAction<null>();
  useEffect(() => {
    if (state.status !== 'done') return;
    const t = setTimeout(reset, 2000);
    return () => clearTimeout(t);
  }, [state.status, reset]);
  const visible = state.status === 'done' ? 'Copied' : (label ?? 'Copy');
  return (
    <>
      <button type="button" className="btn btn-small" aria-label={label ? undefined : `${visible} ${what}`} onClick={() => void run((api) => api.copyText(text))} disabled={state.status === 'pending'}>
        {visible}
      </button>
      <span className="visually-hidden" role="status">
        {state.status === 'done' ? `${what} copied` : ''}
      </span>
      {state.status === 'failed' && <span className="inline-error">Could not copy: {state.error.message}</span>}
    </>
  );
}

export function SaveButton({ text, suggestedName, what }: { text: string; suggestedName: string; what: string }) {
  const [state, run] = useAction<{ path: string } | null>();
  return (
    <>
      <button type="button" className="btn btn-small" aria-label={`Save… ${what} to a file`} onClick={() => void run((api) => api.saveText(suggestedName, text))} disabled={state.status === 'pending'}>
        Save…
      </button>
      <span role="status" className="save-result">
        {state.status === 'done' && state.value && `Saved to ${state.value.path}`}
      </span>
      {state.status === 'failed' && <span className="inline-error">Could not save: {state.error.message}</span>}
    </>
  );
}

/** A block of YAML or a command, with copy (and save) next to it. */
export function CodeBlock({ code, label, saveAs }: { code: string; label: string; saveAs?: string }) {
  const id = useId();
  return (
    <figure className="code">
      <figcaption>
        <span id={id}>{label}</span>
        <span className="row">
          <CopyButton text={code} what={label} />
          {saveAs && <SaveButton text={code} suggestedName={saveAs} what={label} />}
        </span>
      </figcaption>
      <pre aria-labelledby={id} tabIndex={0}>
        <code>{redactText(code)}</code>
      </pre>
    </figure>
  );
}

export function Badge({ kind, children, title }: { kind: 'ok' | 'warn' | 'error' | 'neutral' | 'accent'; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${kind}`} title={title}>
      {children}
    </span>
  );
}

export function Chips({ items, label, empty }: { items: string[]; label: string; empty?: ReactNode }) {
  if (!items.length) return <>{empty ?? null}</>;
  return (
    <ul className="chips" aria-label={label}>
      {items.map((g) => (
        <li key={g} className="chip">
          {g}
        </li>
      ))}
    </ul>
  );
}

export function CheckMark({ ok }: { ok: boolean | 'skipped' }) {
  const text = ok === 'skipped' ? 'skipped' : ok ? 'passed' : 'failed';
  return (
    <span className={`mark mark-${text}`} role="img" aria-label={text}>
      {ok === 'skipped' ? '–' : ok ? '✓' : '✗'}
    </span>
  );
}

/** A toggle group of two or three choices, as buttons with aria-pressed. */
export function Segmented<T extends string>({ label, value, options, onChange }: { label: string; value: T; options: { value: T; label: string }[]; onChange: (v: T) => void }) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map((o) => (
        <button key={o.value} type="button" aria-pressed={o.value === value} onClick={() => onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}

/** A labelled control with a hint beside it: the hint describes the control without becoming its name. */
export function Field({ label, hint, children }: { label: ReactNode; hint?: ReactNode; children: (control: { id: string; 'aria-describedby'?: string }) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children(hint ? { id, 'aria-describedby': `${id}-hint` } : { id })}
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}

/** The provider choice the Clusters form and the Setup guide both offer. */
export function ProviderSelect({ label, value, providers, onChange }: { label: string; value: string | undefined; providers: SessionSnapshot[]; onChange: (name: string) => void }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {providers.map((p) => (
          <option key={p.provider} value={p.provider}>
            {p.provider} ({p.issuer})
          </option>
        ))}
      </select>
    </label>
  );
}

/** A labelled "Choose … file" button with the chosen path beside it. */
export function FilePickField({ label, button, chosen, onPick, children }: { label: string; button: string; chosen: string; onPick: () => void; children?: ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <span className="field-label" id={id}>
        {label}
      </span>
      <div className="row">
        <button type="button" className="btn" aria-describedby={id} onClick={onPick}>
          {button}
        </button>
        <span className="path">{chosen}</span>
      </div>
      {children}
    </div>
  );
}
