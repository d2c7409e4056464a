/**
 * Setup's team part: "Join a team…" (opens the Join view on a file or address) and "Export team profile"
 * (the provider and its contexts as the file an admin shares, saved through main, plus the join link for it).
 */
import { useId, useState } from 'react';
import type { AppState } from '../../electron/shared/ipc.js';
import { joinLinkFor } from '../../electron/shared/join-link.js';
import { profileUrlProblem } from '../../electron/shared/team.js';
import { useAction } from '../api.js';
import { CodeBlock, ErrorNote, Field, InlineProblem, ProviderSelect, Segmented } from '../components/ui.js';
import { useShell } from '../shell.js';

export function TeamSection({ state }: { state: AppState }) {
  const { openJoin } = useShell();
  const headingId = useId();
  const providers = state.status.providers;
  return (
    <section className="stack team" aria-labelledby={headingId}>
      <h2 id={headingId}>Team</h2>
      <p className="hint">Join your team’s clusters from the profile an admin shared, or, as the admin, share yours: one file holds the provider and the clusters, never a secret.</p>
      <div className="row">
        <button type="button" className="btn" onClick={() => openJoin()}>
          Join a team…
        </button>
      </div>
      {providers.length > 0 && <ExportTeam state={state} />}
    </section>
  );
}

function ExportTeam({ state }: { state: AppState }) {
  const { choices } = useShell();
  const providers = state.status.providers;
  const [providerName, setProviderName] = useState(providers[0]!.provider);
  const provider = providers.find((p) => p.provider === providerName) ?? providers[0]!;
  const ours = state.contexts.contexts.filter((c) => c.ours && c.user === provider.provider);
  const [left, setLeft] = useState<string[]>([]);
  const [team, setTeam] = useState('');
  const [format, setFormat] = useState<'yaml' | 'json'>('yaml');
  const [address, setAddress] = useState('');
  const [exported, runExport, resetExport] = useAction<{ text: string; suggestedName: string }>();
  const included = ours.filter((c) => !left.includes(c.name)).map((c) => c.name);
  const changed = () => resetExport();
  const addressProblem = address.trim() ? profileUrlProblem(address.trim()) : undefined;

  return (
    <div className="stack">
      <h3>Export team profile</h3>
      {providers.length > 1 && <ProviderSelect label="Provider to share" value={provider.provider} providers={providers} onChange={(n) => (setProviderName(n), changed())} />}
      {provider.confidential && <p className="hint">{provider.provider} has a client secret, which a profile never carries: PocketKube explains what to do when you export.</p>}
      <fieldset className="field">
        <legend className="field-label">Clusters to include</legend>
        {ours.length ? (
          ours.map((c) => (
            <label key={c.name} className="choice">
              <input
                type="checkbox"
                checked={!left.includes(c.name)}
                onChange={(e) => (setLeft((l) => (e.target.checked ? l.filter((n) => n !== c.name) : [...l, c.name])), changed())}
              />{' '}
              {c.name} <span className="muted small">{c.server}</span>
            </label>
          ))
        ) : (
          <p className="hint">No PocketKube context uses {provider.provider} yet: add one under Clusters first.</p>
        )}
      </fieldset>
      <Field label="Team name" hint={`Shown to developers as “Join ${team.trim() || provider.provider}”.`}>
        {(control) => <input {...control} value={team} onChange={(e) => (setTeam(e.target.value), changed())} placeholder={provider.provider} />}
      </Field>
      <Segmented
        label="File format"
        value={format}
        options={[
          { value: 'yaml', label: 'YAML' },
          { value: 'json', label: 'JSON' },
        ]}
        onChange={(f) => (setFormat(f), changed())}
      />
      <div className="row">
        <button
          type="button"
          className="btn btn-primary"
          disabled={exported.status === 'pending' || !included.length}
          onClick={() => void runExport((api) => api.exportTeam({ provider: provider.provider, contexts: included, team: team.trim(), group: choices.group.trim(), format }))}
        >
          Export team profile
        </button>
      </div>
      {exported.status === 'failed' && <ErrorNote title="No profile was made" error={exported.error} />}
      {exported.status === 'done' && (
        <div className="stack" role="region" aria-label="Team profile">
          <CodeBlock label="Team profile" code={exported.value.text} saveAs={exported.value.suggestedName} />
          <Field label="Where you will publish it (optional)" hint="The join link opens PocketKube on this profile’s preview.">
            {(control) => <input {...control} type="url" value={address} onChange={(e) => setAddress(e.target.value)} placeholder="https://platform.example.com/team.yaml" />}
          </Field>
          <InlineProblem problem={addressProblem} />
          {address.trim() && !addressProblem && <CodeBlock label="Join link" code={joinLinkFor(new URL(address.trim()).href)} />}
        </div>
      )}
    </div>
  );
}
