/**
 * The one way tests make a throwaway directory and remove it again. Directories live under the OS temp dir,
 * named by `prefix` so a leftover says which test made it.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** A new, empty directory (synchronous, so it also works in a test's setup without `await`). */
export function tempDir(prefix = 'pk-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a directory made by tempDir and everything in it; one already gone is fine. */
export async function removeTempDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}
