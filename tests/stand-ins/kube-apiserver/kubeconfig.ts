/**
 * An admin kubeconfig for the stand-in, written like `talosctl kubeconfig` writes one: cluster NAME, user and
 * context admin@NAME with the admin client certificate, namespace default, merged into an existing file.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isRecord } from './messages.js';
import type { Pki } from './pki.js';
import type { WriteKubeconfigOptions } from './types.js';

export async function writeAdminKubeconfig(
  serverUrl: string,
  pki: Pki,
  file: string,
  name = 'pocketkube',
  opts: WriteKubeconfigOptions = {},
): Promise<{ context: string; cluster: string; user: string }> {
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
}
