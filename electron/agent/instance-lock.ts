import { randomBytes } from 'node:crypto';
import { link, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * One agent per home. The lock file (`agent.pid`) is a hard link of a complete temp file, so it never exists
 * half-written: its first line is the holder's pid (the sh helper reads it with `read -r pid`), its second a
 * nonce unique to that start. Whether the holder lives is judged by its socket answering, never by the pid
 * alone (a pid is reused by other processes). A stale lock is replaced only by whoever wins a second link
 * named after that lock's nonce, so two starting agents never both replace it.
 */
export interface InstanceLock {
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

export interface LockHolder {
  pid: number;
  nonce: string;
}

export interface InstanceLockOptions {
  /** Whether the holder's socket answers: a live agent. */
  answers: () => Promise<boolean>;
  /** How long a holder whose pid lives may stay silent (it takes the lock just before it listens). */
  startingGraceMs: number;
  /** The error for a live holder. */
  busy: (holder: LockHolder) => Error;
  /** The error when the lock keeps changing hands for longer than the grace. */
  contended: () => Error;
}

const POLL_MS = 50;

export async function takeInstanceLock(pidFile: string, options: InstanceLockOptions): Promise<InstanceLock> {
  const nonce = randomBytes(9).toString('hex');
  const tmp = `${pidFile}.${nonce}.tmp`;
  await writeFile(tmp, `${process.pid}\n${nonce}\n`, { mode: 0o600, flag: 'wx' });
  const lock: InstanceLock = {
    release: async () => {
      if ((await readHolder(pidFile))?.holder.nonce === nonce) await unlink(pidFile).catch(() => {});
    },
  };
  try {
    // Bounded: the grace for a starting holder, then as long again for hand-overs between other agents.
    const rounds = Math.ceil((2 * options.startingGraceMs) / POLL_MS) + 20;
    let silentSince: { nonce: string; at: number } | undefined;
    for (let round = 0; round < rounds; round++) {
      if (await linkIfAbsent(tmp, pidFile)) return await confirmAlone(lock, pidFile, options);
      const current = await readHolder(pidFile);
      if (!current) continue; // released between our link and our read
      const { holder } = current;
      if (await options.answers()) throw options.busy(holder);
      if (silentSince?.nonce !== holder.nonce) silentSince = { nonce: holder.nonce, at: Date.now() };
      const starting = isAlive(holder.pid) && Date.now() - silentSince.at < options.startingGraceMs;
      if (!starting && (await replaceStale(tmp, pidFile, current))) return await confirmAlone(lock, pidFile, options);
      await delay(POLL_MS);
    }
    throw options.contended();
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Taking the lock is not enough: an agent whose lock file was deleted by hand may still serve the socket. */
async function confirmAlone(lock: InstanceLock, pidFile: string, options: InstanceLockOptions): Promise<InstanceLock> {
  if (await options.answers()) {
    await lock.release();
    throw options.busy({ pid: 0, nonce: '' });
  }
  await removeLeftovers(pidFile);
  return lock;
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

interface ReadHolder {
  holder: LockHolder;
  /** The file's identity, so a lock without a nonce (written by an older version) is told apart too. */
  id: string;
}

async function readHolder(pidFile: string): Promise<ReadHolder | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(pidFile, 'utf8'), stat(pidFile)]);
    const [pid, nonce] = text.split('\n');
    const holder = { pid: Number(pid) || 0, nonce: nonce?.trim() || `ino${st.ino}` };
    return { holder, id: `${st.ino}:${text}` };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Only the agent that wins the breaker link for this very lock file may replace it, and only if it is still there. */
async function replaceStale(tmp: string, pidFile: string, stale: ReadHolder): Promise<boolean> {
  const breaker = `${pidFile}.${stale.holder.nonce.replace(/[^A-Za-z0-9]/g, '')}.stale`;
  if (!(await linkIfAbsent(tmp, breaker))) return false;
  try {
    if ((await readHolder(pidFile))?.id !== stale.id) return false;
    await rename(tmp, pidFile);
    return true;
  } finally {
    await unlink(breaker).catch(() => {});
  }
}

/** Temp and breaker files of agents killed while starting (older than a minute, so none in use). */
async function removeLeftovers(pidFile: string): Promise<void> {
  const dir = path.dirname(pidFile);
  const base = path.basename(pidFile);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || !/\.(tmp|stale)$/.test(name)) continue;
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 60_000) await unlink(file).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
