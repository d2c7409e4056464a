import path from 'node:path';
import type { Home } from '../platform/home.js';

/** Where the agent keeps the credential kubectl's helper may read without asking it. */
export function credentialCacheDir(home: Pick<Home, 'dir'>): string {
  return path.join(home.dir, 'credential-cache');
}
