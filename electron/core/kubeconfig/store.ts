import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { KubeconfigError, displayPath } from './errors.js';
import { FileEditor } from './edit.js';
import { trackTemp, untrackTemp, withLocks, type LockOptions, type LockWait } from './lock.js';
import { parseRaw, readRaw, type KubeFile, type RawFile } from './parse.js';

/**
 * One write to the kubeconfig files, safely:
 * 1. read and parse every file, plan the edits, write the new content to a temp file next to each target
 *    (fsynced) and put a backup of what was read in place — all before taking any lock;
 * 2. take kubectl's lock on every file, re-read every file and check it is byte for byte what the plan was
 *    made from (if not, let go and start over: never write from a stale read);
 * 3. rename the new content into place, and let go of the locks.
 * Only steps 2-3 hold the locks: a few syscalls, no parsing, no fsync.
 */

/**
 * The file operations of step 3, made under kubectl's locks: synchronous, so the lock is never held across
 * an event-loop turn. `writeFile` and `unlink` put a file back when a later rename fails.
 */
export interface FileOps {
  rename(from: string, to: string): void;
  writeFile(file: string, data: Buffer): void;
  unlink(file: string): void;
}

const nodeFileOps: FileOps = Object.freeze({
  rename: (from: string, to: string) => fs.renameSync(from, to),
  writeFile: (file: string, data: Buffer) => fs.writeFileSync(file, data),
  unlink: (file: string) => fs.unlinkSync(file),
});

/** One file replaced by a write: its path and its text before and after. */
export interface CommitInfo {
  file: string;
  before: string;
  after: string;
}

/** Told what a write does, as it happens. Every method is optional. */
export interface WriteObserver {
  /** A file was replaced (called under the lock, right after its rename; `before` is what the rename replaced). */
  fileReplaced?(info: CommitInfo): void;
  /** A write went through: the files it replaced and how long kubectl's locks were held, in milliseconds. */
  committed?(info: { files: string[]; heldMs: number }): void;
  /** A file changed between reading and locking: nothing was written, and the write is planned again. */
  retried?(): void;
  /** Someone else holds the lock on a file: called each time before waiting for it. */
  lockBusy?(lockPath: string): void;
  /** Which reader useContext used: the fast one (a one-line splice) or the full one. */
  pathTaken?(path: 'fast' | 'full'): void;
}

/** What a write is made with; every field defaults to the real thing. */
export interface WriteOptions {
  /** The renames under the lock (default: node:fs). */
  fs?: FileOps;
  observer?: WriteObserver;
  /** How long to wait for someone else's lock (default 2,000 ms) and how often to look again (10 ms). */
  lock?: Partial<LockWait>;
  /** What the backup keeps of a file's old content (default: all of it), e.g. with secrets the write moves elsewhere masked. */
  backupContent?: (raw: Buffer) => string | Buffer;
}

/** The lock options of a write: its waiting policy, reporting busy locks to its observer. */
function lockOptions(io: WriteOptions): LockOptions {
  const observer = io.observer;
  return { ...io.lock, ...(observer?.lockBusy ? { onBusy: (lockPath: string) => observer.lockBusy?.(lockPath) } : {}) };
}

const RETRY_BUDGET_MS = 10_000;

export interface View {
  paths: string[];
  files: KubeFile[];
}


/**
 * Read and parse every file. kubectl rewrites a file in place (truncate, then write) while holding its lock,
 * so a read without the lock can catch it half-written. A file that fails to parse is therefore read once
 * more under kubectl's lock before its error counts: if the bytes changed, the new ones are parsed.
 */
export async function readView(paths: string[], lock: LockOptions = {}): Promise<{ view: View; errors: KubeconfigError[] }> {
  const raws: RawFile[] = [];
  const files: (KubeFile | KubeconfigError)[] = [];
  for (const p of paths) {
    try {
      const r = await readRaw(p);
      raws.push(r);
      files.push(parseOrError(r));
    } catch (e) {
      if (!(e instanceof KubeconfigError)) throw e;
      raws.push({ path: p, raw: null });
      files.push(e);
    }
  }
  const failed = files.map((f, i) => (f instanceof KubeconfigError && raws[i]!.raw !== null ? i : -1)).filter((i) => i >= 0);
  if (failed.length > 0) {
    try {
      const again = await withLocks(paths, () => failed.map((i) => readNow(paths[i]!)), lock);
      failed.forEach((i, k) => {
        const now = again.value[k] ?? null;
        if (now !== null && !now.equals(raws[i]!.raw!)) files[i] = parseOrError({ ...raws[i]!, raw: now });
      });
    } catch {
      // Locked for too long to check: report what we read.
    }
  }
  const errors = files.filter((f): f is KubeconfigError => f instanceof KubeconfigError);
  return { view: { paths, files: files.filter((f): f is KubeFile => !(f instanceof KubeconfigError)) }, errors };
}

function parseOrError(r: RawFile): KubeFile | KubeconfigError {
  try {
    return parseRaw(r);
  } catch (e) {
    if (e instanceof KubeconfigError) return e;
    throw e;
  }
}

/** Follow symlinks to the file that will really be replaced (renaming over a symlink would replace the link). */
async function resolveTarget(p: string): Promise<string> {
  let current = p;
  for (let i = 0; i < 40; i++) {
    let st: fs.Stats;
    try {
      st = await fsp.lstat(current);
    } catch {
      return current;
    }
    if (!st.isSymbolicLink()) return current;
    const link = await fsp.readlink(current);
    current = path.resolve(path.dirname(current), link);
  }
  throw new KubeconfigError(`${displayPath(p)}: too many levels of symbolic links; nothing was written`, p);
}

/** What a write needs to know of a file as it was read (a KubeFile is one). */
export interface Snapshot {
  path: string;
  exists: boolean;
  /** Bytes as read; empty for a missing file. */
  raw: Buffer;
  text: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

interface Prepared {
  file: Snapshot;
  target: string;
  next: string;
  tmp: string;
  bakTmp?: string;
}

async function writeTemp(dir: string, base: string, data: string | Buffer, mode: number): Promise<string> {
  const tmp = path.join(dir, `.${base}.pocketkube-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  trackTemp(tmp);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
    if (process.platform !== 'win32') await fh.chmod(mode);
  } finally {
    await fh.close();
  }
  return tmp;
}

/**
 * Replacing a file by rename makes it ours: a kubeconfig another user owns (one we may write only through
 * its folder) must not change hands. root keeps the owner instead (prepare chowns the temp file).
 */
async function refuseOtherOwner(file: string, target: string): Promise<void> {
  const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (me === undefined || me === 0) return;
  const owner = (await fsp.stat(target).catch(() => undefined))?.uid;
  if (owner !== undefined && owner !== me) {
    throw new KubeconfigError(
      `${displayPath(file)} belongs to another user (uid ${owner}), and rewriting it would make it yours; nothing was written. Run this as that user, or copy the file and point KUBECONFIG at the copy.`,
      file,
    );
  }
}

async function prepare(file: Snapshot, next: string, backupContent?: WriteOptions['backupContent']): Promise<Prepared> {
  const target = await resolveTarget(file.path);
  const dir = path.dirname(target);
  const base = path.basename(target);
  if (!file.exists) await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await refuseOtherOwner(file.path, target);
  const prepared: Prepared = { file, target, next, tmp: '' };
  try {
    prepared.tmp = await writeTemp(dir, base, next, file.exists ? (file.mode ?? 0o600) : 0o600);
    if (file.exists && typeof process.getuid === 'function' && process.getuid() === 0 && file.uid !== undefined && file.gid !== undefined) {
      // root editing someone's file must not hand it to root.
      await fsp.chown(prepared.tmp, file.uid, file.gid).catch(() => undefined);
    }
    if (file.exists) {
      // The backup goes into place now, before the lock: it is a copy of what we read, so it is a true
      // backup whether or not this attempt commits, and the lock is spared a rename that frees an inode.
      const bakTmp = await writeTemp(dir, base, backupContent ? backupContent(file.raw) : file.raw, 0o600);
      prepared.bakTmp = bakTmp;
      await fsp.rename(bakTmp, target + '.pocketkube.bak');
      untrackTemp(bakTmp);
      prepared.bakTmp = undefined;
    }
  } catch (e) {
    await discard(prepared);
    throw new KubeconfigError(
      `${displayPath(file.path)}: cannot write next to it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was written`,
      file.path,
    );
  }
  return prepared;
}

async function discard(p: Prepared): Promise<void> {
  for (const t of [p.tmp, p.bakTmp]) {
    if (!t) continue;
    await fsp.unlink(t).catch(() => undefined);
    untrackTemp(t);
  }
}

function readNow(p: string): Buffer | null {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Under the lock: does every file still hold exactly the bytes the plan was made from? */
function unchangedSince(read: readonly Snapshot[], prepared: Prepared[]): boolean {
  for (const f of read) {
    const now = readNow(f.path);
    if (f.exists ? now === null || !now.equals(f.raw) : now !== null) return false;
  }
  for (const p of prepared) {
    if (!p.file.exists || p.file.mode === undefined) continue;
    if ((fs.statSync(p.file.path).mode & 0o7777) !== p.file.mode) return false;
  }
  return true;
}

function renameSyncRetry(ops: FileOps, from: string, to: string): void {
  // Windows refuses to replace a file another process has open for a moment; try a few times.
  for (let i = 0; ; i++) {
    try {
      ops.rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || i >= 20 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw e;
      const until = Date.now() + 5;
      while (Date.now() < until) {
        // Brief spin: we are inside the lock and must not yield.
      }
    }
  }
}

/** Under the lock: backups first, then the new contents. On failure, put back what was already replaced. */
function commit(prepared: Prepared[], ops: FileOps, observer: WriteObserver | undefined): void {
  const done: Prepared[] = [];
  try {
    for (const p of prepared) {
      // The observer is told the bytes this rename replaces, read under the lock, not the plan's earlier read.
      const replaced = observer?.fileReplaced ? (readNow(p.target)?.toString('utf8') ?? '') : '';
      renameSyncRetry(ops, p.tmp, p.target);
      untrackTemp(p.tmp);
      done.push(p);
      observer?.fileReplaced?.({ file: p.file.path, before: replaced, after: p.next });
    }
  } catch (e) {
    for (const p of done) {
      try {
        if (p.file.exists) ops.writeFile(p.target, p.file.raw);
        else ops.unlink(p.target);
      } catch {
        // Best effort: the backup file still holds the previous content.
      }
    }
    const failed = prepared[done.length] ?? prepared[0]!;
    throw new KubeconfigError(
      `${displayPath(failed.file.path)}: cannot be replaced (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was written`,
      failed.file.path,
    );
  }
}

async function syncDirs(prepared: Prepared[]): Promise<void> {
  if (process.platform === 'win32') return;
  for (const dir of new Set(prepared.map((p) => path.dirname(p.target)))) {
    try {
      const fh = await fsp.open(dir, 'r');
      await fh.sync().catch(() => undefined);
      await fh.close();
    } catch {
      // Durability of the rename is best effort.
    }
  }
}

/** Thrown when the files never hold still long enough to write them. */
function keptChanging(paths: string[]): KubeconfigError {
  return new KubeconfigError(
    `${displayPath(paths[0]!)} kept changing while PocketKube tried to write it (another program writes it continuously); nothing was written`,
    paths[0]!,
  );
}

/**
 * Steps 1 (the writing part) to 3 for changes planned from `read` (every file of `paths`, as read): temp
 * files and backups, then under kubectl's locks the byte-for-byte check and the renames. Returns false,
 * having written nothing, when a file changed since it was read: plan again from a fresh read.
 */
export async function commitChanges(
  paths: string[],
  read: readonly Snapshot[],
  changes: readonly { file: Snapshot; next: string }[],
  io: WriteOptions = {},
): Promise<boolean> {
  let prepared: Prepared[] = [];
  try {
    for (const c of changes) prepared.push(await prepare(c.file, c.next, io.backupContent));
    const { value: committed, heldMs } = await withLocks(
      paths,
      () => {
        if (!unchangedSince(read, prepared)) return false;
        commit(prepared, io.fs ?? nodeFileOps, io.observer);
        return true;
      },
      lockOptions(io),
    );
    if (!committed) {
      io.observer?.retried?.();
      return false;
    }
    io.observer?.committed?.({ files: prepared.map((p) => p.file.path), heldMs });
    await syncDirs(prepared);
    prepared = [];
    return true;
  } finally {
    for (const p of prepared) await discard(p);
  }
}

/**
 * Plan against a fresh read and commit, over and over until the files hold still between our read and our
 * lock (planning under the lock instead would hold it for a parse and an fsync: long enough to make kubectl
 * runs fail). `attempt` returns its result and the changes, or throws; nothing is written without changes.
 */
export async function retryUntilStill<T>(
  paths: string[],
  attempt: () => Promise<{ result: T; read: readonly Snapshot[]; changes: readonly { file: Snapshot; next: string }[] }>,
  io: WriteOptions = {},
): Promise<{ result: T; written: string[] }> {
  const deadline = Date.now() + RETRY_BUDGET_MS;
  for (;;) {
    const { result, read, changes } = await attempt();
    if (changes.length === 0) return { result, written: [] };
    if (await commitChanges(paths, read, changes, io)) return { result, written: changes.map((c) => c.file.path) };
    if (Date.now() > deadline) throw keptChanging(paths);
  }
}

export interface Plan<T> {
  result: T;
  /** Every file, as read. */
  read: KubeFile[];
  /** The files to replace and their new text (checked by FileEditor.result()). */
  changes: { file: KubeFile; next: string }[];
}

/**
 * One fresh read of the files and `plan` run against it, writing nothing: what transact would write now.
 * `plan` must only read the view and call the editors it gets from `edit(file)`.
 */
export async function planEdits<T>(
  paths: string[],
  plan: (view: View, edit: (file: KubeFile) => FileEditor) => T,
  io: WriteOptions = {},
): Promise<Plan<T>> {
  const { view, errors } = await readView(paths, lockOptions(io));
  if (errors[0]) throw new KubeconfigError(`${errors[0].message}; nothing was written`, errors[0].file, errors[0].line);
  const editors = new Map<string, FileEditor>();
  const edit = (file: KubeFile): FileEditor => {
    let e = editors.get(file.path);
    if (!e) editors.set(file.path, (e = new FileEditor(file)));
    return e;
  };
  const result = plan(view, edit);
  const changes: { file: KubeFile; next: string }[] = [];
  for (const e of editors.values()) {
    if (!e.isChanged) continue;
    const next = e.result();
    const file = view.files.find((f) => f.path === e.file.path)!;
    if (next !== file.text || !file.exists) changes.push({ file, next });
  }
  return { result, read: view.files, changes };
}

/**
 * Run `plan` against a fresh read of the files and write what it edited, as described above. Files
 * without edits are not touched. `onPlan` sees the plan that was written (the last one, after retries);
 * `io` gives the write its file operations, observer and lock waiting (each defaults to the real one).
 */
export async function transact<T>(
  paths: string[],
  plan: (view: View, edit: (file: KubeFile) => FileEditor) => T,
  onPlan?: (p: Plan<T>) => void,
  io: WriteOptions = {},
): Promise<{ result: T; written: string[] }> {
  return retryUntilStill(
    paths,
    async () => {
      const p = await planEdits(paths, plan, io);
      onPlan?.(p);
      return p;
    },
    io,
  );
}

/** Where the backup of `file` goes: next to the file a symlink points to, as `<name>.pocketkube.bak`. */
export async function backupPath(file: string): Promise<string> {
  return (await resolveTarget(file)) + '.pocketkube.bak';
}
