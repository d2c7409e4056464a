/** Clusters: every kubeconfig context, which are PocketKube's, the current one; switch, add, remove, whoami. */
import { useId, useState, type FormEvent } from 'react';
import type { AddClusterRequest, AppState, FileChoice } from '../../electron/shared/ipc.js';
import type { ContextInfo, SessionSnapshot } from '../../electron/shared/api.js';
import type { WhoAmI } from '../../electron/shared/talos.js';
import { useAction } from '../api.js';
import { Badge, Chips, EmptyState, ErrorNote, Field, FilePickField, InlineProblem, Note, ProviderSelect } from '../components/ui.js';
import { useShell } from '../shell.js';
import { RelativeTime } from '../time.js';
import { compareWhoami } from '../whoami.js';

export function ClustersView({ state }: { state: AppState }) {
  const { contexts, files, errors, changedAt, currentContext } = state.contexts;
  const providers = state.status.providers;
  const [adding, setAdding] = useState(false);
  const listId = useId();
  return (
    <div className="stack">
      {errors.length > 0 && (
        <Note kind="error" title={errors.length === 1 ? 'A kubeconfig file could not be read' : `${errors.length} kubeconfig files could not be read`}>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
          <p className="note-next">PocketKube writes nothing to a file it cannot read. Fix the line named above (kubectl refuses the file too), and this list updates by itself.</p>
        </Note>
      )}

      <div className="section-head">
        <h2 id={listId}>Contexts</h2>
        <button type="button" className="btn btn-primary" aria-expanded={adding} onClick={() => setAdding((v) => !v)}>
          {adding ? 'Close' : 'Add a cluster'}
        </button>
      </div>
      <p className="muted small">
        Current context: <strong>{currentContext ?? 'none'}</strong> · from {files.length ? files.join(', ') : 'no kubeconfig file'}
        {changedAt && (
          <>
            {' '}
            · changed <RelativeTime at={changedAt} />
          </>
        )}
      </p>

      {adding && <AddCluster contexts={contexts} providers={providers} onDone={() => setAdding(false)} />}

      {contexts.length ? (
        <ul className="contexts" aria-labelledby={listId}>
          {contexts.map((c) => (
            <ContextRow key={c.name} context={c} session={c.ours ? providers.find((p) => p.provider === c.user) : undefined} />
          ))}
        </ul>
      ) : (
        <EmptyState title="No contexts yet">
          <p>
            {files.length ? `None of ${files.join(', ')} holds a context.` : 'No kubeconfig file was found.'} Add a cluster: from the admin context <code>talosctl kubeconfig</code> wrote, from a server
            URL and CA file, or from a kubeconfig file.
          </p>
          {!adding && (
            <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
              Add a cluster
            </button>
          )}
        </EmptyState>
      )}
    </div>
  );
}

function ContextRow({ context, session }: { context: ContextInfo; session?: SessionSnapshot }) {
  const nameId = useId();
  const [use, runUse] = useAction<null>();
  const [who, runWho, resetWho] = useAction<WhoAmI>();
  const [removal, runRemove] = useAction<{ removed: string[] }>();
  const [confirming, setConfirming] = useState(false);
  return (
    <li className={`context card${context.current ? ' context-current' : ''}`} aria-labelledby={nameId} aria-current={context.current ? 'true' : undefined}>
      <div className="context-head">
        <h3 id={nameId} className="context-name">
          {context.name}
        </h3>
        <span className="row badges">
          {context.current && <Badge kind="accent">current</Badge>}
          {context.ours ? <Badge kind="ok">PocketKube</Badge> : <Badge kind="neutral">not PocketKube’s</Badge>}
        </span>
      </div>
      <dl className="facts compact">
        <dt>Cluster</dt>
        <dd>
          {context.cluster}
          {context.server && <span className="muted"> · {context.server}</span>}
        </dd>
        <dt>User</dt>
        <dd>
          {context.user}
          {context.ours && <span className="muted"> · Pocket ID tokens from PocketKube</span>}
        </dd>
        {context.namespace && (
          <>
            <dt>Namespace</dt>
            <dd>{context.namespace}</dd>
          </>
        )}
        <dt>File</dt>
        <dd className="path">{context.file}</dd>
      </dl>
      <div className="row actions">
        {!context.current && (
          <button type="button" className="btn btn-primary" aria-label={`Use ${context.name}`} disabled={use.status === 'pending'} onClick={() => void runUse((api) => api.useContext(context.name))}>
            {use.status === 'pending' ? 'Switching…' : 'Use'}
          </button>
        )}
        <button
          type="button"
          className="btn"
          aria-label={`Who am I on ${context.name}`}
          aria-expanded={who.status !== 'idle'}
          disabled={who.status === 'pending'}
          onClick={() => (who.status === 'done' || who.status === 'failed' ? resetWho() : void runWho((api) => api.whoami(context.name)))}
        >
          {who.status === 'pending' ? 'Asking the cluster…' : who.status === 'idle' ? 'Who am I?' : 'Hide who am I'}
        </button>
        {context.ours && !confirming && (
          <button type="button" className="btn btn-danger" aria-label={`Remove ${context.name}`} onClick={() => setConfirming(true)}>
            Remove
          </button>
        )}
      </div>
      {confirming && (
        <div className="note note-warn" role="group" aria-label={`Confirm removing ${context.name}`}>
          <p>
            Remove <strong>{context.name}</strong>? PocketKube takes out only the context, user and cluster entries it wrote in {context.file}; everything else stays as it is.
          </p>
          <div className="row">
            <button
              type="button"
              className="btn btn-danger"
              disabled={removal.status === 'pending'}
              onClick={() => void runRemove((api) => api.removeCluster(context.name)).then((r) => r.ok && setConfirming(false))}
            >
              {removal.status === 'pending' ? 'Removing…' : 'Remove it'}
            </button>
            <button type="button" className="btn" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {use.status === 'failed' && <ErrorNote title={`Could not switch to ${context.name}`} error={use.error} />}
      {removal.status === 'failed' && <ErrorNote title={`Could not remove ${context.name}`} error={removal.error} />}
      {who.status === 'failed' && <ErrorNote title={`${context.name} did not say who you are`} error={who.error} />}
      {who.status === 'done' && <WhoAmIPanel who={who.value} context={context} session={session} />}
    </li>
  );
}

function WhoAmIPanel({ who, context, session }: { who: WhoAmI; context: ContextInfo; session?: SessionSnapshot }) {
  const { choices } = useShell();
  const id = useId();
  const identity = session?.identity;
  if (!context.ours || !identity) {
    return (
      <section className="whoami" aria-labelledby={id}>
        <h4 id={id}>As {context.name} sees you</h4>
        <dl className="facts compact">
          <dt>Username</dt>
          <dd>
            <code>{who.username}</code>
          </dd>
          <dt>Groups</dt>
          <dd>
            <Chips items={who.groups} label="Groups the cluster sees" empty={<span className="muted">none</span>} />
          </dd>
        </dl>
        <p className="hint">{context.ours ? 'Sign in to compare these with your ID token’s groups.' : 'This context does not use a PocketKube token, so there are no token groups to compare.'}</p>
      </section>
    );
  }
  const cmp = compareWhoami(who, { groups: identity.groups, sub: identity.sub, email: identity.email }, choices);
  return (
    <section className="whoami" aria-labelledby={id}>
      <h4 id={id}>As {context.name} sees you</h4>
      <dl className="facts compact">
        <dt>Username</dt>
        <dd>
          <code>{cmp.username.seen}</code>
          {cmp.username.verdict === 'prefix' && cmp.username.expected && (
            <span className="mismatch"> · expected {cmp.username.expected}</span>
          )}
        </dd>
      </dl>
      <div className="table-wrap">
        <table className="compare">
          <caption className="visually-hidden">Your token’s groups next to the groups the cluster sees</caption>
          <thead>
            <tr>
              <th scope="col">In your token</th>
              <th scope="col">Cluster sees</th>
              <th scope="col">RBAC expects</th>
            </tr>
          </thead>
          <tbody>
            {cmp.rows.map((r) => (
              <tr key={r.token} className={`verdict-${r.verdict}`}>
                <td>
                  <code>{r.token}</code>
                </td>
                <td>{r.seenAs ? <code>{r.seenAs}</code> : <span className="mismatch">missing</span>}</td>
                <td>
                  <code>{r.expected}</code> <span className="verdict" aria-label={r.verdict === 'match' ? 'matches' : 'does not match'}>{r.verdict === 'match' ? '✓' : '✗'}</span>
                </td>
              </tr>
            ))}
            {!cmp.rows.length && (
              <tr>
                <td colSpan={3} className="muted">
                  Your token has no groups.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {cmp.others.length > 0 && (
        <p className="small muted">
          Also: {cmp.others.join(', ')} <span>(added by Kubernetes or not from your token)</span>
        </p>
      )}
      {cmp.actualPrefix !== undefined && cmp.actualPrefix !== choices.groupsPrefix ? (
        <Note kind="error" title="Prefix mismatch">
          <p>
            The cluster puts “{cmp.actualPrefix}” in front of your groups, but PocketKube’s RBAC bindings name them with “{choices.groupsPrefix}”. Bindings for {cmp.rows[0]?.expected ?? `${choices.groupsPrefix}GROUP`} will never
            match, so kubectl answers 403.
          </p>
          <p className="note-next">
            Make them equal: bind the groups as the cluster names them (groups prefix “{cmp.actualPrefix}” in Setup, step 3), or patch the cluster with groups prefix “{choices.groupsPrefix}” (Setup, step 2).
          </p>
        </Note>
      ) : cmp.rows.some((r) => r.verdict === 'missing') ? (
        <Note kind="warn" title="Some groups do not reach the cluster">
          <p>The cluster does not see every group of your token. Check the groups claim in the Talos patch (Setup, step 2), then refresh and ask again.</p>
        </Note>
      ) : !cmp.mismatch ? (
        <Note kind="ok">
          <p>The cluster sees your groups exactly as PocketKube’s RBAC bindings expect.</p>
        </Note>
      ) : null}
    </section>
  );
}

type Source = 'context' | 'server' | 'kubeconfig';

function AddCluster({ contexts, providers, onDone }: { contexts: ContextInfo[]; providers: SessionSnapshot[]; onDone: () => void }) {
  const formId = useId();
  const admins = contexts.filter((c) => !c.ours);
  const [provider, setProvider] = useState(providers[0]?.provider ?? '');
  const [source, setSource] = useState<Source>(admins.length ? 'context' : 'server');
  const [fromContext, setFromContext] = useState(admins.find((c) => c.name.startsWith('admin@'))?.name ?? admins[0]?.name ?? '');
  const [name, setName] = useState('');
  const [server, setServer] = useState('');
  const [caFile, setCaFile] = useState<string>('');
  const [kubeconfig, setKubeconfig] = useState<FileChoice | null>(null);
  const [namespace, setNamespace] = useState('');
  const [use, setUse] = useState(true);
  const [problem, setProblem] = useState('');
  const [added, runAdd] = useAction<{ context: string; file: string }>();
  const [picking, runPick] = useAction<FileChoice | null>();

  if (!providers.length) {
    return (
      <Note kind="warn" title="Add a Pocket ID provider first">
        <p>A PocketKube context signs in through a provider. Follow Setup, step 1, then come back.</p>
      </Note>
    );
  }

  const pick = async (purpose: 'ca' | 'kubeconfig') => {
    const r = await runPick((api) => api.openFile(purpose));
    if (!r.ok || !r.value) return;
    if (purpose === 'ca') setCaFile(r.value.path);
    else setKubeconfig(r.value);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const request: AddClusterRequest = { provider, use };
    if (namespace.trim()) request.namespace = namespace.trim();
    if (name.trim()) request.name = name.trim();
    if (source === 'context') {
      if (!fromContext) return setProblem('Choose the admin context whose server and CA the new context should use.');
      request.fromContext = fromContext;
    } else if (source === 'server') {
      if (!name.trim()) return setProblem('Give the cluster a name, e.g. prod; the context becomes ' + `${provider}@prod.`);
      if (!/^https:\/\/.+/.test(server.trim())) return setProblem('The server URL must start with https://, e.g. https://10.0.0.10:6443.');
      request.server = server.trim();
      if (caFile) request.caFile = caFile;
    } else {
      if (!kubeconfig) return setProblem('Choose the kubeconfig file talosctl wrote (talosctl kubeconfig FILE).');
      request.kubeconfigText = kubeconfig.text;
    }
    setProblem('');
    const r = await runAdd((api) => api.addCluster(request));
    if (r.ok) setName('');
  };

  return (
    <form className="card form" aria-labelledby={formId} onSubmit={(e) => void submit(e)} noValidate>
      <h3 id={formId}>Add a cluster</h3>
      <ProviderSelect label="Sign in with" value={provider} providers={providers} onChange={setProvider} />
      <fieldset className="field">
        <legend className="field-label">Where the cluster is</legend>
        <label className="choice">
          <input type="radio" name="source" checked={source === 'context'} onChange={() => setSource('context')} disabled={!admins.length} /> From talosctl’s admin context
        </label>
        <label className="choice">
          <input type="radio" name="source" checked={source === 'server'} onChange={() => setSource('server')} /> From a server URL and CA file
        </label>
        <label className="choice">
          <input type="radio" name="source" checked={source === 'kubeconfig'} onChange={() => setSource('kubeconfig')} /> From a kubeconfig file
        </label>
      </fieldset>
      {source === 'context' && (
        <Field label="Admin context" hint="The new context reuses its server and CA, untouched; its client certificate stays yours alone.">
          {(control) => (
            <select {...control} value={fromContext} onChange={(e) => setFromContext(e.target.value)}>
              {admins.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                  {c.server ? ` (${c.server})` : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {source === 'server' && (
        <>
          <label className="field">
            <span className="field-label">API server URL</span>
            <input type="url" value={server} onChange={(e) => setServer(e.target.value)} placeholder="https://10.0.0.10:6443" required />
          </label>
          <FilePickField label="Cluster CA" button="Choose CA file…" chosen={caFile || 'none: the system’s trusted CAs'} onPick={() => void pick('ca')} />
        </>
      )}
      {source === 'kubeconfig' && (
        <FilePickField label="Kubeconfig file" button="Choose kubeconfig file…" chosen={kubeconfig?.path ?? 'none chosen'} onPick={() => void pick('kubeconfig')}>
          <span className="hint">Its first cluster is used (server and CA); its admin credentials are not copied.</span>
        </FilePickField>
      )}
      <Field
        label={`Cluster name${source === 'server' ? '' : ' (optional)'}`}
        hint={`The context is called ${provider}@${name.trim() || (source === 'context' ? fromContext.replace(/^.*@/, '') || 'NAME' : 'NAME')}.`}
      >
        {(control) => <input {...control} value={name} onChange={(e) => setName(e.target.value)} placeholder="prod" />}
      </Field>
      <label className="field">
        <span className="field-label">Namespace (optional)</span>
        <input value={namespace} onChange={(e) => setNamespace(e.target.value)} placeholder="default" />
      </label>
      <label className="choice">
        <input type="checkbox" checked={use} onChange={(e) => setUse(e.target.checked)} /> Switch kubectl to it
      </label>
      <InlineProblem problem={problem} />
      {picking.status === 'failed' && <ErrorNote title="Could not open the file" error={picking.error} />}
      {added.status === 'failed' && <ErrorNote title="The cluster was not added" error={added.error} />}
      {added.status === 'done' && (
        <Note kind="ok" title={`Added ${added.value.context}`}>
          <p>
            Written to {added.value.file}. Try <code>kubectl --context {added.value.context} get nodes</code>.
          </p>
        </Note>
      )}
      <div className="row actions">
        <button type="submit" className="btn btn-primary" disabled={added.status === 'pending'}>
          {added.status === 'pending' ? 'Adding…' : 'Add context'}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Done
        </button>
      </div>
    </form>
  );
}
