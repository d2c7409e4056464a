import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';

/**
 * Where refresh tokens and client secrets are kept. The tray app backs this with Electron's safeStorage;
 * the headless agent with a file only its user can read. `describe` is what `status` shows.
 */
export interface SecretStore {
  readonly kind: 'file' | 'os-keychain' | 'memory';
  describe(): string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A JSON file with mode 0600, written atomically; writes are serialized so a rotation is never lost. */
export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;
  private cache?: Record<string, string>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  describe(): string {
    return `file ${this.file} (mode 0600, readable only by you; the tray app uses the OS keychain instead)`;
  }

  private async load(): Promise<Record<string, string>> {
    if (this.cache) return this.cache;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.cache = {});
      throw err;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      this.cache = parsed as Record<string, string>;
    } catch {
      // Never echo the content: it holds secrets.
      throw new Error(`${this.file} is not valid JSON; move it aside and sign in again`);
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

  private mutate(change: (all: Record<string, string>) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const all = { ...(await this.load()) };
      change(all);
      await writeFileAtomic(this.file, JSON.stringify(all, null, 2) + '\n', 0o600);
      this.cache = all;
    });
    this.queue = run.catch(() => {});
    return run;
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
