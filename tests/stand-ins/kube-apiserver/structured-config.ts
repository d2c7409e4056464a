/**
 * Reading an `apiserver.config.k8s.io` AuthenticationConfiguration (`--authentication-config`) the way the
 * apiserver's config scheme does: YAML or JSON, a known apiVersion and kind, strict decoding.
 */
import { parse as parseYaml } from 'yaml';
import { isRecord, jsonType, q } from './messages.js';
import { KubeApiServerConfigError, type AuthenticationConfiguration } from './types.js';

const AUTHN_CONFIG_VERSIONS = ['apiserver.config.k8s.io/v1alpha1', 'apiserver.config.k8s.io/v1beta1', 'apiserver.config.k8s.io/v1'];

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

export function loadStructuredConfig(input: AuthenticationConfiguration | string, source: string): AuthenticationConfiguration {
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
