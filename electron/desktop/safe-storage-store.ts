import { BlobSecretStore } from '../core/session/secret-store.js';
import type { KeychainPort } from './ports.js';

/**
 * Secrets encrypted with Electron's safeStorage (macOS Keychain, Windows DPAPI, libsecret/kwallet on Linux),
 * through its asynchronous API, kept as one encrypted blob in POCKETKUBE_HOME (mode 0600). A Linux session
 * with no keyring gets `basic_text` (a key written in Chromium's source): that is no keychain, so
 * `keychainUsable` says no and the app keeps the plain 0600 file store instead, which `status` reports.
 */
export class SafeStorageSecretStore extends BlobSecretStore {
  readonly kind = 'os-keychain' as const;

  constructor(
    file: string,
    private readonly keychain: KeychainPort,
  ) {
    super(file);
  }

  describe(): string {
    const backend = this.keychain.backend();
    return `OS keychain via Electron safeStorage${backend ? ` (${backend})` : ''}, encrypted in ${this.file}`;
  }

  protected encode(all: Record<string, string>): Promise<Uint8Array> {
    return this.keychain.encrypt(JSON.stringify(all));
  }

  protected async decode(blob: Buffer): Promise<Record<string, string>> {
    // A rotated keychain key (`shouldReEncrypt`) needs no write of its own: every write encrypts with the
    // current key, and the refresh token rotates (and is written) at least hourly.
    try {
      return JSON.parse((await this.keychain.decrypt(blob)).text) as Record<string, string>;
    } catch {
      throw new Error(`${this.file} cannot be decrypted with this user's keychain (a denied prompt, or another user's keychain): allow PocketKube in the keychain and start it again, or move the file aside and sign in again.`);
    }
  }
}

/** A keychain worth the name: available, and on Linux not Chromium's hard-coded `basic_text` key. */
export async function keychainUsable(keychain: KeychainPort, platform: NodeJS.Platform): Promise<boolean> {
  if (!(await keychain.isAvailable())) return false;
  return platform !== 'linux' || keychain.backend() !== 'basic_text';
}
