/**
 * Authorization as kube-apiserver decides it here: system:masters may do anything; anyone else needs a stored
 * ClusterRoleBinding naming them (user, group or service account) to a built-in ClusterRole with a rule for
 * the request. Denials become the real server's Forbidden Status, with its message.
 */
import { HttpError } from './http.js';
import { aggregate, q } from './messages.js';
import type { RequestAttributes } from './request-info.js';
import { BUILTIN_CLUSTER_ROLES, RBAC_GROUP, type PolicyRule } from './roles.js';
import type { ClusterRoleBinding, RbacSubject, UserInfo } from './types.js';

export interface Decision {
  allowed: boolean;
  /** Why, in the authorizer's words (empty when nothing matched). */
  reason: string;
}

export function authorize(bindings: Iterable<ClusterRoleBinding>, a: RequestAttributes): Decision {
  if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
  const missing: string[] = [];
  for (const b of bindings) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, a.user));
    if (!subject) continue;
    const rules = BUILTIN_CLUSTER_ROLES[b.roleRef.name];
    if (!rules) {
      missing.push(`clusterrole.${RBAC_GROUP} ${q(b.roleRef.name)} not found`);
      continue;
    }
    if (rules.some((r) => ruleAllows(r, a))) {
      const who = subject.kind === 'ServiceAccount' ? `ServiceAccount "${subject.name}/${subject.namespace ?? ''}"` : `${subject.kind} ${q(subject.name)}`;
      return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding ${q(b.metadata.name)} of ClusterRole ${q(b.roleRef.name)} to ${who}` };
    }
  }
  return { allowed: false, reason: missing.length ? `RBAC: ${aggregate(missing)}` : '' };
}

/** The 403 Status kube-apiserver answers a denied request with. */
export function forbid(a: RequestAttributes, reason: string): HttpError {
  let msg = forbiddenMessage(a);
  if (reason) msg += `: ${reason}`;
  if (!a.isResourceRequest) return new HttpError(403, 'Forbidden', `forbidden: ${msg}`, {});
  const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const prefix = a.name ? `${gr} ${q(a.name)}` : gr;
  return new HttpError(403, 'Forbidden', `${prefix} is forbidden: ${msg}`, {
    ...(a.name ? { name: a.name } : {}),
    ...(a.apiGroup ? { group: a.apiGroup } : {}),
    kind: a.resource,
  });
}

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  const verbOk = rule.verbs.includes('*') || rule.verbs.includes(a.verb);
  if (!verbOk) return false;
  if (!a.isResourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!rule.apiGroups || !rule.resources) return false;
  if (!rule.apiGroups.includes('*') && !rule.apiGroups.includes(a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resOk = rule.resources.some(
    (r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`),
  );
  if (!resOk) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return a.name !== '' && rule.resourceNames.includes(a.name);
  return true;
}

function subjectMatches(s: RbacSubject, u: UserInfo): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === u.username;
    case 'Group':
      return u.groups.includes(s.name);
    case 'ServiceAccount':
      return u.username === `system:serviceaccount:${s.namespace ?? ''}:${s.name}`;
    default:
      return false;
  }
}

function forbiddenMessage(a: RequestAttributes): string {
  const u = a.user.username;
  if (!a.isResourceRequest) return `User ${q(u)} cannot ${a.verb} path ${q(a.path)}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace) return `User ${q(u)} cannot ${a.verb} resource ${q(res)} in API group ${q(a.apiGroup)} in the namespace ${q(a.namespace)}`;
  return `User ${q(u)} cannot ${a.verb} resource ${q(res)} in API group ${q(a.apiGroup)} at the cluster scope`;
}
