/**
 * ValidateAuthenticationConfiguration from k8s.io/apiserver/pkg/apis/apiserver/validation: the same checks,
 * the same field paths and messages. CEL expressions are refused as unsupported (the stand-in has no CEL).
 */
import { X509Certificate } from 'node:crypto';
import { aggregate, fDuplicate, fInvalid, fRequired, isRecord, q } from './messages.js';
import { KubeApiServerConfigError, type AuthenticationConfiguration, type JWTAuthenticatorConfig, type PrefixedClaimOrExpression } from './types.js';

const CEL_UNSUPPORTED = "CEL expressions are not supported by PocketKube's kube-apiserver stand-in (use claim/prefix or claim/requiredValue)";

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

/** All JWT authenticators and the anonymous block; throws the aggregated errors kube-apiserver would refuse to start with. */
export function validateAuthenticationConfiguration(jwtConfigs: JWTAuthenticatorConfig[], anonymousBlock: AuthenticationConfiguration['anonymous']): void {
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
}

/** validateJWTAuthenticator from k8s.io/apiserver/pkg/apis/apiserver/validation. */
function validateJwtAuthenticator(a: JWTAuthenticatorConfig, p: string, errs: string[], unsupported: string[]): void {
  validateIssuer(isRecord(a.issuer) ? a.issuer : ({} as JWTAuthenticatorConfig['issuer']), `${p}.issuer`, errs);
  validateClaimValidationRules(a, p, errs, unsupported);
  const cm = isRecord(a.claimMappings) ? a.claimMappings : ({ username: {} } as JWTAuthenticatorConfig['claimMappings']);
  validateClaimMappings(cm, `${p}.claimMappings`, errs, unsupported);
  (a.userValidationRules ?? []).forEach((r, i) => {
    const rp = `${p}.userValidationRules[${i}].expression`;
    if (!r.expression) errs.push(fRequired(rp));
    else unsupported.push(fInvalid(rp, r.expression, CEL_UNSUPPORTED));
  });
}

function validateIssuer(issuer: JWTAuthenticatorConfig['issuer'], ip: string, errs: string[]): void {
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
}

function validateClaimValidationRules(a: JWTAuthenticatorConfig, p: string, errs: string[], unsupported: string[]): void {
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
}

function validateClaimMappings(cm: JWTAuthenticatorConfig['claimMappings'], cp: string, errs: string[], unsupported: string[]): void {
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
}
