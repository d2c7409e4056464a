import { readFile } from 'node:fs/promises';
import { safeStorage } from 'electron';
import { writeFileAtomic } from '../session/atomic-file.js';
import type { SecretStore } from '../session/secret-store.js';

/**
 * Secrets encrypted with Electron's safeStorage (macOS Keychain, Windows DPAPI, libsecret/kwallet on Linux),
 * kept as one encrypted blob in POCKETKUBE_HOME (mode 0600). Writes are serialized so a rotated refresh
 * token is never lost to a race. Linux without a keyring gets no real encryption: `usable()` says so and the
 * app keeps the plain 0600 file store instead, which `status` reports.
 */
export class SafeStorageSecretStore implements SecretStore {
  readonly kind = 'os-keychain' as const;
  private cache?: Record<string, string>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  static usable(): boolean {
    if (!safeStorage.isEncryptionAvailable()) return false;
    return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
  }

  describe(): string {
    const backend = process.platform === 'linux' ? ` (${safeStorage.getSelectedStorageBackend()})` : '';
    return `OS keychain via Electron safeStorage${backend}, encrypted in ${this.file}`;
  }

  private async load(): Promise<Record<string, string>> {
    if (this.cache) return this.cache;
    let blob: Buffer;
    try {
      blob = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.cache = {});
      throw err;
    }
    try {
      this.cache = JSON.parse(safeStorage.decryptString(blob)) as Record<string, string>;
    } catch {
      throw new Error(`${this.file} cannot be decrypted with this user's keychain; remove it and sign in again`);
    }
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

  /** Everything at once, for moving secrets in from the headless agent's file store. */
  async importAll(entries: Record<string, string>): Promise<void> {
    await this.mutate((all) => Object.assign(all, entries));
  }

  private mutate(change: (all: Record<string, string>) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const all = { ...(await this.load()) };
      change(all);
      const blob = safeStorage.encryptString(JSON.stringify(all));
      await writeFileAtomic(this.file, blob, 0o600);
      this.cache = all;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
