import { readFile, writeFile } from 'node:fs/promises';
import { doctorForProvider, patchForProvider } from '../../core/talos/setup.js';
import { PocketKubeError, UsageError } from '../../core/platform/errors.js';
import type { Home } from '../../core/platform/home.js';
import type { AgentClient } from '../../client/agent-client.js';
import { applyRbac, formatChecks, rbacBinding, whoami, PATCH_FILE } from '../../core/talos/index.js';
import { colourOn, err, out, paintLines, parse } from '../io.js';


/** `pocketkube talos patch|rbac`: the Talos side of the seed guide, generated and checked. */
export async function cmdTalos(home: Home, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'patch') {
    const { values } = parse(rest, {
        provider: { type: 'string' },
        'machine-config': { type: 'string' },
        'talos-version': { type: 'string' },
        'username-claim': { type: 'string' },
        'username-prefix': { type: 'string' },
        'groups-prefix': { type: 'string' },
        nodes: { type: 'string' },
        out: { type: 'string' },
    });
    if (values['machine-config'] && values['talos-version']) throw new UsageError('give --machine-config or --talos-version, not both.');
    const claim = values['username-claim'];
    if (claim && claim !== 'sub' && claim !== 'email') throw new UsageError('--username-claim takes sub or email.');
    let machineConfigText: string | undefined;
    if (values['machine-config']) {
      try {
        machineConfigText = await readFile(values['machine-config'], 'utf8');
      } catch (e) {
        throw new PocketKubeError('unreadable_file', `cannot read the machine config ${values['machine-config']} (${(e as NodeJS.ErrnoException).code}).`);
      }
    }
    const patch = await patchForProvider(home, {
      provider: values.provider,
      machineConfigText,
      machineConfigName: values['machine-config'],
      talosVersion: values['talos-version'],
      usernameClaim: claim as 'sub' | 'email' | undefined,
      usernamePrefix: values['username-prefix'],
      groupsPrefix: values['groups-prefix'],
      nodes: values.nodes?.split(',').filter(Boolean),
    });
    if (values.out) {
      await writeFile(values.out, patch.patchYaml, { mode: 0o644 });
      err(`Wrote the ${patch.shape} patch to ${values.out} (${patch.shapeReason}).`);
    } else {
      out(patch.patchYaml);
      err(`# ${patch.shape} shape: ${patch.shapeReason}`);
    }
    err(`# Apply to every control-plane node: ${values.out ? patch.command.replace(PATCH_FILE, values.out) : patch.command}`);
    for (const n of patch.notes) err(`# ${n}`);
    return;
  }
  if (sub === 'rbac') {
    const { values } = parse(rest, {
        group: { type: 'string' },
        'cluster-role': { type: 'string' },
        name: { type: 'string' },
        'groups-prefix': { type: 'string' },
        apply: { type: 'boolean' },
        context: { type: 'string' },
    });
    if (!values.group) throw new UsageError('talos rbac needs --group G (the Pocket ID group name, e.g. kubernetes).');
    const binding = rbacBinding({ group: values.group, clusterRole: values['cluster-role'], name: values.name, groupsPrefix: values['groups-prefix'] });
    for (const n of binding.notes) err(`# ${n}`);
    if (!values.apply) {
      out(binding.yaml);
      return;
    }
    if (!values.context) throw new UsageError('--apply needs --context ADMIN_CONTEXT (the admin@NAME context talosctl wrote).');
    const res = await applyRbac(binding, { context: values.context });
    out(`ClusterRoleBinding ${binding.object.metadata?.name} ${res.action} through context ${values.context}.`);
    return;
  }
  throw new UsageError('talos takes patch or rbac. See `pocketkube --help`.');
}

export async function cmdWhoami(args: string[]): Promise<void> {
  const { values } = parse(args, { context: { type: 'string' }, json: { type: 'boolean' } });
  const who = await whoami({ context: values.context });
  if (values.json) return out(JSON.stringify(who, null, 2));
  out(`Username: ${who.username}`);
  if (who.uid) out(`UID:      ${who.uid}`);
  out(`Groups:   ${who.groups.join(', ')}`);
}

export async function cmdDoctor(home: Home, client: AgentClient, args: string[]): Promise<number> {
  const { values } = parse(args, {
    provider: { type: 'string' },
    context: { type: 'string' },
    group: { type: 'string' },
    'username-claim': { type: 'string' },
    'groups-prefix': { type: 'string' },
    json: { type: 'boolean' },
  });
  const checks = await doctorForProvider(home, () => client.status(5_000), {
    provider: values.provider,
    context: values.context,
    group: values.group,
    usernameClaim: values['username-claim'] === 'email' ? 'email' : 'sub',
    groupsPrefix: values['groups-prefix'],
  });
  out(values.json ? JSON.stringify({ checks }, null, 2) : paintLines(formatChecks(checks), colourOn()));
  return checks.some((c) => c.ok === false) ? 1 : 0;
}
