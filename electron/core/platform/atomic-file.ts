import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replaces a file through a temp file in the same folder, fsynced before the rename, so a crash leaves
 * either the old or the new content and never half of one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  // fsync the folder so the rename itself survives a power cut.
  const dir = await open(path.dirname(file), 'r').catch(() => undefined);
  if (dir) {
    await dir.sync().catch(() => {});
    await dir.close();
  }
}

/**
 * Replaces a small file the sh entry point reads with built-ins (kubectl's cached credential, the prompt's
 * lines): written to a private temp file, dated `mtimeSec` (the moment the reader must stop trusting it),
 * then renamed, so a reader sees the old file or the new one, whole. No fsync: the agent rewrites these
 * often and removes them at start.
 */
export function replaceFileSync(file: string, data: string, mtimeSec: number, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    utimesSync(tmp, mtimeSec, mtimeSec);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
