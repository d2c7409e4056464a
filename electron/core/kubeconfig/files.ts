import os from 'node:os';
import path from 'node:path';

/**
 * Which kubeconfig files to read, in precedence order: the one place this rule lives (the writer, the
 * tray's list, `pocketkube contexts` and the Talos checks all use it).
 */

/** A list with empty entries and repeats dropped, the first of each kept (client-go's deduplicate). */
function cleaned(entries: string[]): string[] {
  const files: string[] = [];
  for (const entry of entries) {
    if (entry !== '' && !files.includes(entry)) files.push(entry);
  }
  return files;
}

/**
 * The kubeconfig files kubectl reads, in precedence order: KUBECONFIG split on the platform's list
 * separator (';' on Windows, ':' elsewhere) with empty entries and repeats dropped, else ~/.kube/config.
 */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env, homedir: string = os.homedir()): string[] {
  const files = cleaned((env['KUBECONFIG'] ?? '').split(path.delimiter));
  // kubectl with KUBECONFIG=":" reads no file at all; a writer needs somewhere to write, so fall back.
  if (files.length === 0) files.push(path.join(homedir, '.kube', 'config'));
  return files;
}

/**
 * The files a caller named, cleaned by the same rules, or kubectl's own list when it named none. A list
 * that names only empty strings is a mistake of the caller, not a request for the default.
 */
export function resolveFiles(files?: string[]): string[] {
  if (!files || files.length === 0) return kubeconfigFiles();
  const list = cleaned(files);
  if (list.length === 0) throw new TypeError('no kubeconfig file given');
  return list;
}
