/** The built-in ClusterRoles this stand-in serves (abridged) and the bootstrap ClusterRoleBindings every cluster starts with. */
import type { RbacSubject } from './types.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const READ = ['get', 'list', 'watch'];

const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const CORE_READABLE = [
  'bindings', 'configmaps', 'endpoints', 'events', 'limitranges', 'namespaces', 'namespaces/status', 'persistentvolumeclaims',
  'persistentvolumeclaims/status', 'pods', 'pods/log', 'pods/status', 'replicationcontrollers', 'replicationcontrollers/scale',
  'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status', 'serviceaccounts', 'services', 'services/status',
];

const CORE_WRITABLE = [
  'configmaps', 'endpoints', 'persistentvolumeclaims', 'pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy',
  'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy',
];

const APP_GROUPS = ['apps', 'batch', 'autoscaling', 'extensions', 'networking.k8s.io', 'policy', 'discovery.k8s.io'];

/** Built-in ClusterRoles (abridged to what this stand-in serves; see report). */
export const BUILTIN_CLUSTER_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  admin: [
    { apiGroups: [''], resources: CORE_READABLE, verbs: READ },
    { apiGroups: [''], resources: CORE_WRITABLE, verbs: [...READ, ...WRITE] },
    { apiGroups: APP_GROUPS, resources: ['*'], verbs: [...READ, ...WRITE] },
    { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: [...READ, ...WRITE] },
    { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
  ],
  edit: [
    { apiGroups: [''], resources: CORE_READABLE, verbs: READ },
    { apiGroups: [''], resources: CORE_WRITABLE, verbs: [...READ, ...WRITE] },
    { apiGroups: APP_GROUPS, resources: ['*'], verbs: [...READ, ...WRITE] },
  ],
  view: [
    { apiGroups: [''], resources: CORE_READABLE, verbs: READ },
    { apiGroups: APP_GROUPS, resources: ['*'], verbs: READ },
  ],
  'system:discovery': [
    {
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
      verbs: ['get'],
    },
  ],
  'system:public-info-viewer': [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  'system:basic-user': [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ],
};

export const BOOTSTRAP_BINDINGS: Array<[string, string, RbacSubject[]]> = [
  ['cluster-admin', 'cluster-admin', [{ kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:masters' }]],
  ['system:basic-user', 'system:basic-user', [{ kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:authenticated' }]],
  ['system:discovery', 'system:discovery', [{ kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:authenticated' }]],
  [
    'system:public-info-viewer',
    'system:public-info-viewer',
    [
      { kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:authenticated' },
      { kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:unauthenticated' },
    ],
  ],
];
