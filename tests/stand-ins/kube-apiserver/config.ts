/**
 * The stand-in's authentication settings, resolved the way kube-apiserver resolves its flags: either the
 * `--oidc-*` flags (turned into one JWT authenticator, with the flags' username-prefix rules) or a structured
 * AuthenticationConfiguration, plus `--anonymous-auth` or the configuration's anonymous block. Everything is
 * validated before the server starts, and normalized into what the authenticators need.
 */
import * as fs from 'node:fs';
import { validateAuthenticationConfiguration } from './config-validation.js';
import { aggregate, fForbidden, q } from './messages.js';
import { loadStructuredConfig } from './structured-config.js';
import { KubeApiServerConfigError, type AuthenticationConfiguration, type JWTAuthenticatorConfig, type KubeApiServerOptions } from './types.js';

/** One JWT authenticator's settings, as the authenticator uses them. */
export interface NormalizedJwt {
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

export interface NormalizedAuthn {
  jwt: NormalizedJwt[];
  anonymous: { enabled: boolean; paths?: string[] };
}

const ALL_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'];

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
    if (o.oidcIssuerUrl && o.oidcClientId) jwtConfigs = [jwtFromFlags(o, o.oidcIssuerUrl, o.oidcClientId)];
  }
  const anonymous = resolveAnonymous(anonymousBlock, o.anonymousAuth);
  validateAuthenticationConfiguration(jwtConfigs, anonymousBlock);
  for (const alg of signingAlgs) {
    if (!ALL_SIGNING_ALGS.includes(alg)) throw new KubeApiServerConfigError(`oidc: unsupported signing alg: ${q(alg)}`);
  }
  return { jwt: jwtConfigs.map((a) => normalizeJwt(a, signingAlgs)), anonymous };
}

/** ToAuthenticationConfig for the `--oidc-*` flags: one authenticator, with the flags' username-prefix defaults. */
function jwtFromFlags(o: KubeApiServerOptions, issuerUrl: string, clientId: string): JWTAuthenticatorConfig {
  const usernameClaim = o.oidcUsernameClaim ?? 'sub';
  let usernamePrefix = o.oidcUsernamePrefix ?? '';
  if (usernamePrefix === '' && usernameClaim !== 'email') usernamePrefix = `${issuerUrl}#`;
  if (o.oidcUsernamePrefix === '-') usernamePrefix = '';
  let ca = o.oidcCaPem;
  if (!ca && o.oidcCaFile) ca = readConfigFile(o.oidcCaFile);
  const jwt: JWTAuthenticatorConfig = {
    issuer: { url: issuerUrl, audiences: [clientId], ...(ca ? { certificateAuthority: ca } : {}) },
    claimMappings: { username: { claim: usernameClaim, prefix: usernamePrefix } },
  };
  if (o.oidcGroupsClaim) jwt.claimMappings.groups = { claim: o.oidcGroupsClaim, prefix: o.oidcGroupsPrefix ?? '' };
  const rc = Object.entries(o.oidcRequiredClaims ?? {});
  if (rc.length) jwt.claimValidationRules = rc.map(([claim, requiredValue]) => ({ claim, requiredValue }));
  return jwt;
}

function resolveAnonymous(anonymousBlock: AuthenticationConfiguration['anonymous'], anonymousAuth: boolean | undefined): NormalizedAuthn['anonymous'] {
  if (anonymousBlock && anonymousAuth !== undefined) {
    throw new KubeApiServerConfigError(
      fForbidden('anonymous', '--anonymous-auth flag cannot be set when anonymous field is configured in authentication configuration file'),
    );
  }
  if (anonymousBlock) {
    const conds = anonymousBlock.conditions ?? [];
    return { enabled: !!anonymousBlock.enabled, ...(conds.length ? { paths: conds.map((c) => c.path) } : {}) };
  }
  return { enabled: anonymousAuth ?? true };
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

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeApiServerConfigError(`open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
