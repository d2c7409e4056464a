/**
 * A WriteObserver that remembers what the kubeconfig writer told it, for tests to assert on: how many
 * writes went through and how long each held kubectl's locks, retries, busy locks, and which path
 * useContext took. `onBusy` acts at the moment the writer finds a lock held (as kubectl would, meanwhile).
 */
import type { CommitInfo, WriteObserver } from '../../electron/core/kubeconfig/index.js';

export class WriteRecorder implements WriteObserver {
  commits = 0;
  retries = 0;
  busy = 0;
  /** Lock hold time of each write that went through, in milliseconds. */
  readonly holdMs: number[] = [];
  /** Every file replacement, as it happened under the lock. */
  readonly replaced: CommitInfo[] = [];
  readonly paths: ('fast' | 'full')[] = [];

  constructor(private readonly onBusy?: (lockPath: string) => void) {}

  fileReplaced(info: CommitInfo): void {
    this.replaced.push(info);
  }

  committed(info: { files: string[]; heldMs: number }): void {
    this.commits++;
    this.holdMs.push(info.heldMs);
  }

  retried(): void {
    this.retries++;
  }

  lockBusy(lockPath: string): void {
    this.busy++;
    this.onBusy?.(lockPath);
  }

  pathTaken(path: 'fast' | 'full'): void {
    this.paths.push(path);
  }
}
