/**
 * Impersonation (`--as`, `--as-group`, `--as-uid`) as kube-apiserver handles it: the real user must be allowed
 * to impersonate each user, service account, group and uid asked for; the request then runs as that user.
 */
import type * as http from 'node:http';
import { HttpError } from './http.js';
import { goQuoteSlice } from './messages.js';
import { forbid, type Decision } from './rbac.js';
import type { RequestAttributes } from './request-info.js';
import type { UserInfo } from './types.js';

type ImpersonationTarget = Omit<RequestAttributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'apiVersion' | 'subresource'>;

export function impersonate(req: http.IncomingMessage, user: UserInfo, authorize: (a: RequestAttributes) => Decision): UserInfo {
  const h = req.headers;
  const impUser = typeof h['impersonate-user'] === 'string' ? h['impersonate-user'] : undefined;
  const rawGroups = h['impersonate-group'];
  const impGroups = rawGroups === undefined ? [] : Array.isArray(rawGroups) ? rawGroups : [rawGroups];
  const impUid = typeof h['impersonate-uid'] === 'string' ? h['impersonate-uid'] : undefined;
  if (!impUser && impGroups.length === 0 && !impUid) return user;
  if (!impUser) throw new HttpError(500, 'InternalError', `Internal error occurred: requested ${goQuoteSlice(impGroups)} without impersonating a user`);
  const check = (attrs: ImpersonationTarget): void => {
    const a: RequestAttributes = { ...attrs, user, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: 'v1', subresource: '' };
    const d = authorize(a);
    if (!d.allowed) throw forbid(a, d.reason);
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(impUser);
  if (sa) check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[1]!, name: sa[2]! });
  else check({ apiGroup: '', resource: 'users', namespace: '', name: impUser });
  for (const g of impGroups) check({ apiGroup: '', resource: 'groups', namespace: '', name: g });
  if (impUid) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', namespace: '', name: impUid });
  const groups = [...impGroups];
  if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (impUser !== 'system:anonymous' && !groups.includes('system:authenticated')) groups.push('system:authenticated');
  if (impUser === 'system:anonymous' && !groups.includes('system:unauthenticated')) groups.push('system:unauthenticated');
  return { username: impUser, groups, ...(impUid ? { uid: impUid } : {}) };
}
