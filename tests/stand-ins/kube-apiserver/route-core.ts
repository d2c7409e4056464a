/** core/v1: the namespaces every cluster has, and an empty list of pods (enough for `kubectl get ns,pods`). */
import { HttpError } from './http.js';
import { q } from './messages.js';
import type { RequestAttributes } from './request-info.js';
import { methodNotAllowed, notFound, type RouteContext, type RouteReply } from './route-context.js';
import type { NamespaceRecord } from './store.js';
import { col, humanDuration, rfc3339, table, wantsTable } from './tables.js';

export function coreRoute(attrs: RequestAttributes, accept: string | undefined, ctx: RouteContext): RouteReply {
  if (attrs.resource === 'namespaces' && !attrs.subresource) return namespacesRoute(attrs, accept, ctx);
  if (attrs.resource === 'pods' && !attrs.subresource) return podsRoute(attrs, accept, ctx);
  notFound();
}

function namespacesRoute(attrs: RequestAttributes, accept: string | undefined, ctx: RouteContext): RouteReply {
  const { namespaces } = ctx.store;
  if (attrs.verb === 'list') {
    if (wantsTable(accept)) return { code: 200, body: namespaceTable(namespaces, ctx) };
    return {
      code: 200,
      body: { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: ctx.store.currentRv() }, items: namespaces.map((n) => namespaceObject(n, ctx)) },
    };
  }
  if (attrs.verb === 'get') {
    const n = namespaces.find((x) => x.name === attrs.name);
    if (!n) throw new HttpError(404, 'NotFound', `namespaces ${q(attrs.name)} not found`, { name: attrs.name, kind: 'namespaces' });
    return { code: 200, body: wantsTable(accept) ? namespaceTable([n], ctx) : namespaceObject(n, ctx) };
  }
  methodNotAllowed();
}

function podsRoute(attrs: RequestAttributes, accept: string | undefined, ctx: RouteContext): RouteReply {
  if (attrs.verb === 'list') {
    const rv = ctx.store.currentRv();
    if (wantsTable(accept)) {
      return {
        code: 200,
        body: table(
          rv,
          [
            col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
            col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
            col('Status', 'string', 'The aggregate status of the containers in this pod.'),
            col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
            col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
            col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
            col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', 1),
            col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
            col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
          ],
          [],
        ),
      };
    }
    return { code: 200, body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items: [] } };
  }
  if (attrs.verb === 'get') throw new HttpError(404, 'NotFound', `pods ${q(attrs.name)} not found`, { name: attrs.name, kind: 'pods' });
  methodNotAllowed();
}

function namespaceObject(n: NamespaceRecord, ctx: RouteContext): Record<string, unknown> {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: n.rv,
      creationTimestamp: rfc3339(ctx.store.startedAt),
      labels: { 'kubernetes.io/metadata.name': n.name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function namespaceTable(list: NamespaceRecord[], ctx: RouteContext): Record<string, unknown> {
  return table(
    ctx.store.currentRv(),
    [
      col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
      col('Status', 'string', 'The status of the namespace'),
      col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
    ],
    list.map((n) => ({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: namespaceObject(n, ctx).metadata as Record<string, unknown>,
      cells: [n.name, 'Active', humanDuration(ctx.clock() - ctx.store.startedAt)],
    })),
  );
}
