/**
 * An ID token's claims as kube-apiserver reads them: the unverified issuer that picks the authenticator,
 * go-oidc's typed decoding of the payload, and oidc.go's mapping of claims to a user (username claim and
 * prefix, email_verified, groups claim and prefix, uid, required claims).
 */
import type { NormalizedJwt } from './config.js';
import { isRecord, jsonType, q } from './messages.js';
import type { UserInfo } from './types.js';

export function decodeRawUrl(s: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error('illegal base64 data');
  return Buffer.from(s, 'base64url');
}

/** untrustedIssuer + hasCorrectIssuer: the authenticator only looks at tokens naming its issuer. */
export function untrustedIssuer(token: string): string | undefined {
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

/** The payload of a JWT split into `parts`, decoded with go-oidc's types: string claims, numeric times, audience. */
export function decodeClaims(parts: string[]): { claims: Record<string, unknown>; aud: string[] } {
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
  return { claims, aud };
}

/** getUsername/getGroups/getUID + required claims, as in oidc.go. */
export function userFromClaims(cfg: NormalizedJwt, c: Record<string, unknown>): UserInfo {
  const has = (n: string): boolean => Object.prototype.hasOwnProperty.call(c, n);
  const claimString = (n: string, what: string): string => {
    if (!has(n)) throw new Error(`oidc: parse ${what} ${q(n)}: claim not present`);
    const v = c[n];
    if (v === null) return '';
    if (typeof v !== 'string') throw new Error(`oidc: parse ${what} ${q(n)}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
    return v;
  };
  const uc = cfg.usernameClaim;
  let username = claimString(uc, 'username claims');
  if (uc === 'email' && has('email_verified')) {
    const ev = c.email_verified;
    if (ev !== null && typeof ev !== 'boolean') {
      throw new Error(`oidc: parse 'email_verified' claim: json: cannot unmarshal ${jsonType(ev)} into Go value of type bool`);
    }
    if (ev !== true) throw new Error('oidc: email not verified');
  }
  if (cfg.usernamePrefix) username = cfg.usernamePrefix + username;

  let groups: string[] = [];
  const gc = cfg.groupsClaim;
  if (gc && has(gc)) {
    const v = c[gc];
    if (typeof v === 'string') groups = [v];
    else if (v === null) groups = [];
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) groups = [...(v as string[])];
    else throw new Error(`oidc: parse groups claim ${q(gc)}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
    if (cfg.groupsPrefix) groups = groups.map((g) => cfg.groupsPrefix + g);
  }

  let uid = '';
  if (cfg.uidClaim) uid = claimString(cfg.uidClaim, 'uid claim');

  for (const [claim, value] of cfg.requiredClaims) {
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
