/**
 * rbac.authorization.k8s.io/v1: the built-in ClusterRoles (read only) and ClusterRoleBindings (list, get,
 * create, update, delete, with dry run), which is what `talosctl`-style setup and `kubectl create
 * clusterrolebinding` need. Conflicts, a changed roleRef and missing objects answer as kube-apiserver does.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { normalizeBinding } from './cluster-role-binding.js';
import { HttpError, readObject } from './http.js';
import { q } from './messages.js';
import type { RequestAttributes } from './request-info.js';
import { BUILTIN_CLUSTER_ROLES, RBAC_GROUP } from './roles.js';
import { methodNotAllowed, type RouteContext, type RouteReply } from './route-context.js';
import { col, humanDuration, rfc3339, table, wantsTable } from './tables.js';
import type { ClusterRoleBinding } from './types.js';

export function clusterRolesRoute(attrs: RequestAttributes, accept: string | undefined, ctx: RouteContext): RouteReply {
  const startedAt = ctx.store.startedAt;
  const roleObj = (name: string): Record<string, unknown> => ({
    kind: 'ClusterRole',
    apiVersion: `${RBAC_GROUP}/v1`,
    metadata: {
      name,
      creationTimestamp: rfc3339(startedAt),
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules: BUILTIN_CLUSTER_ROLES[name],
  });
  const roleTable = (names: string[]): Record<string, unknown> =>
    table(
      ctx.store.currentRv(),
      [col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), col('Created At', 'date', 'CreationTimestamp')],
      names.map((n) => ({ kind: 'ClusterRole', apiVersion: `${RBAC_GROUP}/v1`, metadata: roleObj(n).metadata as Record<string, unknown>, cells: [n, rfc3339(startedAt)] })),
    );
  if (attrs.verb === 'list') {
    const names = Object.keys(BUILTIN_CLUSTER_ROLES).sort();
    if (wantsTable(accept)) return { code: 200, body: roleTable(names) };
    return { code: 200, body: { kind: 'ClusterRoleList', apiVersion: `${RBAC_GROUP}/v1`, metadata: { resourceVersion: ctx.store.currentRv() }, items: names.map(roleObj) } };
  }
  if (attrs.verb === 'get') {
    if (!BUILTIN_CLUSTER_ROLES[attrs.name]) {
      throw new HttpError(404, 'NotFound', `clusterroles.${RBAC_GROUP} ${q(attrs.name)} not found`, { name: attrs.name, group: RBAC_GROUP, kind: 'clusterroles' });
    }
    if (wantsTable(accept)) return { code: 200, body: roleTable([attrs.name]) };
    return { code: 200, body: roleObj(attrs.name) };
  }
  methodNotAllowed();
}

export async function clusterRoleBindingsRoute(req: http.IncomingMessage, attrs: RequestAttributes, url: URL, ctx: RouteContext): Promise<RouteReply> {
  const dryRun = url.searchParams.getAll('dryRun').length > 0;
  const bindings = ctx.store.bindings;
  const accept = req.headers.accept;
  switch (attrs.verb) {
    case 'list': {
      const items = [...bindings.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      if (wantsTable(accept)) return { code: 200, body: bindingTable(items, ctx) };
      return {
        code: 200,
        body: { kind: 'ClusterRoleBindingList', apiVersion: `${RBAC_GROUP}/v1`, metadata: { resourceVersion: ctx.store.currentRv() }, items },
      };
    }
    case 'get': {
      const b = bindings.get(attrs.name);
      if (!b) throw bindingNotFound(attrs.name);
      return { code: 200, body: wantsTable(accept) ? bindingTable([b], ctx) : b };
    }
    case 'create':
      return createBinding(normalizeBinding(await readObject(req)), dryRun, ctx);
    case 'update':
      return updateBinding(normalizeBinding(await readObject(req), attrs.name), attrs.name, dryRun, ctx);
    case 'delete':
      return deleteBinding(attrs.name, dryRun, ctx);
    default:
      methodNotAllowed();
  }
}

function bindingNotFound(name: string): HttpError {
  return new HttpError(404, 'NotFound', `clusterrolebindings.${RBAC_GROUP} ${q(name)} not found`, { name, group: RBAC_GROUP, kind: 'clusterrolebindings' });
}

function createBinding(b: ClusterRoleBinding, dryRun: boolean, ctx: RouteContext): RouteReply {
  const bindings = ctx.store.bindings;
  if (bindings.has(b.metadata.name)) {
    throw new HttpError(409, 'AlreadyExists', `clusterrolebindings.${RBAC_GROUP} ${q(b.metadata.name)} already exists`, {
      name: b.metadata.name,
      group: RBAC_GROUP,
      kind: 'clusterrolebindings',
    });
  }
  delete b.metadata.resourceVersion;
  b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: dryRun ? undefined : ctx.store.nextRv(), creationTimestamp: rfc3339(ctx.clock()) };
  if (dryRun) delete b.metadata.resourceVersion;
  else bindings.set(b.metadata.name, b);
  return { code: 201, body: b };
}

/** PUT: creates a missing binding; otherwise checks the resource version and that the roleRef is unchanged. */
function updateBinding(b: ClusterRoleBinding, name: string, dryRun: boolean, ctx: RouteContext): RouteReply {
  const bindings = ctx.store.bindings;
  const existing = bindings.get(name);
  if (!existing) {
    delete b.metadata.resourceVersion;
    b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: ctx.store.nextRv(), creationTimestamp: rfc3339(ctx.clock()) };
    if (!dryRun) bindings.set(b.metadata.name, b);
    return { code: 201, body: b };
  }
  if (b.metadata.resourceVersion && b.metadata.resourceVersion !== existing.metadata.resourceVersion) {
    throw new HttpError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on clusterrolebindings.${RBAC_GROUP} ${q(name)}: the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: RBAC_GROUP, kind: 'clusterrolebindings' },
    );
  }
  if (b.roleRef.name !== existing.roleRef.name || b.roleRef.kind !== existing.roleRef.kind || b.roleRef.apiGroup !== existing.roleRef.apiGroup) {
    const msg = 'cannot change roleRef';
    throw new HttpError(422, 'Invalid', `ClusterRoleBinding.${RBAC_GROUP} ${q(name)} is invalid: roleRef: Invalid value: ${q(JSON.stringify(b.roleRef))}: ${msg}`, {
      name,
      group: RBAC_GROUP,
      kind: 'ClusterRoleBinding',
      causes: [{ reason: 'FieldValueInvalid', message: msg, field: 'roleRef' }],
    });
  }
  b.metadata = {
    ...b.metadata,
    uid: existing.metadata.uid,
    creationTimestamp: existing.metadata.creationTimestamp,
    resourceVersion: dryRun ? existing.metadata.resourceVersion : ctx.store.nextRv(),
  };
  if (!dryRun) bindings.set(name, b);
  return { code: 200, body: b };
}

function deleteBinding(name: string, dryRun: boolean, ctx: RouteContext): RouteReply {
  const b = ctx.store.bindings.get(name);
  if (!b) throw bindingNotFound(name);
  if (!dryRun) ctx.store.bindings.delete(name);
  return {
    code: 200,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: RBAC_GROUP, kind: 'clusterrolebindings', uid: b.metadata.uid },
    },
  };
}

function bindingTable(items: ClusterRoleBinding[], ctx: RouteContext): Record<string, unknown> {
  const subjectsOf = (b: ClusterRoleBinding, kind: string): string =>
    (b.subjects ?? [])
      .filter((s) => s.kind === kind)
      .map((s) => (kind === 'ServiceAccount' ? `${s.namespace}/${s.name}` : s.name))
      .join(', ');
  return table(
    ctx.store.currentRv(),
    [
      col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
      col('Role', 'string', 'RoleRef is the reference to the role.'),
      col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
      col('Users', 'string', 'Users in the roleBinding', 1),
      col('Groups', 'string', 'Groups in the roleBinding', 1),
      col('ServiceAccounts', 'string', 'ServiceAccounts in the roleBinding', 1),
    ],
    items.map((b) => ({
      kind: 'ClusterRoleBinding',
      apiVersion: `${RBAC_GROUP}/v1`,
      metadata: { ...b.metadata },
      cells: [
        b.metadata.name,
        `ClusterRole/${b.roleRef.name}`,
        humanDuration(ctx.clock() - Date.parse(b.metadata.creationTimestamp ?? rfc3339(ctx.store.startedAt))),
        subjectsOf(b, 'User'),
        subjectsOf(b, 'Group'),
        subjectsOf(b, 'ServiceAccount'),
      ],
    })),
  );
}
