/** The ExecCredential kubectl reads from the helper's stdout. */
export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/**
 * kubectl insists that the answer carries the apiVersion of the kubeconfig's exec block (it says which in
 * KUBERNETES_EXEC_INFO), so the seed's v1beta1 users and our v1 users are both answered in their own words.
 */
export function apiVersionFromExecInfo(execInfo: string | undefined): ExecApiVersion {
  if (!execInfo) return 'client.authentication.k8s.io/v1';
  try {
    const v = (JSON.parse(execInfo) as { apiVersion?: string }).apiVersion;
    return (EXEC_API_VERSIONS as readonly string[]).includes(v ?? '') ? (v as ExecApiVersion) : 'client.authentication.k8s.io/v1';
  } catch {
    return 'client.authentication.k8s.io/v1';
  }
}

export function execCredential(token: string, expirationTimestamp: string, apiVersion: ExecApiVersion = 'client.authentication.k8s.io/v1') {
  return { apiVersion, kind: 'ExecCredential', spec: {}, status: { token, expirationTimestamp } };
}
