import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.js';
import type { SecretStoreKind } from '../../shared/api.js';

/**
 * Where refresh tokens and client secrets are kept. The tray app backs this with Electron's safeStorage;
 * the headless agent with a file only its user can read. `describe` is what `status` shows.
 */
export interface SecretStore {
  readonly kind: SecretStoreKind;
  describe(): string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * All secrets as one blob in one 0600 file, written atomically. Writes are serialized, so a rotated refresh
 * token is never lost to a race between two updates. Subclasses say how the blob is encoded.
 */
export abstract class BlobSecretStore implements SecretStore {
  abstract readonly kind: SecretStore['kind'];
  private cache?: Record<string, string>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(protected readonly file: string) {}

  abstract describe(): string;
  /** May be asynchronous: the OS keychain encrypts off the main thread. */
  protected abstract encode(all: Record<string, string>): string | Uint8Array | Promise<string | Uint8Array>;
  /** Throws a message that never quotes the content: it holds secrets. */
  protected abstract decode(blob: Buffer): Record<string, string> | Promise<Record<string, string>>;

  /** The first read in flight: the session's four reads at resume share it (one file read, one decryption). */
  private loading?: Promise<Record<string, string>>;

  private load(): Promise<Record<string, string>> {
    if (this.cache) return Promise.resolve(this.cache);
    this.loading ??= this.read().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async read(): Promise<Record<string, string>> {
    let blob: Buffer;
    try {
      blob = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.cache = {});
      throw err;
    }
    this.cache = await this.decode(blob);
    return this.cache;
  }

  async get(key: string): Promise<string | undefined> {
    await this.queue;
    return (await this.load())[key];
  }

  set(key: string, value: string): Promise<void> {
    return this.mutate((all) => {
      all[key] = value;
    });
  }

  delete(key: string): Promise<void> {
    return this.mutate((all) => {
      delete all[key];
    });
  }

  /** Everything at once, e.g. when secrets move from one store to another. */
  importAll(entries: Record<string, string>): Promise<void> {
    return this.mutate((all) => Object.assign(all, entries));
  }

  protected mutate(change: (all: Record<string, string>) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const all = { ...(await this.load()) };
      change(all);
      await writeFileAtomic(this.file, await this.encode(all), 0o600);
      this.cache = all;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}

/** Where the tray app keeps the secrets it moved into the OS keychain: beside the file, encrypted. */
export function keychainBlobPath(secretsFile: string): string {
  return path.join(path.dirname(secretsFile), 'secrets.keychain');
}

/**
 * The headless agent's store: plain JSON in a file with mode 0600 (and `status` says so). When the tray app
 * has moved the sessions into the OS keychain, which only the app can open, `describe` says so plainly, so
 * a headless agent started later explains why it is signed out instead of leaving the user to guess.
 */
export class FileSecretStore extends BlobSecretStore {
  readonly kind = 'file' as const;

  describe(): string {
    const base = `file ${this.file} (mode 0600, readable only by you)`;
    if (!existsSync(keychainBlobPath(this.file))) return base;
    return `${base}; sessions you signed in to in the PocketKube app are in its OS keychain (${keychainBlobPath(this.file)}), which only the app can open: start the app to use them, or sign in here`;
  }

  protected encode(all: Record<string, string>): string {
    return JSON.stringify(all, null, 2) + '\n';
  }

  protected decode(blob: Buffer): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(blob.toString('utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as Record<string, string>;
    } catch {
      throw new Error(`${this.file} is not valid JSON; move it aside and sign in again`);
    }
  }
}

/** For tests and for an agent that must keep nothing on disk. */
export class MemorySecretStore implements SecretStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, string>();
  describe(): string {
    return 'memory only (lost when the agent stops)';
  }
  async get(key: string) {
    return this.data.get(key);
  }
  async set(key: string, value: string) {
    this.data.set(key, value);
  }
  async delete(key: string) {
    this.data.delete(key);
  }
}
