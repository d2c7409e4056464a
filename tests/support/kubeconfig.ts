/**
 * Shared by the kubeconfig and Talos tests: the real kubectl on a set of files, kubeconfigs to start from,
 * and byte-level comparisons.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runKubectl } from './kubectl.js';
import type { RunResult } from './run.js';

export { KUBECTL, kubectlAvailable, skipWithoutKubectl } from './kubectl.js';
export { tempDir } from './temp.js';

export const HELPER = '/opt/PocketKube/resources/bin/pocketkube';
export const EXEC = {
  command: HELPER,
  args: ['credential', '--issuer', 'https://id.example.com'],
  installHint: 'Install PocketKube from https://pocketkube.example/ and sign in.',
};
export const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBdummydummydummy\n-----END CERTIFICATE-----\n';
export const CA_DATA = Buffer.from(CA_PEM).toString('base64');

export type KubectlResult = RunResult;

/** As long as the suite gives one test (package.json's --test-timeout): kubectl on a 5,000-context file takes a while. */
const KUBECTL_TIMEOUT_MS = 300_000;

/** kubectl with only these files in KUBECONFIG and a throwaway HOME; a kubectl that cannot start is code 1. */
export async function kubectl(files: string[], ...args: string[]): Promise<KubectlResult> {
  const home = path.join(os.tmpdir(), 'pk-kubectl-home');
  fs.mkdirSync(home, { recursive: true });
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: files.join(path.delimiter) };
  return runKubectl(args, env, { timeoutMs: KUBECTL_TIMEOUT_MS }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
}

export interface KubectlView {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
  'current-context': string;
  [k: string]: unknown;
}

/** `kubectl config view --raw -o json`: the merged config as kubectl understands it. */
export async function kubectlView(files: string[]): Promise<KubectlView> {
  const r = await kubectl(files, 'config', 'view', '--raw', '-o', 'json');
  if (r.code !== 0) throw new Error(`kubectl config view failed: ${r.stderr}`);
  const v = JSON.parse(r.stdout) as KubectlView;
  v.clusters ??= [];
  v.users ??= [];
  v.contexts ??= [];
  v['current-context'] ??= '';
  return v;
}

export async function kubectlCurrent(files: string[]): Promise<string> {
  const r = await kubectl(files, 'config', 'current-context');
  return r.code === 0 ? r.stdout.trim() : '';
}

export async function kubectlContextNames(files: string[]): Promise<string[]> {
  const r = await kubectl(files, 'config', 'get-contexts', '-o', 'name');
  if (r.code !== 0) throw new Error(`kubectl config get-contexts failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** True when `a` can be turned into `b` by inserting characters only (nothing removed or changed). */
export function isInsertionOnly(a: string, b: string): boolean {
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const k = b.indexOf(a[i]!, j);
    if (k === -1) return false;
    j = k + 1;
  }
  return true;
}

/** The pieces of `b` that are not in `a`, when `b` is `a` with insertions (greedy, for messages). */
export function insertions(a: string, b: string): string[] {
  // Common prefix/suffix trimming is enough to show a human what changed.
  let s = 0;
  while (s < a.length && s < b.length && a[s] === b[s]) s++;
  let e = 0;
  while (e < a.length - s && e < b.length - s && a[a.length - 1 - e] === b[b.length - 1 - e]) e++;
  return [b.slice(s, b.length - e)];
}

export function read(p: string): string {
  return fs.readFileSync(p, 'utf8');
}

export function readBytes(p: string): Buffer {
  return fs.readFileSync(p);
}

export function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.lock') || n.endsWith('.tmp'));
}

/** A kubeconfig with one context whose user is `user` (e.g. { token } or { exec }). Returns the context name. */
export async function writeKubeconfig(file: string, opts: { server: string; caPem: string; name: string; user: Record<string, unknown> }): Promise<string> {
  const ctx = `oidc@${opts.name}`;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: opts.name, cluster: { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caPem).toString('base64') } }],
    users: [{ name: ctx, user: opts.user }],
    contexts: [{ name: ctx, context: { cluster: opts.name, user: ctx, namespace: 'default' } }],
    'current-context': ctx,
  };
  await fs.promises.writeFile(file, stringify(doc), { mode: 0o600 });
  return ctx;
}
