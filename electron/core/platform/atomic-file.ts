import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replaces a file through a temp file in the same folder, fsynced before the rename, so a crash leaves
 * either the old or the new content and never half of one.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `${tempPrefix(file)}${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    // A disk that filled up mid-write must not keep a partial copy (of secrets, too) beside the file.
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await removeStaleTemps(file);
  // fsync the folder so the rename itself survives a power cut.
  const dir = await open(path.dirname(file), 'r').catch(() => undefined);
  if (dir) {
    await dir.sync().catch(() => {});
    await dir.close();
  }
}

const tempPrefix = (file: string) => `.${path.basename(file)}.`;

/** Older than this, a temp file is no write in flight but one a crash left behind. */
export const STALE_TEMP_MS = 60_000;

/** Removes the temp copies a crash left beside `file` (they may hold secrets); writes in flight are younger. */
export async function removeStaleTemps(file: string, now = Date.now()): Promise<void> {
  const dir = path.dirname(file);
  const prefix = tempPrefix(file);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length))) continue;
    const st = await stat(path.join(dir, name)).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_TEMP_MS) await unlink(path.join(dir, name)).catch(() => {});
  }
}

/**
 * Replaces a small file the sh entry point reads with built-ins (kubectl's cached credential, the prompt's
 * lines): written to a private temp file, dated `mtimeSec` (the moment the reader must stop trusting it),
 * then renamed, so a reader sees the old file or the new one, whole. No fsync: the agent rewrites these
 * often and removes them at start.
 */
export function replaceFileSync(file: string, data: string, mtimeSec: number, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `${tempPrefix(file)}${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    utimesSync(tmp, mtimeSec, mtimeSec);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
