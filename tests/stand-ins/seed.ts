import type { ClusterRoleBinding } from './kube-apiserver/index.js';

/** The ClusterRoleBinding of the Talos + Pocket ID guide: members of Pocket ID group `kubernetes` are admins. */
export const seedGuideBinding: ClusterRoleBinding = {
  metadata: { name: 'cluster-admins-from-pass-keys' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'oidc:kubernetes' }],
};

/** The API server flags of the guide, with the username prefix PocketKube recommends. */
export function seedGuideOidcFlags(issuer: string, clientId: string, caPem: string) {
  return {
    oidcIssuerUrl: issuer,
    oidcClientId: clientId,
    oidcUsernameClaim: 'sub',
    oidcUsernamePrefix: 'oidc:',
    oidcGroupsClaim: 'groups',
    oidcGroupsPrefix: 'oidc:',
    oidcCaPem: caPem,
  };
}
