/** A laptop waking after `ms`: the agent's clock jumps, and so does the wall clock the helper's cache check reads. */
import { readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Home } from '../../electron/core/platform/home.js';
import { credentialCacheDir, NOW_FILE } from '../../electron/core/credential/credential-cache.js';
import type { ManualClock } from './clock.js';

/**
 * Jumps `clock` by `ms` without running timers, and moves every credential the agent cached for kubectl's
 * helper `ms` closer to its deadline: the helper compares those files' times with the real clock, which a
 * ManualClock does not move.
 */
export async function wakeAfter(clock: ManualClock, ms: number, home: Pick<Home, 'dir'>): Promise<void> {
  clock.jump(ms);
  const dir = credentialCacheDir(home);
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f === NOW_FILE) continue;
    const file = path.join(dir, f);
    const st = await stat(file);
    await utimes(file, st.atime, new Date(st.mtimeMs - ms));
  }
}
