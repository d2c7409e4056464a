/**
 * The ClusterRoleBinding that gives a Pocket ID group its rights, and applying it idempotently.
 * kube-apiserver names OIDC groups `<groups prefix><group name>`, where the name is Pocket ID's group `name`
 * (lowercase, non-alphanumerics turned to `_`), not its display name; a mismatch here is a 403, not a 401.
 */
import { RbacAuthorizationV1Api, type V1ClusterRoleBinding } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { describeKubeError, KubeRequestError, loadKubeconfig, prepareCredential } from './kube.js';
import { DEFAULT_PREFIX } from './patch.js';
import type { RbacBinding } from '../../shared/talos.js';
export type { RbacBinding };

export interface RbacBindingOptions {
  /** The Pocket ID group's `name`, e.g. `kubernetes` or `kubernetes_admins`. */
  group: string;
  /** Default cluster-admin. */
  clusterRole?: string;
  /** Default pocketkube-oidc-<group>-<clusterRole>. */
  name?: string;
  /** Default 'oidc:' (must match the cluster's groups prefix). */
  groupsPrefix?: string;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Group name as Pocket ID puts it in the `groups` claim. */
export function pocketIdGroupName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '_');
}

/** A Kubernetes object name (DNS-subdomain-ish) made from free text. */
function objectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
}

export function rbacBinding(opts: RbacBindingOptions): RbacBinding {
  const group = opts.group?.trim() ?? '';
  const prefix = opts.groupsPrefix ?? DEFAULT_PREFIX;
  const clusterRole = opts.clusterRole ?? 'cluster-admin';
  if (!group) throw new Error('No group was given: pass the Pocket ID group name (e.g. --group kubernetes), as shown under the group\'s "Name" in Pocket ID.');
  if (prefix && group.startsWith(prefix)) {
    throw new Error(`Group "${group}" already starts with the groups prefix "${prefix}": pass the bare Pocket ID group name (--group ${group.slice(prefix.length)}), the prefix is added for you.`);
  }
  if (!clusterRole.trim()) throw new Error('The cluster role is empty: pass a ClusterRole name such as cluster-admin, admin, edit or view.');
  const name = opts.name ?? objectName(`pocketkube-oidc-${group}-${clusterRole}`);
  if (!name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new Error(`Binding name "${name}" is not a valid Kubernetes object name: use lowercase letters, digits, '-' and '.'.`);
  }

  const notes: string[] = [];
  const normalised = pocketIdGroupName(group);
  if (normalised !== group) {
    notes.push(
      `"${group}" looks like a display name: tokens carry the Pocket ID group's name (lowercase, other characters turned to "_"), so the subject is probably ${prefix}${normalised}; pass --group ${normalised} unless you are sure.`,
    );
  }
  notes.push(`Members of the Pocket ID group "${group}" arrive as group ${prefix}${group} and get ClusterRole ${clusterRole}; the prefix must equal the cluster's groups prefix (oidc-groups-prefix / claimMappings.groups.prefix).`);
  if (clusterRole === 'cluster-admin') notes.push('cluster-admin can do anything in the cluster: bind a narrower role (admin, edit, view) for groups that do not need it.');

  const object: V1ClusterRoleBinding = {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { [MANAGED_BY_LABEL]: 'pocketkube' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: clusterRole },
    subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: `${prefix}${group}` }],
  };
  const yaml = stringify(object);
  return { yaml, object, notes };
}

function sameSubjects(a: V1ClusterRoleBinding['subjects'], b: V1ClusterRoleBinding['subjects']): boolean {
  const key = (s: NonNullable<V1ClusterRoleBinding['subjects']>[number]): string => JSON.stringify([s.kind, s.apiGroup ?? '', s.name, s.namespace ?? '']);
  const ka = (a ?? []).map(key).sort();
  const kb = (b ?? []).map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * Creates the binding, or leaves it alone when an identical one exists, or replaces its subjects when they differ.
 * roleRef cannot change in Kubernetes, so a binding of that name with another role is an error to resolve by hand.
 */
export async function applyRbac(
  binding: RbacBinding | V1ClusterRoleBinding,
  opts: { kubeconfigFiles?: string[]; context: string },
): Promise<{ action: 'created' | 'updated' | 'unchanged' }> {
  const object: V1ClusterRoleBinding = 'object' in binding ? binding.object : binding;
  const name = object.metadata?.name;
  if (!name) throw new Error('The ClusterRoleBinding has no metadata.name: build it with rbacBinding().');
  const loaded = loadKubeconfig(opts);
  await prepareCredential(loaded);
  const api = loaded.kc.makeApiClient(RbacAuthorizationV1Api);
  try {
    await api.createClusterRoleBinding({ body: object });
    return { action: 'created' };
  } catch (e) {
    const err = describeKubeError(e, loaded, `create ClusterRoleBinding ${name}`);
    if (err.kind === 'forbidden') throw forbiddenToBind(loaded.context, name);
    if (err.kind !== 'conflict') throw err;
  }
  let existing: V1ClusterRoleBinding;
  try {
    existing = await api.readClusterRoleBinding({ name });
  } catch (e) {
    throw describeKubeError(e, loaded, `read ClusterRoleBinding ${name}`);
  }
  const want = object.roleRef;
  const have = existing.roleRef;
  if (have.name !== want.name || have.kind !== want.kind || (have.apiGroup ?? RBAC_GROUP) !== (want.apiGroup ?? RBAC_GROUP)) {
    throw new Error(
      `ClusterRoleBinding ${name} already exists for ${have.kind}/${have.name}, and Kubernetes cannot change a binding's role: delete it (kubectl delete clusterrolebinding ${name}) or pick another name.`,
    );
  }
  if (sameSubjects(existing.subjects, object.subjects)) return { action: 'unchanged' };
  const replacement: V1ClusterRoleBinding = {
    ...object,
    metadata: {
      ...existing.metadata,
      name,
      labels: { ...(existing.metadata?.labels ?? {}), ...(object.metadata?.labels ?? {}) },
    },
  };
  try {
    await api.replaceClusterRoleBinding({ name, body: replacement });
  } catch (e) {
    const err = describeKubeError(e, loaded, `update ClusterRoleBinding ${name}`);
    if (err.kind === 'forbidden') throw forbiddenToBind(loaded.context, name);
    throw err;
  }
  return { action: 'updated' };
}

function forbiddenToBind(context: string, name: string): KubeRequestError {
  return new KubeRequestError(
    `Context "${context}" may not write ClusterRoleBinding ${name} (403): apply it from an admin context, such as the admin@CLUSTER one \`talosctl kubeconfig\` writes.`,
    'forbidden',
    403,
  );
}
