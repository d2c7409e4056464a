import os from 'node:os';
import { PocketKubeError } from '../platform/errors.js';

/** A problem with a kubeconfig file, phrased for the person who owns that file. */
export class KubeconfigError extends PocketKubeError {
  readonly file: string;
  readonly line?: number;
  constructor(message: string, file: string, line?: number) {
    super('kubeconfig', message);
    this.name = 'KubeconfigError';
    this.file = file;
    if (line !== undefined) this.line = line;
  }
}

/** Show a path the way its owner would type it: the home directory as `~`. */
export function displayPath(file: string, home: string = os.homedir()): string {
  if (home && (file === home || file.startsWith(home + '/') || file.startsWith(home + '\\'))) {
    return '~' + file.slice(home.length);
  }
  return file;
}

/** "~/.kube/config line 14" or just "~/.kube/config". */
export function where(file: string, line?: number): string {
  return line === undefined ? displayPath(file) : `${displayPath(file)} line ${line}`;
}
