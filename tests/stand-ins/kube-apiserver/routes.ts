/** Which route answers a request that was authenticated and authorized: by path for non-resource requests, by group/version and resource otherwise. */
import type * as http from 'node:http';
import { HttpError } from './http.js';
import type { RequestAttributes } from './request-info.js';
import { notFound, type RouteContext, type RouteReply } from './route-context.js';
import { coreRoute } from './route-core.js';
import { discoveryRoute } from './route-discovery.js';
import { clusterRoleBindingsRoute, clusterRolesRoute } from './route-rbac.js';
import { selfSubjectAccessReview, selfSubjectReview } from './route-reviews.js';
import { RBAC_GROUP } from './roles.js';

export async function route(req: http.IncomingMessage, attrs: RequestAttributes, url: URL, ctx: RouteContext): Promise<RouteReply> {
  if (!attrs.isResourceRequest) return discoveryRoute(req.method ?? 'GET', url.pathname, ctx);
  const gv = attrs.apiGroup ? `${attrs.apiGroup}/${attrs.apiVersion}` : attrs.apiVersion;
  if (attrs.verb === 'watch') {
    throw new HttpError(405, 'MethodNotAllowed', 'watch is not supported by this kube-apiserver stand-in', {});
  }
  const accept = req.headers.accept;
  if (gv === 'v1') return coreRoute(attrs, accept, ctx);
  if (gv === 'authentication.k8s.io/v1' && attrs.resource === 'selfsubjectreviews' && !attrs.name) return selfSubjectReview(req, attrs, ctx);
  if (gv === 'authorization.k8s.io/v1' && attrs.resource === 'selfsubjectaccessreviews' && !attrs.name) return selfSubjectAccessReview(req, attrs, ctx);
  if (gv === `${RBAC_GROUP}/v1` && attrs.resource === 'clusterroles' && !attrs.subresource) return clusterRolesRoute(attrs, accept, ctx);
  if (gv === `${RBAC_GROUP}/v1` && attrs.resource === 'clusterrolebindings' && !attrs.subresource) return clusterRoleBindingsRoute(req, attrs, url, ctx);
  notFound();
}
