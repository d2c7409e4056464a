/**
 * The review APIs kubectl asks about itself: SelfSubjectReview (`kubectl auth whoami`) and
 * SelfSubjectAccessReview (`kubectl auth can-i`), answered from the request's user and RBAC.
 */
import type * as http from 'node:http';
import { HttpError, readObject } from './http.js';
import { isRecord, q } from './messages.js';
import type { RequestAttributes } from './request-info.js';
import { methodNotAllowed, type RouteContext, type RouteReply } from './route-context.js';
import { rfc3339 } from './tables.js';

export async function selfSubjectReview(req: http.IncomingMessage, attrs: RequestAttributes, ctx: RouteContext): Promise<RouteReply> {
  if (attrs.verb !== 'create') methodNotAllowed();
  const body = await readObject(req);
  if (body.kind !== undefined && body.kind !== 'SelfSubjectReview') {
    throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format - kind ${q(body.kind)} is not SelfSubjectReview`);
  }
  const u = attrs.user;
  return {
    code: 201,
    body: {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: rfc3339(ctx.clock()) },
      status: {
        userInfo: {
          username: u.username,
          ...(u.uid ? { uid: u.uid } : {}),
          groups: u.groups,
          ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
        },
      },
    },
  };
}

export async function selfSubjectAccessReview(req: http.IncomingMessage, attrs: RequestAttributes, ctx: RouteContext): Promise<RouteReply> {
  if (attrs.verb !== 'create') methodNotAllowed();
  const body = await readObject(req);
  if (body.kind !== undefined && body.kind !== 'SelfSubjectAccessReview') {
    throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format - kind ${q(body.kind)} is not SelfSubjectAccessReview`);
  }
  const spec = isRecord(body.spec) ? body.spec : {};
  const d = ctx.authorize(reviewedAttributes(spec, attrs));
  return {
    code: 201,
    body: {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) },
    },
  };
}

/** The request a SelfSubjectAccessReview's spec asks about: exactly one of resource or non-resource attributes. */
function reviewedAttributes(spec: Record<string, unknown>, attrs: RequestAttributes): RequestAttributes {
  const ra = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isRecord(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  const str = (o: Record<string, unknown> | undefined, k: string): string => (o && typeof o[k] === 'string' ? (o[k] as string) : '');
  if ((ra && nra) || (!ra && !nra)) {
    const msg = ra ? 'resourceAttributes and nonResourceAttributes cannot be set at the same time' : 'exactly one of nonResourceAttributes or resourceAttributes must be specified';
    throw new HttpError(422, 'Invalid', `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: ${msg}`, {
      group: 'authorization.k8s.io',
      kind: 'SelfSubjectAccessReview',
      causes: [{ reason: 'FieldValueInvalid', message: msg, field: 'spec.resourceAttributes' }],
    });
  }
  return ra
    ? {
        user: attrs.user,
        verb: str(ra, 'verb'),
        isResourceRequest: true,
        path: '',
        apiGroup: str(ra, 'group'),
        apiVersion: str(ra, 'version'),
        namespace: str(ra, 'namespace'),
        resource: str(ra, 'resource'),
        subresource: str(ra, 'subresource'),
        name: str(ra, 'name'),
      }
    : { user: attrs.user, verb: str(nra, 'verb'), isResourceRequest: false, path: str(nra, 'path'), apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
}
