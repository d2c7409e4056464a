/**
 * The objects the stand-in keeps: the four namespaces every cluster has, the ClusterRoleBindings (bootstrap
 * ones, seeds, and what clients create), and the resource version they share.
 */
import { randomUUID } from 'node:crypto';
import { normalizeBinding } from './cluster-role-binding.js';
import { BOOTSTRAP_BINDINGS, RBAC_GROUP } from './roles.js';
import { rfc3339 } from './tables.js';
import { KubeApiServerConfigError, type ClusterRoleBinding } from './types.js';

export interface NamespaceRecord {
  name: string;
  uid: string;
  rv: string;
}

export class ObjectStore {
  readonly startedAt: number;
  readonly bindings = new Map<string, ClusterRoleBinding>();
  readonly namespaces: NamespaceRecord[];
  private resourceVersion = 100;

  /** Seeds are validated like a create; an invalid one is a configuration error. */
  constructor(clock: () => number, seeds: ClusterRoleBinding[]) {
    this.startedAt = clock();
    this.namespaces = ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map((name) => ({
      name,
      uid: randomUUID(),
      rv: this.nextRv(),
    }));
    for (const [name, role, subjects] of BOOTSTRAP_BINDINGS) {
      this.bindings.set(name, {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: {
          name,
          uid: randomUUID(),
          resourceVersion: this.nextRv(),
          creationTimestamp: rfc3339(this.startedAt),
          labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
          annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
        },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
        subjects,
      });
    }
    for (const seed of seeds) this.addSeed(seed);
  }

  /** The next resource version, as a string like the API's. */
  nextRv(): string {
    return String(++this.resourceVersion);
  }

  /** The latest resource version handed out (a list's metadata.resourceVersion). */
  currentRv(): string {
    return String(this.resourceVersion);
  }

  private addSeed(seed: ClusterRoleBinding): void {
    let b: ClusterRoleBinding;
    try {
      b = normalizeBinding(seed as unknown as Record<string, unknown>);
    } catch (e) {
      throw new KubeApiServerConfigError(`invalid seed ClusterRoleBinding: ${(e as Error).message}`);
    }
    b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: this.nextRv(), creationTimestamp: rfc3339(this.startedAt) };
    this.bindings.set(b.metadata.name, b);
  }
}
