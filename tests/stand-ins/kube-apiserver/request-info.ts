/** What a request asks to do, in the authorizer's terms (verb, API group, resource, namespace, name), as kube-apiserver reads it from the URL. */
import type { UserInfo } from './types.js';

export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

/** k8s.io/apiserver RequestInfoFactory.NewRequestInfo, trimmed to what matters here. */
export function requestInfo(method: string, pathname: string, query: URLSearchParams): Omit<RequestAttributes, 'user'> {
  const base = { path: pathname, apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
  const nonResource = { ...base, isResourceRequest: false, verb: method.toLowerCase() };
  const trimmed = pathname.replace(/^\/+|\/+$/g, '');
  let parts = trimmed === '' ? [] : trimmed.split('/');
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  const prefix = parts[0];
  parts = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  let verb = '';
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    if (parts.length < 2) return nonResource;
    verb = parts[0];
    parts = parts.slice(1);
  } else {
    switch (method.toUpperCase()) {
      case 'POST': verb = 'create'; break;
      case 'GET': case 'HEAD': verb = 'get'; break;
      case 'PUT': verb = 'update'; break;
      case 'PATCH': verb = 'patch'; break;
      case 'DELETE': verb = 'delete'; break;
      default: verb = '';
    }
  }
  let namespace = '';
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      namespace = parts[1]!;
      if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
    }
  }
  const resource = parts[0] ?? '';
  const name = parts[1] ?? '';
  const subresource = parts[2] ?? '';
  if (!name && verb === 'get') verb = query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
  if (!name && verb === 'delete') verb = 'deletecollection';
  return { ...base, isResourceRequest: true, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}
