/**
 * A stand-in for kube-apiserver that authenticates requests the way the real one does.
 *
 * No Kubernetes API server can run where PocketKube is developed and tested, yet the whole point of
 * PocketKube is to hand kubectl ID tokens that a real cluster accepts. This module reproduces the parts
 * of kube-apiserver that decide that (OIDC/JWT authentication from `--oidc-*` flags or a structured
 * `AuthenticationConfiguration`, x509 client certificates, anonymous requests, the 10 s token cache,
 * RBAC on ClusterRoleBindings) closely enough that kubectl 1.32 talks to it unmodified.
 *
 * Reference behaviour (kube-apiserver 1.34, go-oidc v2 as vendored by Kubernetes):
 * - a token whose unverified `iss` is not exactly the configured issuer URL is skipped by the JWT
 *   authenticator; a presented bearer token nobody accepts is a 401 ("invalid bearer token");
 * - discovery `issuer` must equal the configured URL; keys come from discovery's `jwks_uri`;
 * - `exp` has zero leeway, `nbf` one minute; `aud` must contain the client id (one of the audiences);
 * - the JWKS is fetched again whenever no cached key verifies the signature (unknown `kid`);
 * - successful token checks are cached for 10 s (keyed by an HMAC of the token), failures are not.
 *
 * Tokens are never logged, stored or echoed: logs carry only verification error messages.
 *
 * Run directly (`node dist/tests/stand-ins/kube-apiserver/index.js`) it reads its options as JSON from
 * `KUBE_APISERVER_CONFIG`, prints one JSON ready line on stdout and exits on SIGTERM/SIGINT.
 */
import { createHmac, randomBytes, randomUUID, X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { compactVerify, importJWK, type JWK } from 'jose';
import { generate } from 'selfsigned';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// ---------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------

const ALL_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];
const AUTHN_CONFIG_VERSIONS = ['apiserver.config.k8s.io/v1alpha1', 'apiserver.config.k8s.io/v1beta1', 'apiserver.config.k8s.io/v1'];
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const NBF_LEEWAY_MS = 60_000;
const MAX_BODY = 3 * 1024 * 1024;
const CEL_UNSUPPORTED = "CEL expressions are not supported by PocketKube's kube-apiserver stand-in (use claim/prefix or claim/requiredValue)";

// ---------------------------------------------------------------------------------------------------
// Configuration: flags or structured AuthenticationConfiguration, validated like kube-apiserver
// ---------------------------------------------------------------------------------------------------

interface NormalizedJwt {
  issuerUrl: string;
  discoveryUrl?: string;
  caPem?: string;
  audiences: string[];
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim?: string;
  groupsPrefix: string;
  uidClaim?: string;
  requiredClaims: Array<[string, string]>;
  signingAlgs: string[];
}

interface NormalizedAuthn {
  jwt: NormalizedJwt[];
  anonymous: { enabled: boolean; paths?: string[] };
}

const q = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));
const fRequired = (p: string, detail = ''): string => `${p}: Required value${detail ? `: ${detail}` : ''}`;
const fInvalid = (p: string, v: unknown, detail: string): string => `${p}: Invalid value: ${q(v)}: ${detail}`;
const fDuplicate = (p: string, v: unknown): string => `${p}: Duplicate value: ${q(v)}`;
const fForbidden = (p: string, detail: string): string => `${p}: Forbidden: ${detail}`;
const aggregate = (errs: string[]): string => (errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strict decoding as the apiserver config scheme does: unknown fields are errors. */
function strictCheck(value: unknown, schema: Schema, p: string, errs: string[]): void {
  if (value === undefined || value === null) return;
  if (schema === 'string') {
    if (typeof value !== 'string') errs.push(`json: cannot unmarshal ${jsonType(value)} into Go value of type string (${p})`);
    return;
  }
  if (schema === 'bool') {
    if (typeof value !== 'boolean') errs.push(`json: cannot unmarshal ${jsonType(value)} into Go value of type bool (${p})`);
    return;
  }
  if (Array.isArray(schema)) {
    if (!Array.isArray(value)) {
      errs.push(`json: cannot unmarshal ${jsonType(value)} into Go value of type [] (${p})`);
      return;
    }
    value.forEach((item, i) => strictCheck(item, schema[0]!, `${p}[${i}]`, errs));
    return;
  }
  if (!isRecord(value)) {
    errs.push(`json: cannot unmarshal ${jsonType(value)} into Go struct (${p})`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const child = schema[k];
    const cp = p ? `${p}.${k}` : k;
    if (!child) errs.push(`unknown field ${q(cp)}`);
    else strictCheck(v, child, cp, errs);
  }
}
type Schema = 'string' | 'bool' | Schema[] | { [k: string]: Schema };
const PREFIXED: Schema = { claim: 'string', prefix: 'string', expression: 'string' };
const AUTHN_SCHEMA: Schema = {
  apiVersion: 'string',
  kind: 'string',
  jwt: [
    {
      issuer: {
        url: 'string',
        discoveryURL: 'string',
        certificateAuthority: 'string',
        audiences: ['string'],
        audienceMatchPolicy: 'string',
        egressSelectorType: 'string',
      },
      claimValidationRules: [{ claim: 'string', requiredValue: 'string', expression: 'string', message: 'string' }],
      claimMappings: {
        username: PREFIXED,
        groups: PREFIXED,
        uid: { claim: 'string', expression: 'string' },
        extra: [{ key: 'string', valueExpression: 'string' }],
      },
      userValidationRules: [{ expression: 'string', message: 'string' }],
    },
  ],
  anonymous: { enabled: 'bool', conditions: [{ path: 'string' }] },
};
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function validateUrl(u: string, p: string, errs: string[]): void {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch (e) {
    errs.push(fInvalid(p, u, `parse ${q(u)}: invalid URI for request`));
    return;
  }
  if (parsed.protocol !== 'https:') errs.push(fInvalid(p, u, 'URL scheme must be https'));
  if (parsed.username || parsed.password) errs.push(fInvalid(p, u, 'URL must not contain a username or password'));
  if (parsed.search.length > 1) errs.push(fInvalid(p, u, 'URL must not contain a query'));
  if (parsed.hash.length > 1) errs.push(fInvalid(p, u, 'URL must not contain a fragment'));
}

function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(new X509Certificate(b));
    } catch {
      /* skipped like certutil does */
    }
  }
  return out;
}

/** validateJWTAuthenticator from k8s.io/apiserver/pkg/apis/apiserver/validation. */
function validateJwtAuthenticator(a: JWTAuthenticatorConfig, p: string, errs: string[], unsupported: string[]): void {
  const issuer = isRecord(a.issuer) ? a.issuer : ({} as JWTAuthenticatorConfig['issuer']);
  const ip = `${p}.issuer`;
  if (!issuer.url) errs.push(fRequired(`${ip}.url`));
  else validateUrl(issuer.url, `${ip}.url`, errs);
  if (issuer.discoveryURL) {
    if (issuer.url && issuer.url.replace(/\/+$/, '') === issuer.discoveryURL.replace(/\/+$/, '')) {
      errs.push(fInvalid(`${ip}.discoveryURL`, issuer.discoveryURL, 'discoveryURL must be different from URL'));
    }
    validateUrl(issuer.discoveryURL, `${ip}.discoveryURL`, errs);
  }
  const auds = issuer.audiences ?? [];
  if (auds.length === 0) {
    errs.push(fRequired(`${ip}.audiences`, `at least one ${ip}.audiences is required`));
  } else {
    const seen = new Set<string>();
    auds.forEach((aud, i) => {
      if (!aud) errs.push(fRequired(`${ip}.audiences[${i}]`));
      if (seen.has(aud)) errs.push(fDuplicate(`${ip}.audiences[${i}]`, aud));
      seen.add(aud);
    });
    const policy = issuer.audienceMatchPolicy ?? '';
    if (auds.length > 1 && policy !== 'MatchAny') {
      errs.push(fInvalid(`${ip}.audienceMatchPolicy`, policy, 'audienceMatchPolicy must be MatchAny for multiple audiences'));
    }
    if (auds.length === 1 && policy !== '' && policy !== 'MatchAny') {
      errs.push(fInvalid(`${ip}.audienceMatchPolicy`, policy, 'audienceMatchPolicy must be empty or MatchAny for single audience'));
    }
  }
  if (issuer.certificateAuthority && pemCertificates(issuer.certificateAuthority).length === 0) {
    errs.push(fInvalid(`${ip}.certificateAuthority`, '<omitted>', 'data does not contain any valid RSA or ECDSA certificates'));
  }
  if (issuer.egressSelectorType && !['controlplane', 'cluster'].includes(issuer.egressSelectorType)) {
    errs.push(fInvalid(`${ip}.egressSelectorType`, issuer.egressSelectorType, 'egress selector must be either controlplane or cluster'));
  }

  const seenClaims = new Set<string>();
  (a.claimValidationRules ?? []).forEach((rule, i) => {
    const rp = `${p}.claimValidationRules[${i}]`;
    if (rule.claim && rule.expression) errs.push(fInvalid(rp, rule.claim, "claim and expression can't both be set"));
    else if (!rule.claim && !rule.expression) errs.push(fRequired(rp, 'claim or expression is required'));
    else if (rule.claim) {
      if (rule.message) errs.push(fInvalid(`${rp}.message`, rule.message, 'may not be specified when claim is set'));
      if (seenClaims.has(rule.claim)) errs.push(fDuplicate(`${rp}.claim`, rule.claim));
      seenClaims.add(rule.claim);
    } else {
      if (rule.requiredValue) errs.push(fInvalid(`${rp}.requiredValue`, rule.requiredValue, 'may not be specified when expression is set'));
      unsupported.push(fInvalid(`${rp}.expression`, rule.expression, CEL_UNSUPPORTED));
    }
  });

  const cm = isRecord(a.claimMappings) ? a.claimMappings : ({ username: {} } as JWTAuthenticatorConfig['claimMappings']);
  const cp = `${p}.claimMappings`;
  const prefixed = (m: PrefixedClaimOrExpression | undefined, mp: string, required: boolean): void => {
    const mm = m ?? {};
    if (mm.expression && mm.claim) errs.push(fInvalid(mp, '', "claim and expression can't both be set"));
    else if (!mm.expression && !mm.claim && required) errs.push(fRequired(mp, 'claim or expression is required'));
    else if (mm.expression) {
      if (mm.prefix !== undefined && mm.prefix !== null) errs.push(fInvalid(`${mp}.prefix`, mm.prefix, 'may not be specified when expression is set'));
      unsupported.push(fInvalid(`${mp}.expression`, mm.expression, CEL_UNSUPPORTED));
    } else if (mm.claim && (mm.prefix === undefined || mm.prefix === null)) {
      errs.push(fRequired(`${mp}.prefix`, 'prefix is required when claim is set. It can be set to an empty string to disable prefixing'));
    }
  };
  prefixed(cm.username, `${cp}.username`, true);
  prefixed(cm.groups, `${cp}.groups`, false);
  if (cm.uid?.claim && cm.uid?.expression) errs.push(fInvalid(`${cp}.uid`, '', "claim and expression can't both be set"));
  else if (cm.uid?.expression) unsupported.push(fInvalid(`${cp}.uid.expression`, cm.uid.expression, CEL_UNSUPPORTED));
  (cm.extra ?? []).forEach((x, i) => {
    unsupported.push(fInvalid(`${cp}.extra[${i}].valueExpression`, x.valueExpression ?? '', CEL_UNSUPPORTED));
  });
  (a.userValidationRules ?? []).forEach((r, i) => {
    const rp = `${p}.userValidationRules[${i}].expression`;
    if (!r.expression) errs.push(fRequired(rp));
    else unsupported.push(fInvalid(rp, r.expression, CEL_UNSUPPORTED));
  });
}

function normalizeJwt(a: JWTAuthenticatorConfig, signingAlgs: string[]): NormalizedJwt {
  const cm = a.claimMappings;
  const required: Array<[string, string]> = [];
  for (const r of a.claimValidationRules ?? []) if (r.claim) required.push([r.claim, r.requiredValue ?? '']);
  return {
    issuerUrl: a.issuer.url,
    discoveryUrl: a.issuer.discoveryURL || undefined,
    caPem: a.issuer.certificateAuthority || undefined,
    audiences: [...a.issuer.audiences],
    usernameClaim: cm.username.claim ?? '',
    usernamePrefix: cm.username.prefix ?? '',
    groupsClaim: cm.groups?.claim || undefined,
    groupsPrefix: cm.groups?.prefix ?? '',
    uidClaim: cm.uid?.claim || undefined,
    requiredClaims: required,
    signingAlgs,
  };
}

function loadStructuredConfig(input: AuthenticationConfiguration | string, source: string): AuthenticationConfiguration {
  let obj: unknown = input;
  if (typeof input === 'string') {
    if (input.trim() === '') throw new KubeApiServerConfigError(`failed to load authentication configuration from ${source}: empty config data`);
    try {
      obj = parseYaml(input);
    } catch (e) {
      throw new KubeApiServerConfigError(`failed to load authentication configuration from ${source}: ${(e as Error).message}`);
    }
  }
  if (!isRecord(obj)) throw new KubeApiServerConfigError(`failed to load authentication configuration from ${source}: Object 'Kind' is missing`);
  if (!obj.kind) throw new KubeApiServerConfigError(`failed to load authentication configuration from ${source}: Object 'Kind' is missing`);
  if (!AUTHN_CONFIG_VERSIONS.includes(String(obj.apiVersion)) || obj.kind !== 'AuthenticationConfiguration') {
    throw new KubeApiServerConfigError(
      `failed to load authentication configuration from ${source}: no kind ${q(obj.kind)} is registered for version ${q(obj.apiVersion ?? '')}`,
    );
  }
  const errs: string[] = [];
  strictCheck(obj, AUTHN_SCHEMA, '', errs);
  if (errs.length) throw new KubeApiServerConfigError(`failed to load authentication configuration from ${source}: strict decoding error: ${errs.join(', ')}`);
  return obj as unknown as AuthenticationConfiguration;
}

const OIDC_FLAG_KEYS = [
  'oidcIssuerUrl', 'oidcClientId', 'oidcUsernameClaim', 'oidcUsernamePrefix', 'oidcGroupsClaim', 'oidcGroupsPrefix',
  'oidcRequiredClaims', 'oidcCaPem', 'oidcCaFile', 'oidcSigningAlgs',
] as const;

/** Mirrors BuiltInAuthenticationOptions.Validate + ToAuthenticationConfig + ValidateAuthenticationConfiguration. */
export function resolveAuthenticationOptions(o: KubeApiServerOptions): NormalizedAuthn {
  const flagsSet = OIDC_FLAG_KEYS.some((k) => o[k] !== undefined);
  const structuredInput = o.authenticationConfig ?? (o.authenticationConfigFile ? readConfigFile(o.authenticationConfigFile) : undefined);
  const structuredSet = structuredInput !== undefined;

  const topErrors: string[] = [];
  if (!structuredSet && flagsSet && (!o.oidcIssuerUrl || !o.oidcClientId)) {
    topErrors.push('oidc-issuer-url and oidc-client-id must be specified together when any oidc-* flags are set');
  }
  if (structuredSet && flagsSet) topErrors.push('authentication-config file and oidc-* flags are mutually exclusive');
  if (topErrors.length) throw new KubeApiServerConfigError(aggregate(topErrors));

  let jwtConfigs: JWTAuthenticatorConfig[] = [];
  let signingAlgs: string[];
  let anonymousBlock: AuthenticationConfiguration['anonymous'];
  if (structuredSet) {
    const cfg = loadStructuredConfig(structuredInput!, o.authenticationConfigFile ? `file ${q(o.authenticationConfigFile)}` : 'options.authenticationConfig');
    jwtConfigs = cfg.jwt ?? [];
    anonymousBlock = cfg.anonymous;
    // "all known signing algs are allowed when using authentication config"
    signingAlgs = [...ALL_SIGNING_ALGS];
  } else {
    signingAlgs = o.oidcSigningAlgs && o.oidcSigningAlgs.length ? [...o.oidcSigningAlgs] : ['RS256'];
    if (o.oidcIssuerUrl && o.oidcClientId) {
      const usernameClaim = o.oidcUsernameClaim ?? 'sub';
      let usernamePrefix = o.oidcUsernamePrefix ?? '';
      if (usernamePrefix === '' && usernameClaim !== 'email') usernamePrefix = `${o.oidcIssuerUrl}#`;
      if (o.oidcUsernamePrefix === '-') usernamePrefix = '';
      let ca = o.oidcCaPem;
      if (!ca && o.oidcCaFile) ca = readConfigFile(o.oidcCaFile);
      const jwt: JWTAuthenticatorConfig = {
        issuer: { url: o.oidcIssuerUrl, audiences: [o.oidcClientId], ...(ca ? { certificateAuthority: ca } : {}) },
        claimMappings: { username: { claim: usernameClaim, prefix: usernamePrefix } },
      };
      if (o.oidcGroupsClaim) jwt.claimMappings.groups = { claim: o.oidcGroupsClaim, prefix: o.oidcGroupsPrefix ?? '' };
      const rc = Object.entries(o.oidcRequiredClaims ?? {});
      if (rc.length) jwt.claimValidationRules = rc.map(([claim, requiredValue]) => ({ claim, requiredValue }));
      jwtConfigs = [jwt];
    }
  }

  let anonymous: NormalizedAuthn['anonymous'];
  if (anonymousBlock && o.anonymousAuth !== undefined) {
    throw new KubeApiServerConfigError(
      fForbidden('anonymous', '--anonymous-auth flag cannot be set when anonymous field is configured in authentication configuration file'),
    );
  } else if (anonymousBlock) {
    const conds = anonymousBlock.conditions ?? [];
    anonymous = { enabled: !!anonymousBlock.enabled, ...(conds.length ? { paths: conds.map((c) => c.path) } : {}) };
  } else {
    anonymous = { enabled: o.anonymousAuth ?? true };
  }

  const errs: string[] = [];
  const unsupported: string[] = [];
  if (jwtConfigs.length > 64) errs.push(`jwt: Too many: ${jwtConfigs.length}: must have at most 64 items`);
  const seenIssuers = new Set<string>();
  const seenDiscovery = new Set<string>();
  jwtConfigs.forEach((a, i) => {
    const p = `jwt[${i}]`;
    validateJwtAuthenticator(a, p, errs, unsupported);
    const url = a.issuer?.url;
    if (url !== undefined) {
      if (seenIssuers.has(url)) errs.push(fDuplicate(`${p}.issuer.url`, url));
      seenIssuers.add(url);
    }
    const d = a.issuer?.discoveryURL;
    if (d) {
      if (seenDiscovery.has(d)) errs.push(fDuplicate(`${p}.issuer.discoveryURL`, d));
      seenDiscovery.add(d);
    }
  });
  if (anonymousBlock && !anonymousBlock.enabled && (anonymousBlock.conditions ?? []).length > 0) {
    errs.push(fInvalid('anonymous.conditions', anonymousBlock.conditions, 'enabled should be set to true when conditions are defined'));
  }
  if (errs.length) throw new KubeApiServerConfigError(`invalid authentication configuration: ${aggregate(errs)}`);
  if (unsupported.length) throw new KubeApiServerConfigError(`unsupported authentication configuration: ${aggregate(unsupported)}`, true);
  for (const alg of signingAlgs) {
    if (!ALL_SIGNING_ALGS.includes(alg)) throw new KubeApiServerConfigError(`oidc: unsupported signing alg: ${q(alg)}`);
  }
  return { jwt: jwtConfigs.map((a) => normalizeJwt(a, signingAlgs)), anonymous };
}

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeApiServerConfigError(`open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Small HTTP(S) client for discovery and JWKS (trusting only the configured CA when one is given)
// ---------------------------------------------------------------------------------------------------

function fetchJson(url: string, caPem: string | undefined, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`parse ${q(url)}: invalid URL`));
      return;
    }
    const mod = u.protocol === 'http:' ? http : https;
    const req = mod.get(
      u,
      { ...(u.protocol === 'https:' && caPem ? { ca: caPem } : {}), headers: { accept: 'application/json' }, timeout: timeoutMs, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error('response too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`${res.statusCode} ${res.statusMessage ?? ''}: ${body.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(new Error(`failed to decode provider response: got Content-Type = ${res.headers['content-type'] ?? ''}: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get ${q(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (e) => reject(new Error(`Get ${q(url)}: ${e.message}`)));
  });
}

// ---------------------------------------------------------------------------------------------------
// JWT authenticator (k8s.io/apiserver/plugin/pkg/authenticator/token/oidc + go-oidc v2 verify)
// ---------------------------------------------------------------------------------------------------

type AuthResult = { ok: true; user: UserInfo } | { ok: false; error: string };

const goQuoteSlice = (a: readonly string[]): string => `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;
const goTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');

function decodeRawUrl(s: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error('illegal base64 data');
  return Buffer.from(s, 'base64url');
}

/** untrustedIssuer + hasCorrectIssuer: the authenticator only looks at tokens naming its issuer. */
function untrustedIssuer(token: string): string | undefined {
  if (token.trim().startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(decodeRawUrl(parts[1]!).toString('utf8'));
    if (!isRecord(claims)) return undefined;
    const iss = claims.iss ?? '';
    if (typeof iss !== 'string') return undefined;
    return iss === 'accounts.google.com' ? 'https://accounts.google.com' : iss;
  } catch {
    return undefined;
  }
}

interface AuthnDeps {
  clock: () => number;
  log: (line: string) => void;
  stats: KubeApiServerStats;
  fetchTimeoutMs: number;
  initRetryMs: number;
}

class JwtAuthenticator {
  private ready = false;
  private closed = false;
  private jwksUri = '';
  private keys: JWK[] = [];
  private initInFlight: Promise<void> | null = null;
  private keysInFlight: Promise<JWK[]> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly imported = new WeakMap<JWK, Map<string, CryptoKey | Uint8Array>>();

  constructor(readonly cfg: NormalizedJwt, private readonly deps: AuthnDeps) {}

  start(): void {
    void this.attemptInit();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** oidc.NewProvider: discovery, exact issuer match, jwks_uri. Retried every initRetryMs until it works. */
  private attemptInit(): Promise<void> {
    if (this.initInFlight) return this.initInFlight;
    this.initInFlight = (async () => {
      try {
        const wellKnown = this.cfg.discoveryUrl ?? `${this.cfg.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`;
        this.deps.stats.discoveryFetches++;
        const doc = await fetchJson(wellKnown, this.cfg.caPem, this.deps.fetchTimeoutMs);
        if (!isRecord(doc)) throw new Error('oidc: failed to decode provider discovery object');
        if (doc.issuer !== this.cfg.issuerUrl) {
          throw new Error(`oidc: issuer did not match the issuer returned by provider, expected ${q(this.cfg.issuerUrl)} got ${q(doc.issuer ?? '')}`);
        }
        this.jwksUri = typeof doc.jwks_uri === 'string' ? doc.jwks_uri : '';
        this.ready = true;
      } catch (e) {
        this.deps.log(`oidc authenticator: initializing plugin: ${(e as Error).message}`);
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            void this.attemptInit();
          }, this.deps.initRetryMs);
          this.retryTimer.unref();
        }
      } finally {
        this.initInFlight = null;
      }
    })();
    return this.initInFlight;
  }

  /** null: not this authenticator's token (wrong `iss`), so it is skipped. */
  async authenticate(token: string): Promise<AuthResult | null> {
    if (untrustedIssuer(token) !== this.cfg.issuerUrl) return null;
    // kube-apiserver starts discovery at boot and fails tokens until it is done; we let a token that
    // arrives during the first (in-flight) attempt wait for it instead of racing the start-up.
    if (!this.ready && this.initInFlight) await this.initInFlight;
    if (!this.ready) return { ok: false, error: 'oidc: authenticator not initialized' };
    let claims: Record<string, unknown>;
    try {
      claims = await this.verify(token);
    } catch (e) {
      return { ok: false, error: `oidc: verify token: ${(e as Error).message}` };
    }
    try {
      return { ok: true, user: this.mapClaims(claims) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  /** go-oidc v2 IDTokenVerifier.Verify, then kube's multi-audience check. */
  private async verify(token: string): Promise<Record<string, unknown>> {
    const parts = token.split('.');
    if (parts.length < 2) throw new Error(`oidc: malformed jwt, expected 3 parts got ${parts.length}`);
    let payloadText: string;
    try {
      payloadText = decodeRawUrl(parts[1]!).toString('utf8');
    } catch (e) {
      throw new Error(`oidc: malformed jwt payload: ${(e as Error).message}`);
    }
    let claims: unknown;
    try {
      claims = JSON.parse(payloadText);
    } catch (e) {
      throw new Error(`oidc: failed to unmarshal claims: ${(e as Error).message}`);
    }
    if (!isRecord(claims)) throw new Error('oidc: failed to unmarshal claims: not a JSON object');
    const typeErr = (name: string, want: string): Error =>
      new Error(`oidc: failed to unmarshal claims: json: cannot unmarshal ${jsonType(claims[name as keyof typeof claims])} into Go struct field idToken.${name} of type ${want}`);
    for (const n of ['iss', 'sub', 'nonce', 'at_hash']) {
      if (claims[n] !== undefined && claims[n] !== null && typeof claims[n] !== 'string') throw typeErr(n, 'string');
    }
    for (const n of ['exp', 'iat', 'nbf']) {
      if (claims[n] !== undefined && claims[n] !== null && typeof claims[n] !== 'number') throw typeErr(n, 'oidc.jsonTime');
    }
    let aud: string[] = [];
    if (typeof claims.aud === 'string') aud = [claims.aud];
    else if (Array.isArray(claims.aud) && claims.aud.every((x) => typeof x === 'string')) aud = claims.aud as string[];
    else if (claims.aud !== undefined && claims.aud !== null) throw typeErr('aud', 'oidc.audience');

    const iss = (claims.iss as string | undefined) ?? '';
    if (iss !== this.cfg.issuerUrl) {
      throw new Error(`oidc: id token issued by a different provider, expected ${q(this.cfg.issuerUrl)} got ${q(iss)}`);
    }
    const single = new Set(this.cfg.audiences).size === 1;
    if (single && !aud.includes(this.cfg.audiences[0]!)) {
      throw new Error(`oidc: expected audience ${q(this.cfg.audiences[0])} got ${goQuoteSlice(aud)}`);
    }
    const now = this.deps.clock();
    const expMs = Math.trunc((claims.exp as number | undefined) ?? 0) * 1000;
    if (expMs < now) throw new Error(`oidc: token is expired (Token Expiry: ${goTime(expMs)})`);
    if (typeof claims.nbf === 'number') {
      const nbfMs = Math.trunc(claims.nbf) * 1000;
      if (now + NBF_LEEWAY_MS < nbfMs) {
        throw new Error(`oidc: current time ${goTime(now)} before the nbf (not before) time: ${goTime(nbfMs)}`);
      }
    }

    if (parts.length !== 3) throw new Error('oidc: malformed jwt: square/go-jose: compact JWS format must have three parts');
    let header: Record<string, unknown>;
    try {
      const h: unknown = JSON.parse(decodeRawUrl(parts[0]!).toString('utf8'));
      if (!isRecord(h)) throw new Error('header is not an object');
      header = h;
    } catch (e) {
      throw new Error(`oidc: malformed jwt: ${(e as Error).message}`);
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (!this.cfg.signingAlgs.includes(alg)) {
      throw new Error(`oidc: id token signed with unsupported algorithm, expected ${goQuoteSlice(this.cfg.signingAlgs)} got ${q(alg)}`);
    }
    const kid = typeof header.kid === 'string' ? header.kid : '';
    await this.verifySignature(token, alg, kid);

    if (!single) {
      const set = new Set(this.cfg.audiences);
      if (!aud.some((a) => set.has(a))) {
        throw new Error(`oidc: expected audience in ${goQuoteSlice([...set].sort())} got ${goQuoteSlice(aud)}`);
      }
    }
    return claims;
  }

  /** go-oidc RemoteKeySet: try cached keys; if none verifies (e.g. unknown kid), fetch the JWKS once more. */
  private async verifySignature(token: string, alg: string, kid: string): Promise<void> {
    if (await this.tryKeys(token, alg, kid, this.keys)) return;
    let keys: JWK[];
    try {
      keys = await this.refreshKeys();
    } catch (e) {
      throw new Error(`failed to verify signature: fetching keys oidc: get keys failed: ${(e as Error).message}`);
    }
    if (await this.tryKeys(token, alg, kid, keys)) return;
    throw new Error('failed to verify signature: failed to verify id token signature');
  }

  private async tryKeys(token: string, alg: string, kid: string, keys: JWK[]): Promise<boolean> {
    for (const jwk of keys) {
      if (kid !== '' && jwk.kid !== kid) continue;
      let perAlg = this.imported.get(jwk);
      if (!perAlg) {
        perAlg = new Map();
        this.imported.set(jwk, perAlg);
      }
      let key = perAlg.get(alg);
      if (!key) {
        try {
          const { use: _use, key_ops: _ops, ext: _ext, ...bare } = jwk;
          key = await importJWK({ ...bare, alg }, alg);
          perAlg.set(alg, key);
        } catch {
          continue;
        }
      }
      try {
        await compactVerify(token, key, { algorithms: [alg] });
        return true;
      } catch {
        /* try the next key */
      }
    }
    return false;
  }

  private refreshKeys(): Promise<JWK[]> {
    if (this.keysInFlight) return this.keysInFlight;
    this.keysInFlight = (async () => {
      try {
        if (!this.jwksUri) throw new Error('no jwks_uri in discovery document');
        this.deps.stats.jwksFetches++;
        const doc = await fetchJson(this.jwksUri, this.cfg.caPem, this.deps.fetchTimeoutMs);
        if (!isRecord(doc) || !Array.isArray(doc.keys)) throw new Error('oidc: failed to decode keys');
        this.keys = doc.keys.filter(isRecord) as JWK[];
        return this.keys;
      } finally {
        this.keysInFlight = null;
      }
    })();
    return this.keysInFlight;
  }

  /** getUsername/getGroups/getUID + required claims, as in oidc.go. */
  private mapClaims(c: Record<string, unknown>): UserInfo {
    const has = (n: string): boolean => Object.prototype.hasOwnProperty.call(c, n);
    const claimString = (n: string, what: string): string => {
      if (!has(n)) throw new Error(`oidc: parse ${what} ${q(n)}: claim not present`);
      const v = c[n];
      if (v === null) return '';
      if (typeof v !== 'string') throw new Error(`oidc: parse ${what} ${q(n)}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
      return v;
    };
    const uc = this.cfg.usernameClaim;
    let username = claimString(uc, 'username claims');
    if (uc === 'email' && has('email_verified')) {
      const ev = c.email_verified;
      if (ev !== null && typeof ev !== 'boolean') {
        throw new Error(`oidc: parse 'email_verified' claim: json: cannot unmarshal ${jsonType(ev)} into Go value of type bool`);
      }
      if (ev !== true) throw new Error('oidc: email not verified');
    }
    if (this.cfg.usernamePrefix) username = this.cfg.usernamePrefix + username;

    let groups: string[] = [];
    const gc = this.cfg.groupsClaim;
    if (gc && has(gc)) {
      const v = c[gc];
      if (typeof v === 'string') groups = [v];
      else if (v === null) groups = [];
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) groups = [...(v as string[])];
      else throw new Error(`oidc: parse groups claim ${q(gc)}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
      if (this.cfg.groupsPrefix) groups = groups.map((g) => this.cfg.groupsPrefix + g);
    }

    let uid = '';
    if (this.cfg.uidClaim) uid = claimString(this.cfg.uidClaim, 'uid claim');

    for (const [claim, value] of this.cfg.requiredClaims) {
      if (!has(claim)) throw new Error(`oidc: required claim ${claim} not present in ID token`);
      const v = c[claim];
      if (v !== null && typeof v !== 'string') {
        throw new Error(`oidc: parse claim ${claim}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
      }
      const got = (v as string | null) ?? '';
      if (got !== value) throw new Error(`oidc: required claim ${claim} value does not match. Got = ${got}, want = ${value}`);
    }
    return { username, groups, ...(uid ? { uid } : {}) };
  }
}

/** The union of JWT authenticators behind kube-apiserver's token success cache. */
class TokenAuthenticator {
  private readonly hmacKey = randomBytes(32);
  private readonly cache = new Map<string, { user: UserInfo; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();

  constructor(private readonly authenticators: JwtAuthenticator[], private readonly ttlMs: number, private readonly deps: AuthnDeps) {}

  async authenticate(token: string): Promise<AuthResult> {
    const key = createHmac('sha256', this.hmacKey).update(token).digest('base64url');
    const now = this.deps.clock();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) {
      this.deps.stats.tokenCacheHits++;
      return { ok: true, user: cloneUser(hit.user) };
    }
    if (hit) this.cache.delete(key);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async (): Promise<AuthResult> => {
      this.deps.stats.tokenVerifications++;
      const errors: string[] = [];
      for (const a of this.authenticators) {
        const r = await a.authenticate(token);
        if (!r) continue;
        if (r.ok) {
          if (this.ttlMs > 0) {
            if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!);
            this.cache.set(key, { user: cloneUser(r.user), expiresAt: this.deps.clock() + this.ttlMs });
          }
          return r;
        }
        errors.push(r.error);
      }
      return { ok: false, error: `[${['invalid bearer token', ...errors].join(', ')}]` };
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}

function cloneUser(u: UserInfo): UserInfo {
  return {
    username: u.username,
    groups: [...u.groups],
    ...(u.uid ? { uid: u.uid } : {}),
    ...(u.extra ? { extra: Object.fromEntries(Object.entries(u.extra).map(([k, v]) => [k, [...v]])) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Authorization: privileged group + RBAC over stored ClusterRoleBindings
// ---------------------------------------------------------------------------------------------------

interface PolicyRule {
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
const BUILTIN_CLUSTER_ROLES: Record<string, PolicyRule[]> = {
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

const BOOTSTRAP_BINDINGS: Array<[string, string, RbacSubject[]]> = [
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

interface RequestAttributes {
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
function requestInfo(method: string, pathname: string, query: URLSearchParams): Omit<RequestAttributes, 'user'> {
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

// ---------------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------------

interface Pki {
  caPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

async function makePki(stateDir: string, host: string): Promise<Pki> {
  const caCertFile = path.join(stateDir, 'ca.crt');
  const caKeyFile = path.join(stateDir, 'ca.key');
  let caPem: string;
  let caKeyPem: string;
  const now = Date.now();
  const notBeforeDate = new Date(now - 5 * 60_000);
  if (fs.existsSync(caCertFile) && fs.existsSync(caKeyFile)) {
    caPem = fs.readFileSync(caCertFile, 'utf8');
    caKeyPem = fs.readFileSync(caKeyFile, 'utf8');
  } else {
    const ca = await generate([{ name: 'commonName', value: 'kubernetes' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate: new Date(now + 10 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    caPem = ca.cert;
    caKeyPem = ca.private;
  }
  const caKeyType = createPrivateKey(caKeyPem).asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const leaf = { keyType: caKeyType, curve: 'P-256', algorithm: 'sha256', notBeforeDate, ca: { key: caKeyPem, cert: caPem } } as const;
  const altNames: Array<{ type: 2 | 7; value?: string; ip?: string }> = [
    { type: 2, value: 'localhost' },
    { type: 2, value: 'kubernetes' },
    { type: 2, value: 'kubernetes.default' },
    { type: 2, value: 'kubernetes.default.svc' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && host !== '0.0.0.0' && host !== '::') {
    altNames.push(/^[\d.]+$|:/.test(host) ? { type: 7, ip: host } : { type: 2, value: host });
  }
  const serving = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    ...leaf,
    notAfterDate: new Date(now + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  // As `talosctl kubeconfig`: O=system:masters, CN=admin, valid one year.
  const admin = await generate(
    [
      { name: 'organizationName', value: 'system:masters' },
      { name: 'commonName', value: 'admin' },
    ],
    {
      ...leaf,
      notAfterDate: new Date(now + 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  return { caPem, caKeyPem, serverCertPem: serving.cert, serverKeyPem: serving.private, adminCertPem: admin.cert, adminKeyPem: admin.private };
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers and API objects
// ---------------------------------------------------------------------------------------------------

interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason: string; message: string; field: string }>;
}

function statusBody(code: number, reason: string, message: string, details?: StatusDetails): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) return `${years}y${Math.floor(hours / 24) % 365}d`;
  return `${years}y`;
}

function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

function table(resourceVersion: string, columns: TableColumn[], rows: Array<{ cells: unknown[]; metadata: Record<string, unknown>; kind: string; apiVersion: string }>): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ format: '', ...c })),
    rows: rows.map((r) => ({
      cells: r.cells,
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: r.metadata },
    })),
  };
}

const col = (name: string, type: string, description: string, priority = 0, format = ''): TableColumn => ({ name, type, format, description, priority });

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// --- Kubernetes protobuf (kubectl sends built-in objects as application/vnd.kubernetes.protobuf) ---

interface PbField {
  field: number;
  value: Buffer | number;
}

function pbVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    result += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [result, i + 1];
  }
  throw new Error('truncated varint');
}

function pbFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let i = 0;
  while (i < buf.length) {
    const [key, p1] = pbVarint(buf, i);
    i = p1;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const [v, p] = pbVarint(buf, i);
      out.push({ field, value: v });
      i = p;
    } else if (wire === 2) {
      const [len, p] = pbVarint(buf, i);
      if (p + len > buf.length) throw new Error('truncated field');
      out.push({ field, value: buf.subarray(p, p + len) });
      i = p + len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const pbStr = (fields: PbField[], n: number): string | undefined => {
  const f = fields.find((x) => x.field === n && Buffer.isBuffer(x.value));
  return f ? (f.value as Buffer).toString('utf8') : undefined;
};
const pbMsgs = (fields: PbField[], n: number): PbField[][] =>
  fields.filter((x) => x.field === n && Buffer.isBuffer(x.value)).map((x) => pbFields(x.value as Buffer));
const pbMap = (fields: PbField[], n: number): Record<string, string> | undefined => {
  const entries = pbMsgs(fields, n);
  return entries.length ? Object.fromEntries(entries.map((e) => [pbStr(e, 1) ?? '', pbStr(e, 2) ?? ''])) : undefined;
};

/** runtime.Unknown envelope ("k8s\\0" magic) holding a SelfSubjectReview, SelfSubjectAccessReview or ClusterRoleBinding. */
function decodeK8sProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const unknown = pbFields(body.subarray(4));
  const typeMeta = pbMsgs(unknown, 1)[0] ?? [];
  const apiVersion = pbStr(typeMeta, 1);
  const kind = pbStr(typeMeta, 2);
  const raw = pbFields((unknown.find((f) => f.field === 2)?.value as Buffer | undefined) ?? Buffer.alloc(0));
  const meta = pbMsgs(raw, 1)[0] ?? [];
  const metadata: Record<string, unknown> = {};
  for (const [n, k] of [[1, 'name'], [2, 'generateName'], [3, 'namespace'], [5, 'uid'], [6, 'resourceVersion']] as const) {
    const v = pbStr(meta, n);
    if (v) metadata[k] = v;
  }
  const labels = pbMap(meta, 11);
  const annotations = pbMap(meta, 12);
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  const obj: Record<string, unknown> = { ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), metadata };
  if (kind === 'ClusterRoleBinding') {
    obj.subjects = pbMsgs(raw, 2).map((s) => ({
      kind: pbStr(s, 1) ?? '',
      apiGroup: pbStr(s, 2) ?? '',
      name: pbStr(s, 3) ?? '',
      ...(pbStr(s, 4) ? { namespace: pbStr(s, 4) } : {}),
    }));
    const rr = pbMsgs(raw, 3)[0] ?? [];
    obj.roleRef = { apiGroup: pbStr(rr, 1) ?? '', kind: pbStr(rr, 2) ?? '', name: pbStr(rr, 3) ?? '' };
  }
  if (kind === 'SelfSubjectAccessReview') {
    const spec = pbMsgs(raw, 2)[0] ?? [];
    const ra = pbMsgs(spec, 1)[0];
    const nra = pbMsgs(spec, 2)[0];
    const out: Record<string, unknown> = {};
    if (ra) {
      const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
      out.resourceAttributes = Object.fromEntries(names.map((n, i) => [n, pbStr(ra, i + 1) ?? '']).filter(([, v]) => v !== ''));
    }
    if (nra) out.nonResourceAttributes = { path: pbStr(nra, 1) ?? '', verb: pbStr(nra, 2) ?? '' };
    obj.spec = out;
  }
  return obj;
}

async function readObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  let obj: unknown;
  try {
    if (ct === 'application/vnd.kubernetes.protobuf') obj = decodeK8sProtobuf(body);
    else if (ct === 'application/yaml') obj = parseYaml(body.toString('utf8'));
    else if (ct === 'application/json' || ct === '') obj = JSON.parse(body.toString('utf8'));
    else {
      throw new HttpError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
        {},
      );
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
  if (!isRecord(obj)) throw new HttpError(400, 'BadRequest', "couldn't get version/kind; json parse error: not an object");
  return obj;
}

function validPathSegmentName(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be ${q(name)}`;
  if (name.includes('/')) return "may not contain '/'";
  if (name.includes('%')) return "may not contain '%'";
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServerHandle> {
  const authn = resolveAuthenticationOptions(options);
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((): void => undefined);
  const host = options.host ?? '127.0.0.1';
  const gitVersion = options.gitVersion ?? 'v1.34.1';
  const stats: KubeApiServerStats = {
    requests: 0, tokenVerifications: 0, tokenCacheHits: 0, unauthorized: 0, forbidden: 0, discoveryFetches: 0, jwksFetches: 0,
  };
  const authErrors: string[] = [];
  const deps: AuthnDeps = {
    clock,
    log,
    stats,
    fetchTimeoutMs: options.fetchTimeoutMs ?? 10_000,
    initRetryMs: options.oidcInitRetryMs ?? 10_000,
  };

  // --- state directory and PKI ---
  const ownStateDir = !options.stateDir;
  const stateDir = options.stateDir ? path.resolve(options.stateDir) : await fsp.mkdtemp(path.join(os.tmpdir(), 'kube-apiserver-'));
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const pki = await makePki(stateDir, host);
  const files = {
    caFile: path.join(stateDir, 'ca.crt'),
    caKey: path.join(stateDir, 'ca.key'),
    serverCert: path.join(stateDir, 'apiserver.crt'),
    serverKey: path.join(stateDir, 'apiserver.key'),
    adminCertFile: path.join(stateDir, 'admin.crt'),
    adminKeyFile: path.join(stateDir, 'admin.key'),
  };
  const writePem = async (file: string, data: string, secret: boolean): Promise<void> => {
    await fsp.writeFile(file, data, { mode: secret ? 0o600 : 0o644 });
    await fsp.chmod(file, secret ? 0o600 : 0o644);
  };
  await writePem(files.caFile, pki.caPem, false);
  await writePem(files.caKey, pki.caKeyPem, true);
  await writePem(files.serverCert, pki.serverCertPem, false);
  await writePem(files.serverKey, pki.serverKeyPem, true);
  await writePem(files.adminCertFile, pki.adminCertPem, false);
  await writePem(files.adminKeyFile, pki.adminKeyPem, true);

  // --- authenticators ---
  const jwtAuthenticators = authn.jwt.map((c) => new JwtAuthenticator(c, deps));
  const tokenAuth = new TokenAuthenticator(jwtAuthenticators, options.tokenCacheTtlMs ?? 10_000, deps);
  for (const a of jwtAuthenticators) a.start();

  // --- storage ---
  const startedAt = clock();
  let resourceVersion = 100;
  const nextRv = (): string => String(++resourceVersion);
  const bindings = new Map<string, ClusterRoleBinding>();
  const namespaces = ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map((name) => ({
    name,
    uid: randomUUID(),
    rv: nextRv(),
  }));
  for (const [name, role, subjects] of BOOTSTRAP_BINDINGS) {
    bindings.set(name, {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: {
        name,
        uid: randomUUID(),
        resourceVersion: nextRv(),
        creationTimestamp: rfc3339(startedAt),
        labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
        annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
      },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
      subjects,
    });
  }

  const normalizeBinding = (input: Record<string, unknown>, urlName?: string): ClusterRoleBinding => {
    if (input.kind !== undefined && input.kind !== 'ClusterRoleBinding') {
      throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format - kind ${q(input.kind)} is not ClusterRoleBinding`);
    }
    if (input.apiVersion !== undefined && input.apiVersion !== `${RBAC_GROUP}/v1`) {
      throw new HttpError(400, 'BadRequest', `the API version in the data (${String(input.apiVersion)}) does not match the expected API version (${RBAC_GROUP}/v1)`);
    }
    const md = isRecord(input.metadata) ? input.metadata : {};
    const name = typeof md.name === 'string' ? md.name : '';
    if (urlName !== undefined && name !== '' && name !== urlName) {
      throw new HttpError(400, 'BadRequest', `the name of the object (${name}) does not match the name on the URL (${urlName})`);
    }
    const finalName = name || urlName || '';
    const roleRefIn = isRecord(input.roleRef) ? input.roleRef : {};
    const roleRef = {
      apiGroup: typeof roleRefIn.apiGroup === 'string' && roleRefIn.apiGroup !== '' ? roleRefIn.apiGroup : RBAC_GROUP,
      kind: typeof roleRefIn.kind === 'string' ? roleRefIn.kind : '',
      name: typeof roleRefIn.name === 'string' ? roleRefIn.name : '',
    };
    const subjectsIn = Array.isArray(input.subjects) ? input.subjects : [];
    const subjects: RbacSubject[] = subjectsIn.filter(isRecord).map((s) => {
      const kind = typeof s.kind === 'string' ? s.kind : '';
      const apiGroup = typeof s.apiGroup === 'string' && s.apiGroup !== '' ? s.apiGroup : kind === 'ServiceAccount' ? '' : RBAC_GROUP;
      return {
        kind,
        ...(apiGroup ? { apiGroup } : {}),
        name: typeof s.name === 'string' ? s.name : '',
        ...(typeof s.namespace === 'string' && s.namespace ? { namespace: s.namespace } : {}),
      };
    });
    // ValidateClusterRoleBinding
    const causes: Array<{ reason: string; message: string; field: string }> = [];
    const add = (reason: string, field: string, message: string): void => {
      causes.push({ reason, field, message });
    };
    if (!finalName) add('FieldValueRequired', 'metadata.name', 'Required value: name or generateName is required');
    else {
      const bad = validPathSegmentName(finalName);
      if (bad) add('FieldValueInvalid', 'metadata.name', `Invalid value: ${q(finalName)}: ${bad}`);
    }
    if (roleRef.apiGroup !== RBAC_GROUP) add('FieldValueNotSupported', 'roleRef.apiGroup', `Unsupported value: ${q(roleRef.apiGroup)}: supported values: ${q(RBAC_GROUP)}`);
    if (roleRef.kind !== 'ClusterRole') add('FieldValueNotSupported', 'roleRef.kind', `Unsupported value: ${q(roleRef.kind)}: supported values: "ClusterRole"`);
    if (!roleRef.name) add('FieldValueRequired', 'roleRef.name', 'Required value');
    subjects.forEach((s, i) => {
      const p = `subjects[${i}]`;
      if (!s.name) add('FieldValueRequired', `${p}.name`, 'Required value');
      if (s.kind === 'ServiceAccount') {
        if (s.apiGroup) add('FieldValueNotSupported', `${p}.apiGroup`, `Unsupported value: ${q(s.apiGroup)}: supported values: ""`);
        if (!s.namespace) add('FieldValueRequired', `${p}.namespace`, 'Required value');
      } else if (s.kind === 'User' || s.kind === 'Group') {
        if (s.apiGroup !== RBAC_GROUP) add('FieldValueNotSupported', `${p}.apiGroup`, `Unsupported value: ${q(s.apiGroup ?? '')}: supported values: ${q(RBAC_GROUP)}`);
      } else {
        add('FieldValueNotSupported', `${p}.kind`, `Unsupported value: ${q(s.kind)}: supported values: "ServiceAccount", "User", "Group"`);
      }
    });
    if (causes.length) {
      const msg = `ClusterRoleBinding.${RBAC_GROUP} ${q(finalName)} is invalid: ${aggregate(causes.map((c) => `${c.field}: ${c.message}`))}`;
      throw new HttpError(422, 'Invalid', msg, { name: finalName, group: RBAC_GROUP, kind: 'ClusterRoleBinding', causes });
    }
    const labels = isRecord(md.labels) ? (md.labels as Record<string, string>) : undefined;
    const annotations = isRecord(md.annotations) ? (md.annotations as Record<string, string>) : undefined;
    return {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: {
        name: finalName,
        ...(typeof md.resourceVersion === 'string' && md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
      },
      roleRef,
      ...(subjects.length ? { subjects } : {}),
    };
  };

  for (const seed of options.clusterRoleBindings ?? []) {
    let b: ClusterRoleBinding;
    try {
      b = normalizeBinding(seed as unknown as Record<string, unknown>);
    } catch (e) {
      throw new KubeApiServerConfigError(`invalid seed ClusterRoleBinding: ${(e as Error).message}`);
    }
    b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: nextRv(), creationTimestamp: rfc3339(startedAt) };
    bindings.set(b.metadata.name, b);
  }

  // --- authorization ---
  const authorize = (a: RequestAttributes): { allowed: boolean; reason: string } => {
    if (a.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
    const missing: string[] = [];
    for (const b of bindings.values()) {
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
  };

  const forbid = (a: RequestAttributes, reason: string): HttpError => {
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
  };

  // --- authentication of one request ---
  const recordAuthError = (msg: string): void => {
    authErrors.push(msg);
    if (authErrors.length > 50) authErrors.shift();
    log(`Unable to authenticate the request: ${msg}`);
  };

  const authenticate = async (req: http.IncomingMessage, pathname: string): Promise<UserInfo | undefined> => {
    const errors: string[] = [];
    // x509 client certificates first, as in the real authenticator union.
    const socket = req.socket as TLSSocket;
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
    if (peer && Object.keys(peer).length > 0) {
      if (!socket.authorized) {
        errors.push(`verifying certificate SN=${peer.serialNumber} failed: x509: ${String(socket.authorizationError ?? 'certificate signed by unknown authority')}`);
      } else {
        const eku = peer.ext_key_usage;
        if (eku && eku.length > 0 && !eku.includes('1.3.6.1.5.5.7.3.2') && !eku.includes('2.5.29.37.0')) {
          errors.push(`verifying certificate SN=${peer.serialNumber} failed: x509: certificate specifies an incompatible key usage`);
        } else {
          const cn = peer.subject?.CN;
          const o = peer.subject?.O;
          const cnStr = Array.isArray(cn) ? cn[0] : cn;
          if (cnStr) {
            const groups = o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
            const fp = (peer.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
            return addAuthenticatedGroup({
              username: cnStr,
              groups,
              extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fp}`] },
            });
          }
        }
      }
    }
    // Bearer token (k8s.io/apiserver/pkg/authentication/request/bearertoken).
    const authz = req.headers.authorization;
    if (authz) {
      const parts = authz.trim().split(' ');
      if (parts.length >= 2 && parts[0]!.toLowerCase() === 'bearer' && parts[1]) {
        const r = await tokenAuth.authenticate(parts[1]);
        if (r.ok) return addAuthenticatedGroup(r.user);
        errors.push(r.error);
      }
    }
    if (errors.length) {
      recordAuthError(aggregate(errors));
      return undefined;
    }
    if (authn.anonymous.enabled && (!authn.anonymous.paths || authn.anonymous.paths.includes(pathname))) {
      return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    }
    recordAuthError('no credentials and anonymous authentication is not allowed for this request');
    return undefined;
  };

  const impersonate = (req: http.IncomingMessage, user: UserInfo): UserInfo => {
    const h = req.headers;
    const impUser = typeof h['impersonate-user'] === 'string' ? h['impersonate-user'] : undefined;
    const rawGroups = h['impersonate-group'];
    const impGroups = rawGroups === undefined ? [] : Array.isArray(rawGroups) ? rawGroups : [rawGroups];
    const impUid = typeof h['impersonate-uid'] === 'string' ? h['impersonate-uid'] : undefined;
    if (!impUser && impGroups.length === 0 && !impUid) return user;
    if (!impUser) throw new HttpError(500, 'InternalError', `Internal error occurred: requested ${goQuoteSlice(impGroups)} without impersonating a user`);
    const check = (attrs: Omit<RequestAttributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'apiVersion' | 'subresource'>): void => {
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
  };

  // --- discovery documents ---
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
  const apiGroup = (name: string): Record<string, unknown> => {
    const gv = { groupVersion: `${name}/v1`, version: 'v1' };
    return { name, versions: [gv], preferredVersion: gv };
  };
  const [, major = '1', minor = '34'] = /^v(\d+)\.(\d+)/.exec(gitVersion) ?? [];
  const versionInfo = {
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

  let port = 0;

  const namespaceObject = (n: (typeof namespaces)[number]): Record<string, unknown> => ({
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name: n.name,
      uid: n.uid,
      resourceVersion: n.rv,
      creationTimestamp: rfc3339(startedAt),
      labels: { 'kubernetes.io/metadata.name': n.name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });

  const namespaceTable = (list: typeof namespaces): Record<string, unknown> =>
    table(
      String(resourceVersion),
      [
        col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
        col('Status', 'string', 'The status of the namespace'),
        col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
      ],
      list.map((n) => ({
        kind: 'Namespace',
        apiVersion: 'v1',
        metadata: namespaceObject(n).metadata as Record<string, unknown>,
        cells: [n.name, 'Active', humanDuration(clock() - startedAt)],
      })),
    );

  const bindingTable = (items: ClusterRoleBinding[]): Record<string, unknown> => {
    const subjectsOf = (b: ClusterRoleBinding, kind: string): string =>
      (b.subjects ?? [])
        .filter((s) => s.kind === kind)
        .map((s) => (kind === 'ServiceAccount' ? `${s.namespace}/${s.name}` : s.name))
        .join(', ');
    return table(
      String(resourceVersion),
      [
        col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
        col('Role', 'string', 'RoleRef is the reference to the role.'),
        col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
        col('Users', 'string', 'Users in the roleBinding', 1),
        col('Groups', 'string', 'Groups in the roleBinding', 1),
        col('ServiceAccounts', 'string', 'ServiceAccounts in the roleBinding', 1),
      ],
      items.map((b) => ({
        kind: 'ClusterRoleBinding',
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: { ...b.metadata },
        cells: [
          b.metadata.name,
          `ClusterRole/${b.roleRef.name}`,
          humanDuration(clock() - Date.parse(b.metadata.creationTimestamp ?? rfc3339(startedAt))),
          subjectsOf(b, 'User'),
          subjectsOf(b, 'Group'),
          subjectsOf(b, 'ServiceAccount'),
        ],
      })),
    );
  };

  // --- routing (after authentication and authorization) ---
  const route = async (
    req: http.IncomingMessage,
    attrs: RequestAttributes,
    url: URL,
  ): Promise<{ code: number; body: unknown; text?: boolean }> => {
    const method = req.method ?? 'GET';
    const p = url.pathname;
    const accept = req.headers.accept;
    const notFound = (): never => {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource', {});
    };
    const methodNotAllowed = (): never => {
      throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    };

    if (!attrs.isResourceRequest) {
      const get = method === 'GET' || method === 'HEAD';
      switch (p.replace(/\/$/, '') || '/') {
        case '/version':
          if (!get) methodNotAllowed();
          return { code: 200, body: versionInfo };
        case '/healthz':
        case '/livez':
        case '/readyz':
          if (!get) methodNotAllowed();
          return { code: 200, body: 'ok', text: true };
        case '/api':
          if (!get) methodNotAllowed();
          return {
            code: 200,
            body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `${host}:${port}` }] },
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

    const gv = attrs.apiGroup ? `${attrs.apiGroup}/${attrs.apiVersion}` : attrs.apiVersion;
    if (attrs.verb === 'watch') {
      throw new HttpError(405, 'MethodNotAllowed', 'watch is not supported by this kube-apiserver stand-in', {});
    }

    // core/v1
    if (gv === 'v1') {
      if (attrs.resource === 'namespaces' && !attrs.subresource) {
        if (attrs.verb === 'list') {
          if (wantsTable(accept)) return { code: 200, body: namespaceTable(namespaces) };
          return {
            code: 200,
            body: { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(resourceVersion) }, items: namespaces.map(namespaceObject) },
          };
        }
        if (attrs.verb === 'get') {
          const n = namespaces.find((x) => x.name === attrs.name);
          if (!n) throw new HttpError(404, 'NotFound', `namespaces ${q(attrs.name)} not found`, { name: attrs.name, kind: 'namespaces' });
          return { code: 200, body: wantsTable(accept) ? namespaceTable([n]) : namespaceObject(n) };
        }
        methodNotAllowed();
      }
      if (attrs.resource === 'pods' && !attrs.subresource) {
        if (attrs.verb === 'list') {
          const rv = String(resourceVersion);
          if (wantsTable(accept)) {
            return {
              code: 200,
              body: table(
                rv,
                [
                  col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
                  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
                  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
                  col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
                  col('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
                  col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
                  col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node.', 1),
                  col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
                  col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
                ],
                [],
              ),
            };
          }
          return { code: 200, body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items: [] } };
        }
        if (attrs.verb === 'get') throw new HttpError(404, 'NotFound', `pods ${q(attrs.name)} not found`, { name: attrs.name, kind: 'pods' });
        methodNotAllowed();
      }
      notFound();
    }

    if (gv === 'authentication.k8s.io/v1' && attrs.resource === 'selfsubjectreviews' && !attrs.name) {
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
          metadata: { creationTimestamp: rfc3339(clock()) },
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

    if (gv === 'authorization.k8s.io/v1' && attrs.resource === 'selfsubjectaccessreviews' && !attrs.name) {
      if (attrs.verb !== 'create') methodNotAllowed();
      const body = await readObject(req);
      if (body.kind !== undefined && body.kind !== 'SelfSubjectAccessReview') {
        throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format - kind ${q(body.kind)} is not SelfSubjectAccessReview`);
      }
      const spec = isRecord(body.spec) ? body.spec : {};
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
      const review: RequestAttributes = ra
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
      const d = authorize(review);
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

    if (gv === `${RBAC_GROUP}/v1` && attrs.resource === 'clusterroles' && !attrs.subresource) {
      const roleObj = (name: string): Record<string, unknown> => ({
        kind: 'ClusterRole',
        apiVersion: `${RBAC_GROUP}/v1`,
        metadata: {
          name,
          creationTimestamp: rfc3339(startedAt),
          labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
          annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
        },
        rules: BUILTIN_CLUSTER_ROLES[name],
      });
      if (attrs.verb === 'list') {
        const names = Object.keys(BUILTIN_CLUSTER_ROLES).sort();
        if (wantsTable(accept)) {
          return {
            code: 200,
            body: table(
              String(resourceVersion),
              [col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), col('Created At', 'date', 'CreationTimestamp')],
              names.map((n) => ({ kind: 'ClusterRole', apiVersion: `${RBAC_GROUP}/v1`, metadata: roleObj(n).metadata as Record<string, unknown>, cells: [n, rfc3339(startedAt)] })),
            ),
          };
        }
        return { code: 200, body: { kind: 'ClusterRoleList', apiVersion: `${RBAC_GROUP}/v1`, metadata: { resourceVersion: String(resourceVersion) }, items: names.map(roleObj) } };
      }
      if (attrs.verb === 'get') {
        if (!BUILTIN_CLUSTER_ROLES[attrs.name]) {
          throw new HttpError(404, 'NotFound', `clusterroles.${RBAC_GROUP} ${q(attrs.name)} not found`, { name: attrs.name, group: RBAC_GROUP, kind: 'clusterroles' });
        }
        if (wantsTable(accept)) {
          return {
            code: 200,
            body: table(
              String(resourceVersion),
              [col('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), col('Created At', 'date', 'CreationTimestamp')],
              [{ kind: 'ClusterRole', apiVersion: `${RBAC_GROUP}/v1`, metadata: roleObj(attrs.name).metadata as Record<string, unknown>, cells: [attrs.name, rfc3339(startedAt)] }],
            ),
          };
        }
        return { code: 200, body: roleObj(attrs.name) };
      }
      methodNotAllowed();
    }

    if (gv === `${RBAC_GROUP}/v1` && attrs.resource === 'clusterrolebindings' && !attrs.subresource) {
      const dryRun = url.searchParams.getAll('dryRun').length > 0;
      const notFoundErr = (name: string): HttpError =>
        new HttpError(404, 'NotFound', `clusterrolebindings.${RBAC_GROUP} ${q(name)} not found`, { name, group: RBAC_GROUP, kind: 'clusterrolebindings' });
      switch (attrs.verb) {
        case 'list': {
          const items = [...bindings.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
          if (wantsTable(accept)) return { code: 200, body: bindingTable(items) };
          return {
            code: 200,
            body: { kind: 'ClusterRoleBindingList', apiVersion: `${RBAC_GROUP}/v1`, metadata: { resourceVersion: String(resourceVersion) }, items },
          };
        }
        case 'get': {
          const b = bindings.get(attrs.name);
          if (!b) throw notFoundErr(attrs.name);
          return { code: 200, body: wantsTable(accept) ? bindingTable([b]) : b };
        }
        case 'create': {
          const b = normalizeBinding(await readObject(req));
          if (bindings.has(b.metadata.name)) {
            throw new HttpError(409, 'AlreadyExists', `clusterrolebindings.${RBAC_GROUP} ${q(b.metadata.name)} already exists`, {
              name: b.metadata.name,
              group: RBAC_GROUP,
              kind: 'clusterrolebindings',
            });
          }
          delete b.metadata.resourceVersion;
          b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: dryRun ? undefined : nextRv(), creationTimestamp: rfc3339(clock()) };
          if (dryRun) delete b.metadata.resourceVersion;
          else bindings.set(b.metadata.name, b);
          return { code: 201, body: b };
        }
        case 'update': {
          const b = normalizeBinding(await readObject(req), attrs.name);
          const existing = bindings.get(attrs.name);
          if (!existing) {
            delete b.metadata.resourceVersion;
            b.metadata = { ...b.metadata, uid: randomUUID(), resourceVersion: nextRv(), creationTimestamp: rfc3339(clock()) };
            if (!dryRun) bindings.set(b.metadata.name, b);
            return { code: 201, body: b };
          }
          if (b.metadata.resourceVersion && b.metadata.resourceVersion !== existing.metadata.resourceVersion) {
            throw new HttpError(
              409,
              'Conflict',
              `Operation cannot be fulfilled on clusterrolebindings.${RBAC_GROUP} ${q(attrs.name)}: the object has been modified; please apply your changes to the latest version and try again`,
              { name: attrs.name, group: RBAC_GROUP, kind: 'clusterrolebindings' },
            );
          }
          if (b.roleRef.name !== existing.roleRef.name || b.roleRef.kind !== existing.roleRef.kind || b.roleRef.apiGroup !== existing.roleRef.apiGroup) {
            const msg = 'cannot change roleRef';
            throw new HttpError(422, 'Invalid', `ClusterRoleBinding.${RBAC_GROUP} ${q(attrs.name)} is invalid: roleRef: Invalid value: ${q(JSON.stringify(b.roleRef))}: ${msg}`, {
              name: attrs.name,
              group: RBAC_GROUP,
              kind: 'ClusterRoleBinding',
              causes: [{ reason: 'FieldValueInvalid', message: msg, field: 'roleRef' }],
            });
          }
          b.metadata = {
            ...b.metadata,
            uid: existing.metadata.uid,
            creationTimestamp: existing.metadata.creationTimestamp,
            resourceVersion: dryRun ? existing.metadata.resourceVersion : nextRv(),
          };
          if (!dryRun) bindings.set(attrs.name, b);
          return { code: 200, body: b };
        }
        case 'delete': {
          const b = bindings.get(attrs.name);
          if (!b) throw notFoundErr(attrs.name);
          if (!dryRun) bindings.delete(attrs.name);
          return {
            code: 200,
            body: {
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Success',
              details: { name: attrs.name, group: RBAC_GROUP, kind: 'clusterrolebindings', uid: b.metadata.uid },
            },
          };
        }
        default:
          methodNotAllowed();
      }
    }
    notFound();
    throw new Error('unreachable');
  };

  const send = (res: http.ServerResponse, code: number, body: unknown, text = false): void => {
    const payload = text ? String(body) : JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': text ? 'text/plain; charset=utf-8' : 'application/json',
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(payload),
    });
    res.end(res.req.method === 'HEAD' ? undefined : payload);
  };

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'https://apiserver.invalid');
    let status = 500;
    let who = '-';
    try {
      const authed = await authenticate(req, url.pathname);
      if (!authed) {
        stats.unauthorized++;
        status = 401;
        send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const user = impersonate(req, authed);
      who = user.username;
      const attrs: RequestAttributes = { ...requestInfo(req.method ?? 'GET', url.pathname, url.searchParams), user };
      const decision = authorize(attrs);
      if (!decision.allowed) throw forbid(attrs, decision.reason);
      const r = await route(req, attrs, url);
      status = r.code;
      send(res, r.code, r.body, r.text);
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.code;
        if (e.code === 403) stats.forbidden++;
        send(res, e.code, statusBody(e.code, e.reason, e.message, e.details));
      } else {
        status = 500;
        log(`internal error: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) send(res, 500, statusBody(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`, {}));
      }
    } finally {
      if (options.logRequests) log(`${req.method} ${url.pathname} ${status} user=${JSON.stringify(who)}`);
    }
  };

  const server = https.createServer(
    {
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: [pki.caPem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      void handler(req, res);
    },
  );
  server.on('tlsClientError', () => {
    /* bad handshakes are the client's problem; keep serving */
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const serverUrl = `https://${urlHost}:${port}`;
  log(`kube-apiserver stand-in ${gitVersion} serving on ${serverUrl} (${authn.jwt.length} JWT authenticator(s), anonymous ${authn.anonymous.enabled ? 'enabled' : 'disabled'})`);

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const a of jwtAuthenticators) a.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    if (ownStateDir) await fsp.rm(stateDir, { recursive: true, force: true });
  };

  const writeAdminKubeconfig = async (
    file: string,
    name = 'pocketkube',
    opts: WriteKubeconfigOptions = {},
  ): Promise<{ context: string; cluster: string; user: string }> => {
    let doc: Record<string, unknown> = { apiVersion: 'v1', kind: 'Config', clusters: [], contexts: [], users: [], preferences: {} };
    if (opts.merge !== false) {
      try {
        const existing: unknown = parseYaml(await fsp.readFile(file, 'utf8'));
        if (isRecord(existing)) doc = { ...doc, ...existing };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const list = (k: string): Array<Record<string, unknown>> => (Array.isArray(doc[k]) ? (doc[k] as unknown[]).filter(isRecord) : []);
    let clusters = list('clusters');
    let users = list('users');
    let contexts = list('contexts');
    const taken = (n: string): boolean =>
      clusters.some((c) => c.name === n) || users.some((u) => u.name === `admin@${n}`) || contexts.some((c) => c.name === `admin@${n}`);
    let finalName = name;
    if (opts.force) {
      clusters = clusters.filter((c) => c.name !== name);
      users = users.filter((u) => u.name !== `admin@${name}`);
      contexts = contexts.filter((c) => c.name !== `admin@${name}`);
    } else {
      for (let i = 1; taken(finalName); i++) finalName = `${name}-${i}`;
    }
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const ctx = `admin@${finalName}`;
    clusters.push({ name: finalName, cluster: { server: serverUrl, 'certificate-authority-data': b64(pki.caPem) } });
    users.push({ name: ctx, user: { 'client-certificate-data': b64(pki.adminCertPem), 'client-key-data': b64(pki.adminKeyPem) } });
    contexts.push({ name: ctx, context: { cluster: finalName, namespace: 'default', user: ctx } });
    doc = { ...doc, clusters, contexts, users, 'current-context': ctx };
    await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await fsp.writeFile(file, stringifyYaml(doc), { mode: 0o600 });
    return { context: ctx, cluster: finalName, user: ctx };
  };

  return {
    server: serverUrl,
    port,
    caPem: pki.caPem,
    caFile: files.caFile,
    adminCertPem: pki.adminCertPem,
    adminKeyPem: pki.adminKeyPem,
    adminCertFile: files.adminCertFile,
    adminKeyFile: files.adminKeyFile,
    stateDir,
    stats: () => ({ ...stats }),
    recentAuthErrors: () => [...authErrors],
    listClusterRoleBindings: () => [...bindings.values()].map((b) => JSON.parse(JSON.stringify(b)) as ClusterRoleBinding),
    writeAdminKubeconfig,
    close,
  };
}

function addAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.groups.includes('system:authenticated') || u.groups.includes('system:unauthenticated')) return u;
  return { ...u, groups: [...u.groups, 'system:authenticated'] };
}

// ---------------------------------------------------------------------------------------------------
// Separate-process entry point
// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const log = (line: string): void => {
    process.stderr.write(`kube-apiserver: ${line}\n`);
  };
  let opts: KubeApiServerOptions;
  try {
    const raw = process.env.KUBE_APISERVER_CONFIG ?? '{}';
    const parsed: unknown = JSON.parse(raw);
    if (!isRecord(parsed)) throw new Error('KUBE_APISERVER_CONFIG must be a JSON object');
    opts = parsed as KubeApiServerOptions;
  } catch (e) {
    log(`bad KUBE_APISERVER_CONFIG: ${(e as Error).message}`);
    process.stdout.write(`${JSON.stringify({ ready: false, error: (e as Error).message })}\n`);
    process.exit(2);
  }
  let handle: KubeApiServerHandle;
  try {
    handle = await startKubeApiServer({ ...opts, log });
  } catch (e) {
    log((e as Error).message);
    process.stdout.write(`${JSON.stringify({ ready: false, error: (e as Error).message })}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void handle.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      server: handle.server,
      port: handle.port,
      caFile: handle.caFile,
      adminCertFile: handle.adminCertFile,
      adminKeyFile: handle.adminKeyFile,
      stateDir: handle.stateDir,
    })}\n`,
  );
}

const invokedDirectly = ((): boolean => {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) void main();
