/**
 * Talking to a cluster through the user's kubeconfig with @kubernetes/client-node, reading the files the way kubectl
 * does, and turning failures into one-sentence errors that say whether the token, RBAC, TLS or the network is at fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiException, AuthenticationV1Api, KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { PocketKubeError } from '../platform/errors.js';
import { resolveFiles } from '../kubeconfig/files.js';
import type { WhoAmI } from '../../shared/talos.js';
export type { WhoAmI };

export type KubeFailureKind = 'unauthorized' | 'forbidden' | 'not-found' | 'conflict' | 'invalid' | 'unreachable' | 'tls' | 'credential' | 'http';

/** A failed request to the API server; `kind` tells the token (401) from RBAC (403) from the transport. */
export class KubeRequestError extends PocketKubeError {
  override name = 'KubeRequestError';
  constructor(
    message: string,
    readonly kind: KubeFailureKind,
    /** The API server's HTTP status (not ours: the agent's answer comes from `code`). */
    readonly apiStatus?: number,
    /** The API server's own Status message, when it sent one. */
    readonly serverMessage?: string,
  ) {
    super(`kube_${kind.replace('-', '_')}`, message);
  }
}

export interface LoadedKubeconfig {
  kc: KubeConfig;
  context: string;
  cluster: Cluster;
  user: User;
  /** The files read, in order (missing ones left out, as kubectl does). */
  files: string[];
}

/**
 * Reads and merges kubeconfig files like kubectl: missing files are skipped, the first file that defines a name wins,
 * and current-context comes from the first file that sets it. (client-node's own mergeConfig throws on duplicates.)
 */
export function loadKubeconfig(opts: { kubeconfigFiles?: string[]; context?: string }): LoadedKubeconfig {
  const paths = resolveFiles(opts.kubeconfigFiles);
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let current: string | undefined;
  const read: string[] = [];
  for (const file of paths) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`Kubeconfig ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): fix its permissions or leave it out of KUBECONFIG.`);
    }
    read.push(file);
    if (!text.trim()) continue;
    const one = new KubeConfig();
    try {
      // Broken entries of other tools are skipped rather than stopping us; the ones we use are checked below.
      one.loadFromString(text, { onInvalidEntry: 'filter' });
      one.makePathsAbsolute(path.dirname(file));
    } catch (e) {
      throw new Error(`Kubeconfig ${file} is not a valid kubeconfig (${firstLine((e as Error).message)}): fix the file or leave it out of KUBECONFIG.`);
    }
    for (const c of one.clusters ?? []) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of one.users ?? []) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of one.contexts ?? []) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    if (!current && one.currentContext) current = one.currentContext;
  }
  if (!read.length) {
    throw new Error(`No kubeconfig file exists (looked at ${paths.join(', ')}): run \`talosctl kubeconfig\` or name a file with KUBECONFIG.`);
  }
  const contextName = opts.context ?? current;
  const where = read.join(', ');
  if (!contextName) throw new Error(`No current-context is set in ${where}: name a context (one of ${names(contexts)}).`);
  const ctx = contexts.find((c) => c.name === contextName);
  if (!ctx) throw new Error(`Context "${contextName}" is not in ${where}: use one of ${names(contexts)}.`);
  const cluster = clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) throw new Error(`Context "${contextName}" names cluster "${ctx.cluster}", which ${where} does not define: add the cluster or fix the context.`);
  const user = users.find((u) => u.name === ctx.user);
  if (!user) throw new Error(`Context "${contextName}" names user "${ctx.user}", which ${where} does not define: add the user or fix the context.`);

  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters, users, contexts, currentContext: contextName });
  return { kc, context: contextName, cluster, user, files: read };
}

function names(contexts: Context[]): string {
  return contexts.length ? contexts.map((c) => c.name).join(', ') : '(none defined)';
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').slice(0, 300);
}

/** What the kubeconfig user runs for a credential, for messages. */
export function credentialCommand(user: User): string | undefined {
  const exec = (user.exec ?? (user.authProvider as { config?: { exec?: unknown } } | undefined)?.config?.exec) as { command?: string; args?: string[] } | undefined;
  if (!exec?.command) return undefined;
  return [exec.command, ...(exec.args ?? [])].join(' ');
}

/**
 * Runs the user's credential plugin (if any) before the request, so a failing plugin is reported as such rather than
 * as a network error. client-node's ExecAuth caches the result until `expirationTimestamp`, so the request reuses it.
 */
export async function prepareCredential(loaded: LoadedKubeconfig): Promise<void> {
  const cmd = credentialCommand(loaded.user);
  if (!cmd) return;
  try {
    await loaded.kc.applyToHTTPSOptions({ headers: {} });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'the command was not found' : firstLine(err.message.trim()) || 'it failed without a message';
    throw new KubeRequestError(
      `The credential command of context "${loaded.context}" (${cmd}) failed (${why}): run it by hand to see why, or sign in again with \`pocketkube login\`.`,
      'credential',
    );
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

function serverMessageOf(body: unknown): string | undefined {
  let b: unknown = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.trim() ? firstLine(body) : undefined;
    }
  }
  if (typeof b === 'object' && b !== null && typeof (b as { message?: unknown }).message === 'string') return (b as { message: string }).message;
  return undefined;
}

/** Turns whatever client-node threw into a KubeRequestError whose message is one sentence with the fix. */
export function describeKubeError(e: unknown, loaded: LoadedKubeconfig, action: string): KubeRequestError {
  if (e instanceof KubeRequestError) return e;
  const server = loaded.cluster.server;
  const ctx = loaded.context;
  if (e instanceof ApiException) {
    const code = e.code;
    const msg = serverMessageOf(e.body);
    if (code === 401) {
      return new KubeRequestError(
        `The API server did not accept the token (401) of context "${ctx}" while trying to ${action}: issuer/client id/CA mismatch between the cluster's OIDC settings and Pocket ID, or an expired token or clock skew; \`pocketkube talos doctor\` tells which.`,
        'unauthorized',
        401,
        msg,
      );
    }
    if (code === 403) {
      return new KubeRequestError(
        `The API server knows who context "${ctx}" is but RBAC does not allow it to ${action} (403${msg ? `: ${msg}` : ''}): bind the user's Pocket ID group with \`pocketkube talos rbac --group G --apply\` from an admin context.`,
        'forbidden',
        403,
        msg,
      );
    }
    if (code === 404) {
      return new KubeRequestError(`The API server at ${server} has no such resource (404) for "${action}"${msg ? ` (${msg})` : ''}: it may be older than this feature needs (SelfSubjectReview needs Kubernetes 1.28).`, 'not-found', 404, msg);
    }
    if (code === 409) return new KubeRequestError(`The API server refused to ${action} because of a conflict (409${msg ? `: ${msg}` : ''}): try again.`, 'conflict', 409, msg);
    if (code === 422) return new KubeRequestError(`The API server refused to ${action} as invalid (422${msg ? `: ${msg}` : ''}): see the message for the field to fix.`, 'invalid', 422, msg);
    return new KubeRequestError(`The API server at ${server} answered HTTP ${code} when asked to ${action}${msg ? ` (${msg})` : ''}: check the cluster's health.`, 'http', code, msg);
  }
  const err = e as NodeJS.ErrnoException & { type?: string };
  const code = err?.code ?? (err as { errno?: string })?.errno;
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    return new KubeRequestError(
      `The API server's certificate at ${server} is not trusted (${code}): the kubeconfig's certificate-authority-data for context "${ctx}" must be the cluster CA that \`talosctl kubeconfig\` writes.`,
      'tls',
    );
  }
  if (typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(code)) {
    return new KubeRequestError(`The API server at ${server} cannot be reached (${code}): check the cluster's server address in context "${ctx}" and that the control plane is up.`, 'unreachable');
  }
  const message = firstLine(String(err?.message ?? e));
  return new KubeRequestError(`Asking the API server at ${server} to ${action} failed (${message}): check context "${ctx}" and the cluster.`, 'http');
}

/** `kubectl auth whoami`: a SelfSubjectReview (authentication.k8s.io/v1) through the kubeconfig's credentials. */
export async function whoami(opts: { kubeconfigFiles?: string[]; context?: string }): Promise<WhoAmI> {
  const loaded = loadKubeconfig(opts);
  return whoamiWith(loaded);
}

export async function whoamiWith(loaded: LoadedKubeconfig): Promise<WhoAmI> {
  await prepareCredential(loaded);
  const api = loaded.kc.makeApiClient(AuthenticationV1Api);
  let review;
  try {
    review = await api.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  } catch (e) {
    throw describeKubeError(e, loaded, 'say who you are (SelfSubjectReview)');
  }
  const info = review.status?.userInfo;
  if (!info?.username) {
    throw new KubeRequestError(`The API server at ${loaded.cluster.server} answered the SelfSubjectReview without a user: it is not a Kubernetes API server, or a proxy in between rewrote the answer.`, 'http');
  }
  const out: WhoAmI = { username: info.username, groups: info.groups ?? [] };
  if (info.uid) out.uid = info.uid;
  if (info.extra && Object.keys(info.extra).length) out.extra = info.extra;
  return out;
}
