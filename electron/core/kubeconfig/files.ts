import os from 'node:os';
import path from 'node:path';

/**
 * The kubeconfig files kubectl reads, in precedence order: KUBECONFIG split on the platform's list
 * separator (';' on Windows, ':' elsewhere) with empty entries and repeats dropped, else ~/.kube/config.
 */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env, homedir: string = os.homedir()): string[] {
  const list = env['KUBECONFIG'];
  const files: string[] = [];
  if (list) {
    for (const entry of list.split(path.delimiter)) {
      if (entry !== '' && !files.includes(entry)) files.push(entry);
    }
  }
  // kubectl with KUBECONFIG=":" reads no file at all; a writer needs somewhere to write, so fall back.
  if (files.length === 0) files.push(path.join(homedir, '.kube', 'config'));
  return files;
}
