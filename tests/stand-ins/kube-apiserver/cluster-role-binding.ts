/**
 * A ClusterRoleBinding from a request body (or a seed), read and validated as kube-apiserver does
 * (ValidateClusterRoleBinding): defaulted API groups, the name rules, a ClusterRole roleRef, known subject
 * kinds. An invalid one is the 422 Status with one cause per field.
 */
import { HttpError } from './http.js';
import { aggregate, isRecord, q } from './messages.js';
import { RBAC_GROUP } from './roles.js';
import type { ClusterRoleBinding, RbacSubject } from './types.js';

type Cause = { reason: string; message: string; field: string };

/** `urlName` is the name in the URL of a PUT, which the body's name must match. */
export function normalizeBinding(input: Record<string, unknown>, urlName?: string): ClusterRoleBinding {
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
  const subjects = readSubjects(input.subjects);
  const causes = validationCauses(finalName, roleRef, subjects);
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
}

/** Subjects with their API group defaulted (rbac for users and groups, none for service accounts). */
function readSubjects(value: unknown): RbacSubject[] {
  const subjectsIn = Array.isArray(value) ? value : [];
  return subjectsIn.filter(isRecord).map((s) => {
    const kind = typeof s.kind === 'string' ? s.kind : '';
    const apiGroup = typeof s.apiGroup === 'string' && s.apiGroup !== '' ? s.apiGroup : kind === 'ServiceAccount' ? '' : RBAC_GROUP;
    return {
      kind,
      ...(apiGroup ? { apiGroup } : {}),
      name: typeof s.name === 'string' ? s.name : '',
      ...(typeof s.namespace === 'string' && s.namespace ? { namespace: s.namespace } : {}),
    };
  });
}

/** ValidateClusterRoleBinding's field errors, in its order. */
function validationCauses(finalName: string, roleRef: ClusterRoleBinding['roleRef'], subjects: RbacSubject[]): Cause[] {
  const causes: Cause[] = [];
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
  return causes;
}

function validPathSegmentName(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be ${q(name)}`;
  if (name.includes('/')) return "may not contain '/'";
  if (name.includes('%')) return "may not contain '%'";
  return undefined;
}
