/**
 * The paths that are not resources: /version, the health checks, and API discovery (/api, /apis and each
 * group and version), listing only what this stand-in serves so kubectl finds exactly those resources.
 */
import { RBAC_GROUP } from './roles.js';
import { methodNotAllowed, notFound, type RouteContext, type RouteReply } from './route-context.js';

const coreResources = [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'], categories: ['all'] },
];

const groupVersions: Record<string, Record<string, unknown>> = {
  'authentication.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'authentication.k8s.io/v1',
    resources: [{ name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] }],
  },
  'authorization.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'authorization.k8s.io/v1',
    resources: [{ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] }],
  },
  [`${RBAC_GROUP}/v1`]: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${RBAC_GROUP}/v1`,
    resources: [
      { name: 'clusterrolebindings', singularName: 'clusterrolebinding', namespaced: false, kind: 'ClusterRoleBinding', verbs: ['create', 'delete', 'get', 'list', 'update'] },
      { name: 'clusterroles', singularName: 'clusterrole', namespaced: false, kind: 'ClusterRole', verbs: ['get', 'list'] },
    ],
  },
};

function apiGroup(name: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [gv], preferredVersion: gv };
}

/** What /version reports for `gitVersion` (e.g. v1.34.1). */
function versionInfo(gitVersion: string): Record<string, unknown> {
  const [, major = '1', minor = '34'] = /^v(\d+)\.(\d+)/.exec(gitVersion) ?? [];
  return {
    major,
    minor,
    emulationMajor: major,
    emulationMinor: minor,
    minCompatibilityMajor: major,
    minCompatibilityMinor: String(Math.max(0, Number(minor) - 1)),
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-09-09T00:00:00Z',
    goVersion: 'go1.24.6',
    compiler: 'gc',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function discoveryRoute(method: string, p: string, ctx: RouteContext): RouteReply {
  const get = method === 'GET' || method === 'HEAD';
  switch (p.replace(/\/$/, '') || '/') {
    case '/version':
      if (!get) methodNotAllowed();
      return { code: 200, body: versionInfo(ctx.gitVersion) };
    case '/healthz':
    case '/livez':
    case '/readyz':
      if (!get) methodNotAllowed();
      return { code: 200, body: 'ok', text: true };
    case '/api':
      if (!get) methodNotAllowed();
      return {
        code: 200,
        body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: ctx.address() }] },
      };
    case '/apis':
      if (!get) methodNotAllowed();
      return { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup('authentication.k8s.io'), apiGroup('authorization.k8s.io'), apiGroup(RBAC_GROUP)] } };
    case '/api/v1':
      if (!get) methodNotAllowed();
      return { code: 200, body: { kind: 'APIResourceList', groupVersion: 'v1', resources: coreResources } };
    case '/apis/authentication.k8s.io':
    case '/apis/authorization.k8s.io':
    case `/apis/${RBAC_GROUP}`:
      if (!get) methodNotAllowed();
      return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(p.split('/')[2]!) } };
    case '/apis/authentication.k8s.io/v1':
    case '/apis/authorization.k8s.io/v1':
    case `/apis/${RBAC_GROUP}/v1`: {
      if (!get) methodNotAllowed();
      const gv = p.replace(/^\/apis\//, '').replace(/\/$/, '');
      return { code: 200, body: groupVersions[gv] };
    }
    default:
      if (p.startsWith('/api/') || p.startsWith('/apis/')) notFound();
      return { code: 404, body: '404 page not found\n', text: true };
  }
}
