import { readFileSync } from 'node:fs';

// The CLI bundle (vite.cli.config.ts) has the number written in at build time: installed at
// ~/.pocketkube/bin/ it has no package.json beside it. Everything built by tsc reads package.json.
declare const __POCKETKUBE_VERSION__: string | undefined;

let cached: string | undefined;

/** PocketKube's version, from package.json (the one place it is written). Read once, on first use. */
export function pocketkubeVersion(): string {
  if (cached) return cached;
  if (typeof __POCKETKUBE_VERSION__ === 'string') return (cached = __POCKETKUBE_VERSION__);
  // dist/electron/core/platform/version.js -> <package>/package.json (also inside the packaged app's asar).
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no "version"');
  return (cached = pkg.version);
}
