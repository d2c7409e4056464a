import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether the module at `moduleUrl` is the script Node was started on (`argv1`). Compared as real paths:
 * import.meta.url is percent-encoded and symlink-resolved, argv[1] is neither, so a home reached through a
 * symlink or with a space or a non-ASCII letter in it would otherwise never match.
 */
export function isEntryPoint(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (!argv1) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(argv1);
  } catch {
    return false; // argv[1] names no file (node -e, a REPL): not us
  }
}
