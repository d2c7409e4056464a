import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { replaceFileSync } from '../platform/atomic-file.js';
import type { Clock } from '../platform/clock.js';
import type { Home } from '../platform/home.js';
import { execCredential } from './exec-credential.js';

/** Where the agent keeps the credential kubectl's helper may read without asking it. */
export function credentialCacheDir(home: Pick<Home, 'dir'>): string {
  return path.join(home.dir, 'credential-cache');
}

/** A provider's credential as the agent would hand it out now, without a refresh. */
export interface CacheableCredential {
  token: string;
  /** What kubectl is told (RFC 3339). */
  expirationTimestamp: string;
  /** On the agent's clock: after this the agent would refresh first, so the helper must ask it. */
  handOutUntil: number;
}

/**
 * The file's deadline is this much before handOutUntil: file systems that keep whole (or even seconds)
 * modification times round both the deadline and the helper's "now" down.
 */
export const DEADLINE_MARGIN_MS = 2_000;
/** The helper's "now" file; provider names never start with a dot, so it is never a provider's. */
export const NOW_FILE = '.now';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * kubectl's fast path. For each provider whose credential the agent would hand out as is, one file
 * `<dir>/<provider>` holds the ExecCredential's `status` on one line, and its modification time is the moment
 * the agent would stop handing it out (minus DEADLINE_MARGIN_MS). The helper (resources/bin/pocketkube)
 * touches `<dir>/.now` and reads the file only if it is newer (`test -nt`): shell built-ins, no fork, so
 * kubectl pays about what `cat` costs, and a file left behind (laptop asleep, agent killed) never hands out a
 * token past that moment. The folder is 0700 and the files 0600, like the secrets file; the files follow the
 * sessions synchronously on every change (gone at sign-out, revocation, provider removal), are all removed
 * when the agent stops, and whatever a crashed agent left is removed when the next one starts. The helper
 * also requires the pid in agent.pid to be alive.
 */
export class CredentialCache {
  private readonly dir: string;
  private enabled = false;
  /** What is on disk: provider -> the entry written. */
  private readonly written = new Map<string, CacheableCredential>();
  private cancelDue?: () => void;

  constructor(
    home: Pick<Home, 'dir'>,
    private readonly opts: { clock: Clock; log: Log; entries: () => Map<string, CacheableCredential> },
  ) {
    this.dir = credentialCacheDir(home);
  }

  get folder(): string {
    return this.dir;
  }

  /** Makes the folder private, removes what an earlier agent left, and checks the file system's clock. */
  start(): void {
    if (process.platform === 'win32') return; // the Windows helper asks the agent every time
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(this.dir);
      if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
        this.opts.log('warn', `${this.dir} is not a folder of yours; kubectl's helper will ask the agent every time (remove it to get the fast path).`);
        return;
      }
      if ((st.mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
      this.removeAll();
      // The helper compares against a file it writes itself; a file system with another clock (a network
      // home) would make that comparison wrong, so then there is no cache.
      const now = path.join(this.dir, NOW_FILE);
      writeFileSync(now, '', { mode: 0o600 });
      const skew = statSync(now).mtimeMs - Date.now();
      if (Math.abs(skew) > DEADLINE_MARGIN_MS) {
        this.opts.log('warn', `the clock of the file system under ${this.dir} is ${Math.round(skew / 1000)} s off this computer's; kubectl's helper will ask the agent every time.`);
        return;
      }
      this.enabled = true;
    } catch (err) {
      this.opts.log('warn', `cannot use ${this.dir} (${(err as Error).message}); kubectl's helper will ask the agent every time.`);
    }
  }

  /** Brings the files in line with the sessions now; call on every session change. */
  update(): void {
    if (!this.enabled) return;
    const entries = this.opts.entries();
    const now = this.opts.clock.now();
    for (const name of [...this.written.keys()]) {
      const e = entries.get(name);
      if (!e || e.handOutUntil - now <= DEADLINE_MARGIN_MS) this.remove(name);
    }
    for (const [name, e] of entries) {
      const was = this.written.get(name);
      if (was && was.token === e.token && was.expirationTimestamp === e.expirationTimestamp && was.handOutUntil === e.handOutUntil) continue;
      if (e.handOutUntil - now <= DEADLINE_MARGIN_MS) continue;
      this.write(name, e, now);
    }
    this.scheduleDue();
  }

  /** Removes every file: the agent is stopping, and no one will keep them current. */
  stop(): void {
    this.cancelDue?.();
    this.cancelDue = undefined;
    if (!this.enabled) return;
    this.enabled = false;
    this.removeAll();
    rmSync(path.join(this.dir, NOW_FILE), { force: true });
  }

  private write(name: string, e: CacheableCredential, now: number): void {
    // The deadline is wall-clock time, which is what the helper's "now" file gets.
    const deadline = (Date.now() + (e.handOutUntil - now) - DEADLINE_MARGIN_MS) / 1000;
    try {
      replaceFileSync(path.join(this.dir, name), `${JSON.stringify(execCredential(e.token, e.expirationTimestamp).status)}\n`, deadline);
      this.written.set(name, e);
    } catch (err) {
      this.remove(name);
      this.opts.log('warn', `${name}: could not write kubectl's cached credential (${(err as Error).message}); the helper asks the agent instead.`);
    }
  }

  private remove(name: string): void {
    this.written.delete(name);
    try {
      unlinkSync(path.join(this.dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log('error', `${name}: could not remove kubectl's cached credential (${(err as Error).message}).`);
    }
  }

  private removeAll(): void {
    for (const f of readdirSync(this.dir)) if (f !== NOW_FILE) rmSync(path.join(this.dir, f), { force: true, recursive: true });
    this.written.clear();
  }

  /** The agent's timers follow its clock: drop each entry when it falls due, even with no session change. */
  private scheduleDue(): void {
    this.cancelDue?.();
    this.cancelDue = undefined;
    const due = Math.min(...[...this.written.values()].map((e) => e.handOutUntil - DEADLINE_MARGIN_MS));
    if (!Number.isFinite(due)) return;
    this.cancelDue = this.opts.clock.setTimer(due - this.opts.clock.now(), () => {
      this.cancelDue = undefined;
      this.update();
    });
  }
}
