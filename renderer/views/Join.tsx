/**
 * Join a team: the preview of what a team profile would add or change here (from a pocketkube://join link,
 * or a file or address chosen in Setup), one "Join and sign in" button, and a second question when the plan
 * changes where an existing provider signs in. Nothing is written before that button.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { JoinSource } from '../../electron/shared/ipc.js';
import { joinPrompt, type JoinLine } from '../../electron/shared/join-link.js';
import type { JoinAction, JoinChange, JoinPlan, JoinResult } from '../../electron/shared/team.js';
import { useAction } from '../api.js';
import { Badge, ErrorNote, Field, InlineProblem, Loading, Note } from '../components/ui.js';

/** What opened the view: a source to preview at once, a link's refusal, or nothing yet (Setup's "Join a team…"). */
export interface JoinOpen {
  source?: JoinSource;
  problem?: string;
}

const ACTION_WORDS: Record<JoinAction, string> = { add: 'Add', update: 'Update', unchanged: 'Unchanged' };
const ACTION_BADGE: Record<JoinAction, 'accent' | 'warn' | 'neutral'> = { add: 'accent', update: 'warn', unchanged: 'neutral' };
const FIELD_WORDS: Record<string, string> = {
  issuer: 'Issuer',
  clientId: 'Client id',
  scopes: 'Scopes',
  callbackPort: 'Callback port',
  caData: 'Issuer CA',
  server: 'Server',
  certificateAuthorityData: 'Cluster CA',
  namespace: 'Namespace',
};

export function JoinView({ open, onClose }: { open: JoinOpen; onClose: () => void }) {
  const [source, setSource] = useState<JoinSource | undefined>(open.source);
  const [preview, runPreview] = useAction<JoinPlan>();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const headingId = useId();

  useEffect(() => headingRef.current?.focus(), []);
  useEffect(() => {
    if (source) void runPreview((api) => api.previewJoin(source));
  }, [source, runPreview]);

  const title = preview.status === 'done' ? `Join ${preview.value.team}` : 'Join a team';
  return (
    <section className="panel join" aria-labelledby={headingId}>
      <div className="section-head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          {title}
        </h2>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close
        </button>
      </div>
      {open.problem ? (
        <ErrorNote title="This link cannot be used" error={{ code: 'bad-link', message: open.problem }} />
      ) : !source ? (
        <ChooseSource onChosen={setSource} />
      ) : preview.status === 'pending' || preview.status === 'idle' ? (
        <Loading label="Reading the team profile…" />
      ) : preview.status === 'failed' ? (
        <ErrorNote title="Nothing was joined" error={preview.error}>
          {!open.source && (
            <button type="button" className="btn" onClick={() => setSource(undefined)}>
              Choose another profile
            </button>
          )}
        </ErrorNote>
      ) : (
        <Preview plan={preview.value} source={source} onClose={onClose} />
      )}
    </section>
  );
}

/** Setup's "Join a team…": the profile's file, or its https address. */
function ChooseSource({ onChosen }: { onChosen: (source: JoinSource) => void }) {
  const [url, setUrl] = useState('');
  const [problem, setProblem] = useState('');
  const [picking, runPick] = useAction<{ path: string; text: string } | null>();
  const pick = async () => {
    const r = await runPick((api) => api.openFile('team-profile'));
    if (r.ok && r.value) onChosen({ text: r.value.text, name: r.value.path });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const address = url.trim();
    if (!/^https?:\/\//i.test(address)) return setProblem('Paste the https:// address your admin shared (or choose the file instead).');
    setProblem('');
    onChosen({ url: address });
  };
  return (
    <div className="stack">
      <p className="hint">Your cluster admin shares a team profile: a file, or an address. PocketKube shows what it would add before anything is written.</p>
      <div className="row">
        <button type="button" className="btn" onClick={() => void pick()}>
          Choose profile file…
        </button>
      </div>
      {picking.status === 'failed' && <ErrorNote title="Could not read the file" error={picking.error} />}
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Or the profile's address" hint="https:// only (http just for this computer).">
          {(control) => <input {...control} type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://platform.example.com/team.yaml" />}
        </Field>
        <InlineProblem problem={problem} />
        <div className="row">
          <button type="submit" className="btn btn-primary">
            Preview
          </button>
        </div>
      </form>
    </div>
  );
}

function Changes({ changes, highlighted }: { changes: JoinChange[]; highlighted: boolean }) {
  if (!changes.length) return null;
  return (
    <ul className={`join-changes${highlighted ? ' join-changes-identity' : ''}`}>
      {changes.map((c) => (
        <li key={c.field}>
          {FIELD_WORDS[c.field] ?? c.field}: {c.from !== undefined && <code className="from">{c.from}</code>} <span aria-hidden="true">→</span>
          <span className="visually-hidden"> to </span> <code className="to">{c.to ?? '(none)'}</code>
        </li>
      ))}
    </ul>
  );
}

function Line({ line }: { line: JoinLine }) {
  return (
    <li className={`join-line${line.highlighted ? ' join-line-identity' : ''}`}>
      <div className="join-line-head">
        <Badge kind={line.highlighted ? 'error' : ACTION_BADGE[line.action]}>{ACTION_WORDS[line.action]}</Badge> <strong className="mono">{line.name}</strong>
      </div>
      <p className="muted small">
        {line.kind === 'context' ? (
          <>
            {line.server} · written to {line.detail}
          </>
        ) : (
          line.detail
        )}
      </p>
      <Changes changes={line.changes} highlighted={line.highlighted} />
    </li>
  );
}

function Preview({ plan, source, onClose }: { plan: JoinPlan; source: JoinSource; onClose: () => void }) {
  const prompt = joinPrompt(plan);
  const [asking, setAsking] = useState(false);
  const [joined, runJoin] = useAction<JoinResult>();
  const [provider, ...contexts] = prompt.lines;
  const join = (confirmed: boolean) => {
    setAsking(false);
    void runJoin((api) => api.join(source, { confirmed }));
  };
  if (joined.status === 'done') return <Joined result={joined.value} onClose={onClose} />;
  return (
    <div className="stack">
      <p className="muted small">
        Revision {plan.revision} · from <span className="path">{plan.source}</span>
      </p>
      <p role="status">
        {prompt.nothingToChange ? 'Everything in this profile is already set up here.' : `${prompt.changeCount} ${prompt.changeCount === 1 ? 'change' : 'changes'}; nothing is written until you join.`}
      </p>
      <h3>Provider</h3>
      <ul className="join-lines" aria-label="Provider">
        {provider && <Line line={provider} />}
      </ul>
      <h3>Contexts</h3>
      <ul className="join-lines" aria-label="Contexts">
        {contexts.map((l) => (
          <Line key={l.name} line={l} />
        ))}
      </ul>
      {prompt.warnings.map((w) => (
        <Note key={w} kind="warn">
          <p>{w}</p>
        </Note>
      ))}
      {asking && prompt.question ? (
        <Question question={prompt.question} onYes={() => join(true)} onNo={() => setAsking(false)} />
      ) : (
        <div className="row actions">
          <button type="button" className="btn btn-primary" disabled={joined.status === 'pending'} onClick={() => (prompt.needsConfirmation ? setAsking(true) : join(false))}>
            {joined.status === 'pending' ? 'Joining…' : 'Join and sign in'}
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
        </div>
      )}
      {joined.status === 'failed' && <ErrorNote title="Nothing was joined" error={joined.error} />}
    </div>
  );
}

/** The plan's second question, focused when it appears so a screen reader reads it at once. */
function Question({ question, onYes, onNo }: { question: string; onYes: () => void; onNo: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="note note-warn" role="alertdialog" aria-labelledby={id} tabIndex={-1} ref={ref}>
      <p id={id}>{question}</p>
      <div className="row">
        <button type="button" className="btn btn-danger" onClick={onYes}>
          Change it and join
        </button>
        <button type="button" className="btn" onClick={onNo}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Joined({ result, onClose }: { result: JoinResult; onClose: () => void }) {
  const { plan } = result;
  return (
    <div className="stack">
      <Note kind="ok" title={`Joined ${plan.team}`}>
        <p>
          Provider {plan.provider.name} and {plan.contexts.length} {plan.contexts.length === 1 ? 'context' : 'contexts'} are set up
          {plan.currentContext ? `; kubectl now uses ${plan.currentContext}` : ''}.
        </p>
      </Note>
      <p role="status">
        {result.signedIn
          ? `You are already signed in to ${plan.provider.name}.`
          : !result.signIn
            ? `The sign-in to ${plan.provider.name} did not start: sign in from the Account view or the tray.`
            : result.signIn.method === 'device'
            ? `Finish signing in at ${result.signIn.url} with the code ${result.signIn.userCode ?? ''}.`
            : `Finish signing in to ${plan.provider.name} in your browser; the tray shows when you are in.`}
      </p>
      <div className="row">
        <button type="button" className="btn" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
