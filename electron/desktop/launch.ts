import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start`: runs the tray app in Electron. Electron 45 downloads its binary from GitHub on first run;
 * where that cannot happen we say so in one line instead of letting the download fail with a stack trace.
 */
export function electronBinary(): string | undefined {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return undefined;
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const bin = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron');
    return existsSync(bin) ? bin : undefined;
  }
  if (!rel) return undefined;
  const bin = path.join(pkgDir, 'dist', rel);
  return existsSync(bin) ? bin : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const bin = electronBinary();
  if (!bin) {
    process.stderr.write(
      "PocketKube: Electron's binary is not installed (node_modules/electron has no dist/); run `npx install-electron` where GitHub is reachable, or set ELECTRON_OVERRIDE_DIST_PATH to an Electron build. Without a tray, `pocketkube agent` runs the same engine.\n",
    );
    process.exit(1);
  }
  const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');
  const child = spawn(bin, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
