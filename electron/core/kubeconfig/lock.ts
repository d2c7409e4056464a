import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { KubeconfigError, displayPath } from './errors.js';

/**
 * kubectl's kubeconfig lock: before writing, client-go creates `<file>.lock` with O_CREAT|O_EXCL for every
 * file in the KUBECONFIG list (in sorted order) and removes them afterwards. kubectl does not wait: a lock
 * that exists makes it fail at once. So we wait (bounded) for kubectl's locks, and hold ours only for the
 * few syscalls of the final check and rename.
 */

/** How long to wait for someone else's lock before giving up, and how often to look again. */
export interface LockWait {
  timeoutMs: number;
  pollMs: number;
}

const DEFAULT_WAIT: Readonly<LockWait> = Object.freeze({ timeoutMs: 2000, pollMs: 10 });

export interface LockOptions extends Partial<LockWait> {
  /** Called each time a lock is found held by someone else, right before waiting for it. */
  onBusy?: (lockPath: string) => void;
}

/** Locks and temporary files this process holds right now; removed on exit or a fatal signal. */
const held = new Set<string>();
const temps = new Set<string>();
let exitHookInstalled = false;
const SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
const signalHandlers = new Map<NodeJS.Signals, () => void>();

function cleanupSync(): void {
  for (const p of held) {
    try {
      fs.unlinkSync(p);
    } catch {
      // Already gone.
    }
  }
  held.clear();
  for (const p of temps) {
    try {
      fs.unlinkSync(p);
    } catch {
      // Already gone.
    }
  }
  temps.clear();
}

function installHooks(): void {
  if (!exitHookInstalled) {
    process.on('exit', cleanupSync);
    exitHookInstalled = true;
  }
  if (signalHandlers.size > 0) return;
  for (const sig of SIGNALS) {
    const handler = (): void => {
      cleanupSync();
      removeSignalHandlers();
      // We were the only listener: do what the signal would have done without us.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    signalHandlers.set(sig, handler);
    process.on(sig, handler);
  }
}

function removeSignalHandlers(): void {
  for (const [sig, handler] of signalHandlers) process.removeListener(sig, handler);
  signalHandlers.clear();
}

/** Track a temporary file so that it is removed if the process dies before it is renamed into place. */
export function trackTemp(p: string): void {
  installHooks();
  temps.add(p);
}
export function untrackTemp(p: string): void {
  temps.delete(p);
  if (held.size === 0 && temps.size === 0) removeSignalHandlers();
}

const LOCK_TAG = 'pocketkube-lock';

function lockContent(): string {
  return `${LOCK_TAG} pid=${process.pid} host=${os.hostname()}\n`;
}

/** A lock left by a PocketKube process on this host that no longer runs can be removed safely. */
async function removeIfOurStale(lockPath: string): Promise<boolean> {
  let content: string;
  try {
    content = await fsp.readFile(lockPath, 'utf8');
  } catch {
    return false;
  }
  const m = /^pocketkube-lock pid=(\d+) host=(.*)\n$/.exec(content);
  if (!m || m[2] !== os.hostname()) return false;
  const pid = Number(m[1]);
  if (pid === process.pid && held.has(lockPath)) return false;
  if (pid !== process.pid) {
    try {
      process.kill(pid, 0);
      return false; // Still running.
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') return false;
    }
  }
  try {
    // Re-check right before removing, so a fresh lock by another process is not taken away.
    if ((await fsp.readFile(lockPath, 'utf8')) !== content) return false;
    await fsp.unlink(lockPath);
    return true;
  } catch {
    return false;
  }
}

export interface HeldLocks {
  paths: string[];
  acquiredAt: number;
}

function lockOrder(files: string[]): string[] {
  // kubectl locks in sorted order of the file names; doing the same keeps two writers from deadlocking.
  return [...new Set(files)].sort().map((f) => f + '.lock');
}

function tryCreate(lockPath: string): 'ok' | 'exists' | 'nodir' {
  // Synchronous on purpose: the lock window must not include event-loop turns.
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'exists';
    if (code === 'ENOENT') return 'nodir';
    throw e;
  }
  held.add(lockPath);
  try {
    fs.writeSync(fd, lockContent());
  } finally {
    fs.closeSync(fd);
  }
  return 'ok';
}

function releasePaths(paths: string[]): void {
  for (const p of paths) {
    try {
      fs.unlinkSync(p);
    } catch {
      // Someone removed it; nothing to do.
    }
    held.delete(p);
  }
  if (held.size === 0 && temps.size === 0) removeSignalHandlers();
}

/** One synchronous try at every lock, all or none: the locks held, or the first one someone else holds. */
function tryAcquireAll(order: string[]): HeldLocks | { blocked: string } {
  const got: string[] = [];
  const acquiredAt = performance.now();
  try {
    for (const lockPath of order) {
      const r = tryCreate(lockPath);
      if (r === 'ok') got.push(lockPath);
      else if (r === 'exists') {
        // Never sit on some locks while waiting for another: kubectl would fail on them.
        releasePaths(got);
        return { blocked: lockPath };
      }
    }
  } catch (e) {
    releasePaths(got);
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const lockPath = order[got.length] ?? order[0]!;
    throw new KubeconfigError(
      `${displayPath(lockPath)} cannot be created (${code}), so the kubeconfig cannot be locked the way kubectl does; nothing was written`,
      lockPath.slice(0, -'.lock'.length),
    );
  }
  return { paths: got, acquiredAt };
}

/** Someone else holds `blocked`: clear it if it is a dead PocketKube's, else wait a little or give up. */
async function waitFor(blocked: string, deadline: number, opts: LockOptions): Promise<void> {
  if (await removeIfOurStale(blocked)) return;
  if (Date.now() >= deadline) {
    const file = blocked.slice(0, -'.lock'.length);
    throw new KubeconfigError(
      `${displayPath(file)} is locked by another program (${displayPath(blocked)}); if no kubectl is running, delete it; nothing was written`,
      file,
    );
  }
  opts.onBusy?.(blocked);
  await delay(opts.pollMs ?? DEFAULT_WAIT.pollMs);
}

/**
 * Take every lock of `order`, waiting (bounded) for the ones someone else holds, and hand them to `use` in
 * the same tick as the last one was taken.
 */
async function whenLocked<T>(order: string[], opts: LockOptions, use: (locks: HeldLocks) => T): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_WAIT.timeoutMs);
  installHooks();
  for (;;) {
    const got = tryAcquireAll(order);
    if (!('blocked' in got)) return use(got);
    await waitFor(got.blocked, deadline, opts);
  }
}

/**
 * Take kubectl's lock on every file (a file whose directory does not exist cannot be locked and needs no
 * lock: kubectl would create the directory, we do not litter), run `fn` synchronously while holding them,
 * and let go at once. Someone else's lock is waited for, up to `opts.timeoutMs` (2 s). Because `fn` runs in
 * the same tick as the lock and the release, nothing else in this process can stretch the hold.
 */
export async function withLocks<T>(files: string[], fn: () => T, opts: LockOptions = {}): Promise<{ value: T; heldMs: number }> {
  return whenLocked(lockOrder(files), opts, (got) => {
    let value: T;
    try {
      value = fn();
    } finally {
      releasePaths(got.paths);
    }
    return { value, heldMs: performance.now() - got.acquiredAt };
  });
}

/** Take the locks and keep them until releaseLocks (for tools and tests; writers use withLocks). */
export async function acquireLocks(files: string[], opts: LockOptions = {}): Promise<HeldLocks> {
  return whenLocked(lockOrder(files), opts, (got) => got);
}

export function releaseLocks(locks: HeldLocks): void {
  releasePaths(locks.paths);
}
