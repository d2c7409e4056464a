/**
 * Setup: the seed guide as four checked steps. 1) the Pocket ID client, with a test sign-in; 2) the Talos
 * patch for the cluster's config shape; 3) the ClusterRoleBinding; 4) doctor's checks, each red one with its fix.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { AppState, FileChoice } from '../../electron/shared/ipc.js';
import type { ContextInfo, SessionSnapshot } from '../../electron/shared/api.js';
import type { DoctorCheck, RbacBinding, TalosPatch } from '../../electron/shared/talos.js';
import { useAction } from '../api.js';
import { ClaimsView } from '../components/identity.js';
import { CheckMark, CodeBlock, CopyButton, ErrorNote, Field, InlineProblem, Note, ProviderSelect } from '../components/ui.js';
import { plural } from '../format.js';
import { useShell } from '../shell.js';
import { TeamSection } from './Team.js';

const STEPS = [
  { n: 1, title: 'Pocket ID client' },
  { n: 2, title: 'Talos patch' },
  { n: 3, title: 'Access (RBAC)' },
  { n: 4, title: 'Verify' },
] as const;
type StepStatus = 'todo' | 'done' | 'attention';

export function SetupView({ state }: { state: AppState }) {
  const providers = state.status.providers;
  const { choices, setChoices } = useShell();
  const [providerName, setProviderName] = useState(providers[0]?.provider ?? '');
  const session = providers.find((p) => p.provider === providerName) ?? providers[0];
  const [step, setStep] = useState(1);
  const [patchDone, setPatchDone] = useState(false);
  const [rbacDone, setRbacDone] = useState(false);
  const [doctorStatus, setDoctorStatus] = useState<StepStatus>('todo');
  const headingRef = useRef<HTMLHeadingElement>(null);
  const moved = useRef(false);

  // The group the cluster should grant: what you typed, else your token's first group.
  useEffect(() => {
    if (!choices.group && session?.identity?.groups[0]) setChoices({ group: session.identity.groups[0] });
  }, [choices.group, session?.identity?.groups, setChoices]);

  useEffect(() => {
    if (moved.current) headingRef.current?.focus();
  }, [step]);
  const go = (n: number) => {
    moved.current = true;
    setStep(n);
  };

  const claims = session?.claims;
  const clientStatus: StepStatus = !session || session.state !== 'signed-in' ? 'todo' : claimProblems(session).length ? 'attention' : 'done';
  const statuses: Record<number, StepStatus> = { 1: clientStatus, 2: patchDone ? 'done' : 'todo', 3: rbacDone ? 'done' : 'todo', 4: doctorStatus };
  const current = STEPS[step - 1]!;

  return (
    <div className="setup">
      <nav aria-label="Setup steps">
        <ol className="steps">
          {STEPS.map((s) => (
            <li key={s.n}>
              <button type="button" className={`step step-${statuses[s.n]}`} aria-current={s.n === step ? 'step' : undefined} onClick={() => go(s.n)}>
                <span className="step-n" aria-hidden="true">
                  {statuses[s.n] === 'done' ? '✓' : statuses[s.n] === 'attention' ? '!' : s.n}
                </span>
                <span className="step-title">
                  <span className="visually-hidden">Step {s.n}: </span>
                  {s.title}
                  <span className="visually-hidden">{statuses[s.n] === 'done' ? ' (done)' : statuses[s.n] === 'attention' ? ' (needs attention)' : ''}</span>
                </span>
              </button>
            </li>
          ))}
        </ol>
      </nav>

      <section className="step-body" aria-labelledby="setup-step-heading">
        <h2 id="setup-step-heading" ref={headingRef} tabIndex={-1}>
          {current.n}. {current.title}
        </h2>
        {providers.length > 1 && (
          <ProviderSelect label="Provider" value={session?.provider} providers={providers} onChange={setProviderName} />
        )}
        <div hidden={step !== 1}>
          <ClientStep session={session} secretsWhere={state.status.agent.secrets.where} claims={claims} />
        </div>
        <div hidden={step !== 2}>{session ? <PatchStep session={session} onDone={setPatchDone} /> : <NeedProvider />}</div>
        <div hidden={step !== 3}>{session ? <RbacStep contexts={state.contexts.contexts} onDone={setRbacDone} /> : <NeedProvider />}</div>
        <div hidden={step !== 4}>{session ? <VerifyStep session={session} contexts={state.contexts.contexts} onResult={setDoctorStatus} /> : <NeedProvider />}</div>
        <div className="row actions step-nav">
          {step > 1 && (
            <button type="button" className="btn" onClick={() => go(step - 1)}>
              Back
            </button>
          )}
          {step < STEPS.length && (
            <button type="button" className="btn btn-primary" onClick={() => go(step + 1)}>
              Next: {STEPS[step]!.title}
            </button>
          )}
        </div>
      </section>
      <TeamSection state={state} />
    </div>
  );
}

function NeedProvider() {
  return (
    <Note kind="warn" title="No provider yet">
      <p>This step needs the Pocket ID client from step 1.</p>
    </Note>
  );
}

interface ClaimProblem {
  id: 'groups' | 'email' | 'issuer' | 'audience';
  kind: 'error' | 'warn';
  text: string;
}

function claimProblems(session: SessionSnapshot): ClaimProblem[] {
  const claims = session.claims;
  if (!claims) return [];
  const out: ClaimProblem[] = [];
  const groups = claims.groups;
  if (groups === undefined) {
    out.push({
      id: 'groups',
      kind: 'error',
      text: `The ID token has no groups claim, so RBAC on groups answers 403. ${session.scopes.includes('groups') ? 'Add yourself to a group this client allows in Pocket ID' : 'Request the groups scope (pocketkube provider add … --scope groups), and add yourself to a group this client allows in Pocket ID'}, then test again.`,
    });
  } else if (Array.isArray(groups) && groups.length === 0) {
    out.push({ id: 'groups', kind: 'error', text: 'The groups claim is empty: add yourself to a group this client allows in Pocket ID, then test again.' });
  }
  if (claims.email_verified === false) {
    out.push({
      id: 'email',
      kind: 'warn',
      text: 'Your email is not verified. A cluster that names users by email refuses this token; with the username claim sub (the default) it does not matter. Verify the address in Pocket ID, or keep sub.',
    });
  }
  if (claims.iss !== session.issuer) out.push({ id: 'issuer', kind: 'error', text: `The token's issuer ${String(claims.iss)} differs from ${session.issuer}; kube-apiserver compares them byte for byte.` });
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(session.clientId)) out.push({ id: 'audience', kind: 'error', text: `The token is not for client ${session.clientId} (aud: ${aud.join(', ')}).` });
  return out;
}

function ClientStep({ session, secretsWhere, claims }: { session?: SessionSnapshot; secretsWhere: string; claims?: Record<string, unknown> }) {
  const { choices, setChoices } = useShell();
  const [test, runTest] = useAction<{ method: 'browser' | 'device'; url: string; userCode?: string }>();
  if (!session) {
    const callback = 'http://localhost:8000';
    return (
      <div className="stack">
        <ol className="plain-steps">
          <li>
            In Pocket ID, open <strong>OIDC Clients</strong> and add one (e.g. “Kubernetes”). Set its callback URL to <code>{callback}</code>. Leave it a <strong>public client</strong> (PKCE, no
            secret) unless you need a confidential one.
          </li>
          <li>
            Under <strong>Allowed user groups</strong>, add the group(s) that may use the cluster: a new client allows nobody.
          </li>
          <li>Tell PocketKube about it; this window notices by itself.</li>
        </ol>
        <CodeBlock label="Command to add the provider" code="pocketkube provider add pocket-id --issuer https://id.example.com --client-id CLIENT_ID" />
      </div>
    );
  }
  const problems = claimProblems(session);
  const signedIn = session.state === 'signed-in';
  const hasGroupsScope = session.scopes.includes('groups');
  return (
    <div className="stack">
      <dl className="facts">
        <dt>Callback URL to register</dt>
        <dd>
          <code>{session.redirectUri}</code> <CopyButton text={session.redirectUri} what="callback URL" />
        </dd>
        <dt>Client</dt>
        <dd>
          <code>{session.clientId}</code> ·{' '}
          {session.confidential ? `confidential; the agent keeps its secret (${secretsWhere})` : 'public: PKCE, no secret (recommended)'}
        </dd>
        <dt>Scopes</dt>
        <dd>
          {session.scopes.join(' ')}
          {!hasGroupsScope && <span className="mismatch"> · groups missing: Pocket ID leaves the groups claim out</span>}
        </dd>
        <dt>Groups to allow</dt>
        <dd>In Pocket ID, under the client’s Allowed user groups, add the group that may use the cluster. A new client allows nobody.</dd>
      </dl>
      <Field
        label="Pocket ID group for Kubernetes"
        hint={
          <>
            The cluster sees it as <code>{choices.groupsPrefix}{choices.group || 'GROUP'}</code>; steps 3 and 4 use it.
          </>
        }
      >
        {(control) => <input {...control} value={choices.group} onChange={(e) => setChoices({ group: e.target.value })} placeholder="kubernetes" />}
      </Field>

      <h3>Test sign-in</h3>
      <p className="hint">Signs in through the browser and shows what the ID token says about you, flagging what a cluster would refuse.</p>
      <div className="row">
        <button type="button" className="btn btn-primary" disabled={test.status === 'pending' || Boolean(session.signingIn)} onClick={() => void runTest((api) => api.signIn(session.provider))}>
          {session.signingIn ? 'Waiting for the browser…' : signedIn ? 'Sign in again to test' : 'Test sign-in'}
        </button>
      </div>
      {test.status === 'failed' && <ErrorNote title="The test sign-in did not start" error={test.error} />}
      {session.signingIn && (
        <p role="status" className="hint">
          Finish signing in in your browser; the result shows here.
        </p>
      )}
      {signedIn && claims && (
        <div className="stack" role="region" aria-label="Test sign-in result">
          {problems.length ? (
            problems.map((p) => (
              <Note key={p.id} kind={p.kind} title={p.id === 'groups' ? 'Groups missing' : p.id === 'email' ? 'Email not verified' : p.id === 'issuer' ? 'Issuer differs' : 'Wrong audience'}>
                <p>{p.text}</p>
              </Note>
            ))
          ) : (
            <Note kind="ok" title="The ID token has what a cluster needs">
              <p>Issuer and client match, groups are present{claims.email_verified === true ? ' and the email is verified' : ''}.</p>
            </Note>
          )}
          <ClaimsView claims={claims} title="Claims from the test sign-in" />
        </div>
      )}
    </div>
  );
}

const VERSIONS = [
  { value: '1.14.0', label: 'Talos 1.14 or later' },
  { value: '1.13.0', label: 'Talos 1.13' },
  { value: '1.12.0', label: 'Talos 1.12' },
  { value: '1.11.0', label: 'Talos 1.11 or older' },
];

function PatchStep({ session, onDone }: { session: SessionSnapshot; onDone: (done: boolean) => void }) {
  const { choices, setChoices } = useShell();
  const [source, setSource] = useState<'file' | 'version'>('file');
  const [file, setFile] = useState<FileChoice | null>(null);
  const [version, setVersion] = useState(VERSIONS[0]!.value);
  const [nodes, setNodes] = useState('');
  const [patch, runPatch, resetPatch] = useAction<TalosPatch>();
  const [picking, runPick] = useAction<FileChoice | null>();
  const [problem, setProblem] = useState('');
  const id = useId();

  const changed = () => {
    resetPatch();
    onDone(false);
  };
  const pick = async () => {
    const r = await runPick((api) => api.openFile('machine-config'));
    if (r.ok && r.value) {
      setFile(r.value);
      changed();
    }
  };
  const make = async () => {
    if (source === 'file' && !file) return setProblem('Choose the control-plane machine config first (controlplane.yaml, or what talosctl read /system/state/config.yaml prints).');
    setProblem('');
    const r = await runPatch((api) =>
      api.talosPatch({
        provider: session.provider,
        ...(source === 'file' && file ? { machineConfigText: file.text, machineConfigName: file.path } : { talosVersion: version }),
        usernameClaim: choices.usernameClaim,
        usernamePrefix: choices.usernamePrefix,
        groupsPrefix: choices.groupsPrefix,
        nodes: nodes
          .split(/[\s,]+/)
          .map((n) => n.trim())
          .filter(Boolean),
      }),
    );
    onDone(r.ok);
  };

  return (
    <div className="stack">
      <p className="hint">kube-apiserver must trust Pocket ID’s tokens. The patch differs with the shape of the cluster’s machine config, which PocketKube reads from the file or infers from the version.</p>
      <fieldset className="field">
        <legend className="field-label">How to find the config shape</legend>
        <label className="choice">
          <input type="radio" name={`${id}-source`} checked={source === 'file'} onChange={() => (setSource('file'), changed())} /> Read the machine config
        </label>
        <label className="choice">
          <input type="radio" name={`${id}-source`} checked={source === 'version'} onChange={() => (setSource('version'), changed())} /> Go by the Talos version
        </label>
      </fieldset>
      {source === 'file' ? (
        <div className="field">
          <span className="field-label" id={`${id}-mc`}>
            Control-plane machine config
          </span>
          <div className="row">
            <button type="button" className="btn" aria-describedby={`${id}-mc`} onClick={() => void pick()}>
              Choose machine config…
            </button>
            <span className="path">{file?.path ?? 'none chosen'}</span>
          </div>
          <span className="hint">It is read here and never sent anywhere; its secrets are not shown.</span>
        </div>
      ) : (
        <label className="field">
          <span className="field-label">Talos version of the cluster</span>
          <select value={version} onChange={(e) => (setVersion(e.target.value), changed())}>
            {VERSIONS.map((v) => (
              <option key={v.value} value={v.value}>
                {v.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <fieldset className="field">
        <legend className="field-label">Name users by</legend>
        <label className="choice">
          <input type="radio" name={`${id}-claim`} checked={choices.usernameClaim === 'sub'} onChange={() => (setChoices({ usernameClaim: 'sub' }), changed())} /> sub: the Pocket ID user id
          (recommended; never changes)
        </label>
        <label className="choice">
          <input type="radio" name={`${id}-claim`} checked={choices.usernameClaim === 'email'} onChange={() => (setChoices({ usernameClaim: 'email' }), changed())} /> email (needs a
          verified email)
        </label>
      </fieldset>
      <details className="field">
        <summary>Prefixes</summary>
        <label className="field">
          <span className="field-label">Username prefix</span>
          <input value={choices.usernamePrefix} onChange={(e) => (setChoices({ usernamePrefix: e.target.value }), changed())} />
        </label>
        <Field label="Groups prefix" hint="RBAC bindings (step 3) must use the same prefix.">
          {(control) => <input {...control} value={choices.groupsPrefix} onChange={(e) => (setChoices({ groupsPrefix: e.target.value }), changed())} />}
        </Field>
      </details>
      <Field label="Control-plane nodes (optional)" hint="Only for the printed talosctl command.">
        {(control) => <input {...control} value={nodes} onChange={(e) => setNodes(e.target.value)} placeholder="10.0.0.2, 10.0.0.3" />}
      </Field>
      <InlineProblem problem={problem} />
      {picking.status === 'failed' && <ErrorNote title="Could not read the machine config" error={picking.error} />}
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={() => void make()} disabled={patch.status === 'pending'}>
          {patch.status === 'pending' ? 'Making the patch…' : patch.status === 'done' ? 'Make the patch again' : 'Make the patch'}
        </button>
      </div>
      {patch.status === 'failed' && <ErrorNote title="No patch was made" error={patch.error} />}
      {patch.status === 'done' && (
        <div className="stack" role="region" aria-label="Generated Talos patch">
          <Note kind="ok" title={patch.value.shape === 'multidoc' ? 'Shape: multi-document config (KubeAuthenticationConfig)' : 'Shape: legacy config (cluster.apiServer)'}>
            <p>{sentence(patch.value.shapeReason)}</p>
          </Note>
          <CodeBlock label="Talos patch" code={patch.value.patchYaml} saveAs="pocketkube-oidc-patch.yaml" />
          <CodeBlock label="talosctl command" code={patch.value.command} />
          {patch.value.notes.length > 0 && (
            <ul className="notes">
              {patch.value.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** The library's phrases as sentences: capital first, one full stop. */
function sentence(text: string): string {
  const t = text.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

const ROLES = [
  { value: 'cluster-admin', label: 'cluster-admin: everything' },
  { value: 'admin', label: 'admin: most things, per namespace' },
  { value: 'edit', label: 'edit: change workloads' },
  { value: 'view', label: 'view: read only' },
];

function adminContexts(contexts: ContextInfo[]): ContextInfo[] {
  const theirs = contexts.filter((c) => !c.ours);
  return [...theirs.filter((c) => c.name.startsWith('admin@')), ...theirs.filter((c) => !c.name.startsWith('admin@'))];
}

function RbacStep({ contexts, onDone }: { contexts: ContextInfo[]; onDone: (done: boolean) => void }) {
  const { choices, setChoices } = useShell();
  const admins = adminContexts(contexts);
  const [role, setRole] = useState('cluster-admin');
  const [adminContext, setAdminContext] = useState(admins[0]?.name ?? '');
  const [binding, runBinding, resetBinding] = useAction<RbacBinding>();
  const [applied, runApply, resetApply] = useAction<{ action: 'created' | 'updated' | 'unchanged' }>();
  const [problem, setProblem] = useState('');
  const request = { group: choices.group.trim(), clusterRole: role, groupsPrefix: choices.groupsPrefix };
  const changed = () => {
    resetBinding();
    resetApply();
    onDone(false);
  };
  const make = async () => {
    if (!request.group) return setProblem('Name the Pocket ID group first (as in step 1), e.g. kubernetes.');
    setProblem('');
    const r = await runBinding((api) => api.rbacBinding(request));
    onDone(r.ok);
  };
  const context = adminContext || admins[0]?.name || '';
  return (
    <div className="stack">
      <p className="hint">Members of the Pocket ID group get a ClusterRole. The binding names the group as the cluster sees it, with the prefix from step 2.</p>
      <label className="field">
        <span className="field-label">Pocket ID group</span>
        <input value={choices.group} onChange={(e) => (setChoices({ group: e.target.value }), changed())} placeholder="kubernetes" />
      </label>
      <label className="field">
        <span className="field-label">ClusterRole to grant</span>
        <select value={role} onChange={(e) => (setRole(e.target.value), changed())}>
          {ROLES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <InlineProblem problem={problem} />
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={() => void make()} disabled={binding.status === 'pending'}>
          {binding.status === 'done' ? 'Make the binding again' : 'Make the binding'}
        </button>
      </div>
      {binding.status === 'failed' && <ErrorNote title="No binding was made" error={binding.error} />}
      {binding.status === 'done' && (
        <div className="stack" role="region" aria-label="Generated ClusterRoleBinding">
          <CodeBlock label="ClusterRoleBinding" code={binding.value.yaml} saveAs="pocketkube-rbac.yaml" />
          {binding.value.notes.length > 0 && (
            <ul className="notes">
              {binding.value.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          <h3>Apply it</h3>
          {admins.length ? (
            <>
              <label className="field">
                <span className="field-label">Through the admin context</span>
                <select value={context} onChange={(e) => (setAdminContext(e.target.value), resetApply())}>
                  {admins.map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.name}
                    </option>
                  ))}
                </select>
              </label>
              <div className="row">
                <button type="button" className="btn btn-primary" disabled={applied.status === 'pending'} onClick={() => void runApply((api) => api.applyRbac({ ...request, context }))}>
                  {applied.status === 'pending' ? 'Applying…' : `Apply through ${context}`}
                </button>
              </div>
              {applied.status === 'done' && (
                <Note kind="ok" title={`ClusterRoleBinding ${applied.value.action}`}>
                  <p>
                    {applied.value.action === 'unchanged' ? 'It was already there, exactly like this.' : `Applied through ${context}.`} Members of {request.group} can now use the cluster
                    with the ClusterRole {role}.
                  </p>
                </Note>
              )}
              {applied.status === 'failed' && <ErrorNote title="The binding was not applied" error={applied.error} />}
            </>
          ) : (
            <p className="hint">No admin context to apply it with: save it and run the command below where you have cluster-admin.</p>
          )}
          <CodeBlock label="kubectl command" code={`kubectl ${context ? `--context ${context} ` : ''}apply -f pocketkube-rbac.yaml`} />
        </div>
      )}
    </div>
  );
}

function VerifyStep({ session, contexts, onResult }: { session: SessionSnapshot; contexts: ContextInfo[]; onResult: (s: StepStatus) => void }) {
  const { choices } = useShell();
  const ours = contexts.filter((c) => c.ours && c.user === session.provider);
  const [chosen, setChosen] = useState('');
  const context = chosen || ours.find((c) => c.current)?.name || ours[0]?.name || '';
  const [checks, runDoctor] = useAction<DoctorCheck[]>();
  const run = async () => {
    const r = await runDoctor((api) =>
      api.doctor({ provider: session.provider, ...(context ? { context } : {}), ...(choices.group ? { group: choices.group } : {}), usernameClaim: choices.usernameClaim }),
    );
    onResult(!r.ok ? 'attention' : r.value.some((c) => c.ok === false) ? 'attention' : 'done');
  };
  const failed = checks.status === 'done' ? checks.value.filter((c) => c.ok === false) : [];
  const passed = checks.status === 'done' ? checks.value.filter((c) => c.ok === true) : [];
  const skipped = checks.status === 'done' ? checks.value.filter((c) => c.ok === 'skipped') : [];
  return (
    <div className="stack">
      <p className="hint">Checks every link: Pocket ID’s discovery and keys, your token’s claims, the API server, the group it sees and RBAC.</p>
      {ours.length ? (
        <label className="field">
          <span className="field-label">Context to check</span>
          <select value={context} onChange={(e) => setChosen(e.target.value)}>
            {ours.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <Note kind="info">
          <p>No PocketKube context for {session.provider} yet: add one under Clusters to check the cluster too. The Pocket ID checks run without it.</p>
        </Note>
      )}
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={() => void run()} disabled={checks.status === 'pending'}>
          {checks.status === 'pending' ? 'Checking…' : checks.status === 'idle' ? 'Run the checks' : 'Run the checks again'}
        </button>
      </div>
      {checks.status === 'pending' && <p role="status">Checking Pocket ID{context ? ` and ${context}` : ''}…</p>}
      {checks.status === 'failed' && <ErrorNote title="The checks could not run" error={checks.error} />}
      {checks.status === 'done' && (
        <>
          <p role="status" className={failed.length ? 'summary summary-bad' : 'summary summary-ok'}>
            {failed.length ? `${plural(failed.length, 'check')} failed` : 'Everything checks out'} · {passed.length} passed{skipped.length ? ` · ${skipped.length} skipped` : ''}
          </p>
          <ul className="checks" aria-label="Checks">
            {checks.value.map((c, i) => (
              <li key={`${c.id}-${i}`} className={`check check-${c.ok === 'skipped' ? 'skipped' : c.ok ? 'ok' : 'bad'}`}>
                <CheckMark ok={c.ok} />
                <div>
                  <p className="check-title">{c.title}</p>
                  <p className="check-detail">{c.detail}</p>
                  {c.ok === false && c.fix && (
                    <p className="check-fix">
                      <strong>Fix:</strong> {c.fix}
                    </p>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
