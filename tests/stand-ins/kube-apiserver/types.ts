/** The stand-in's public types: its options, its handle, and the Kubernetes objects it reads and serves. */
export interface PrefixedClaimOrExpression {
  claim?: string;
  /** Required (may be "") when `claim` is set on `username`/`groups`. */
  prefix?: string;
  expression?: string;
}

export interface JWTAuthenticatorConfig {
  issuer: {
    url: string;
    discoveryURL?: string;
    certificateAuthority?: string;
    audiences: string[];
    audienceMatchPolicy?: string;
    egressSelectorType?: string;
  };
  claimValidationRules?: Array<{ claim?: string; requiredValue?: string; expression?: string; message?: string }>;
  claimMappings: {
    username: PrefixedClaimOrExpression;
    groups?: PrefixedClaimOrExpression;
    uid?: { claim?: string; expression?: string };
    extra?: Array<{ key: string; valueExpression: string }>;
  };
  userValidationRules?: Array<{ expression: string; message?: string }>;
}

/** `apiserver.config.k8s.io` AuthenticationConfiguration (v1alpha1, v1beta1 or v1). */
export interface AuthenticationConfiguration {
  apiVersion: string;
  kind: string;
  jwt?: JWTAuthenticatorConfig[];
  anonymous?: { enabled: boolean; conditions?: Array<{ path: string }> };
}

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  apiGroup?: string;
  namespace?: string;
}

export interface ClusterRoleBinding {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  roleRef: { apiGroup?: string; kind?: string; name: string };
  subjects?: RbacSubject[];
}

export interface KubeApiServerOptions {
  /** TCP port on `host`; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Directory for the PEM files (created if missing; keys 0600). An existing ca.crt/ca.key pair is
   * reused so kubeconfigs survive restarts. Default: a temporary directory removed on close(). */
  stateDir?: string;

  // --- `--oidc-*` flag form (mutually exclusive with authenticationConfig) ---
  oidcIssuerUrl?: string;
  oidcClientId?: string;
  /** Default `sub`. */
  oidcUsernameClaim?: string;
  /** Unset/"" with a claim other than `email` gives `<issuer>#<value>`; "-" means no prefix. */
  oidcUsernamePrefix?: string;
  oidcGroupsClaim?: string;
  oidcGroupsPrefix?: string;
  oidcRequiredClaims?: Record<string, string>;
  /** PEM of the CA that signed the issuer's TLS certificate (`--oidc-ca-file` contents). */
  oidcCaPem?: string;
  /** Path form of `oidcCaPem`, like `--oidc-ca-file`. */
  oidcCaFile?: string;
  /** Default ['RS256']. */
  oidcSigningAlgs?: string[];

  // --- `--authentication-config` form ---
  /** Object, or YAML/JSON text, of an AuthenticationConfiguration. */
  authenticationConfig?: AuthenticationConfiguration | string;
  /** Path to a YAML/JSON AuthenticationConfiguration, like `--authentication-config`. */
  authenticationConfigFile?: string;

  /** `--anonymous-auth` (default true). Not allowed together with an `anonymous` block in the config. */
  anonymousAuth?: boolean;

  /** Extra ClusterRoleBindings stored at start (the bootstrap ones are always present). */
  clusterRoleBindings?: ClusterRoleBinding[];

  /** Reported by /version. Default v1.34.1. */
  gitVersion?: string;
  /** Success cache for token checks (`--authentication-token-success-cache-ttl`-like). Default 10000; 0 disables. */
  tokenCacheTtlMs?: number;
  /** How often a failed OIDC discovery is retried. Default 10000 (as kube-apiserver). */
  oidcInitRetryMs?: number;
  /** Timeout for discovery/JWKS requests. Default 10000. */
  fetchTimeoutMs?: number;
  /** Milliseconds since the epoch; for tests. Default Date.now. */
  clock?: () => number;
  /** Receives log lines (never tokens). Default: discard. */
  log?: (line: string) => void;
  /** Also log one line per request (method, path, status, user). */
  logRequests?: boolean;
}

export interface KubeApiServerStats {
  requests: number;
  /** Token checks actually performed (cache misses). */
  tokenVerifications: number;
  tokenCacheHits: number;
  unauthorized: number;
  forbidden: number;
  discoveryFetches: number;
  jwksFetches: number;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface WriteKubeconfigOptions {
  /** Merge into an existing file (default true), renaming to NAME-1, NAME-2... on a name clash. */
  merge?: boolean;
  /** Overwrite clashing entries instead of renaming. */
  force?: boolean;
}

export interface KubeApiServerHandle {
  /** https://127.0.0.1:PORT */
  server: string;
  port: number;
  caPem: string;
  caFile: string;
  adminCertPem: string;
  adminKeyPem: string;
  adminCertFile: string;
  adminKeyFile: string;
  stateDir: string;
  stats(): KubeApiServerStats;
  /** Last authentication failures (kube-apiserver logs them; clients only see "Unauthorized"). */
  recentAuthErrors(): string[];
  /** Current stored ClusterRoleBindings (copies). */
  listClusterRoleBindings(): ClusterRoleBinding[];
  /** Writes a kubeconfig like `talosctl kubeconfig`: cluster NAME, user/context admin@NAME, namespace default. */
  writeAdminKubeconfig(file: string, name?: string, options?: WriteKubeconfigOptions): Promise<{ context: string; cluster: string; user: string }>;
  close(): Promise<void>;
}

/** Thrown by startKubeApiServer for a configuration kube-apiserver would refuse to start with. */
export class KubeApiServerConfigError extends Error {
  constructor(message: string, readonly unsupported = false) {
    super(message);
    this.name = 'KubeApiServerConfigError';
  }
}
