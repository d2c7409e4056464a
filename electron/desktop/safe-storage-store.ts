import { safeStorage } from 'electron';
import { BlobSecretStore } from '../core/session/secret-store.js';

/**
 * Secrets encrypted with Electron's safeStorage (macOS Keychain, Windows DPAPI, libsecret/kwallet on Linux),
 * kept as one encrypted blob in POCKETKUBE_HOME (mode 0600). Linux without a keyring gets no real
 * encryption: `usable()` says so and the app keeps the plain 0600 file store instead, which `status` reports.
 */
export class SafeStorageSecretStore extends BlobSecretStore {
  readonly kind = 'os-keychain' as const;

  static usable(): boolean {
    if (!safeStorage.isEncryptionAvailable()) return false;
    return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
  }

  describe(): string {
    const backend = process.platform === 'linux' ? ` (${safeStorage.getSelectedStorageBackend()})` : '';
    return `OS keychain via Electron safeStorage${backend}, encrypted in ${this.file}`;
  }

  protected encode(all: Record<string, string>): Uint8Array {
    return safeStorage.encryptString(JSON.stringify(all));
  }

  protected decode(blob: Buffer): Record<string, string> {
    try {
      return JSON.parse(safeStorage.decryptString(blob)) as Record<string, string>;
    } catch {
      throw new Error(`${this.file} cannot be decrypted with this user's keychain; remove it and sign in again`);
    }
  }
}
