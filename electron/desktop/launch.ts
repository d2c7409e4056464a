import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntryPoint } from '../core/platform/entry-point.js';

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

/** What the sandbox check reads: a file's text and owner/mode, undefined where there is no such file. */
export interface SandboxProbe {
  read(file: string): string | undefined;
  stat(file: string): { uid: number; mode: number } | undefined;
}

const systemProbe: SandboxProbe = {
  read: (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  stat: (file) => {
    try {
      return statSync(file);
    } catch {
      return undefined;
    }
  },
};

/**
 * On Linux, Chromium's sandbox needs unprivileged user namespaces or a setuid-root chrome-sandbox. Ubuntu
 * 23.10+ restricts the namespaces through AppArmor, and Electron then aborts at start. Returns the one line
 * to print when that is the case (the run then uses --no-sandbox), or undefined when the sandbox can start.
 */
export function sandboxFallback(binary: string, platform: NodeJS.Platform = process.platform, probe: SandboxProbe = systemProbe): string | undefined {
  if (platform !== 'linux') return undefined;
  const apparmor = probe.read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')?.trim() === '1';
  const disabled = probe.read('/proc/sys/kernel/unprivileged_userns_clone')?.trim() === '0';
  if (!apparmor && !disabled) return undefined;
  const helper = path.join(path.dirname(binary), 'chrome-sandbox');
  const st = probe.stat(helper);
  if (st && st.uid === 0 && (st.mode & 0o4000) !== 0) return undefined; // the setuid sandbox works instead
  const why = apparmor ? 'AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+)' : 'unprivileged user namespaces are disabled';
  return `PocketKube: ${why}, so Electron's sandbox cannot start; this development run uses --no-sandbox. To keep the sandbox: sudo chown root:root '${helper}' && sudo chmod 4755 '${helper}'.`;
}

/** Electron runs the package folder, so it takes the app's name, data folder and lock from package.json. */
export function launchArgs(packageDir: string, userArgs: string[], noSandbox: boolean): string[] {
  return [...(noSandbox ? ['--no-sandbox'] : []), packageDir, ...userArgs];
}

if (isEntryPoint(import.meta.url)) {
  const bin = electronBinary();
  if (!bin) {
    process.stderr.write(
      "PocketKube: Electron's binary is not installed (node_modules/electron has no dist/); run `npx install-electron` where GitHub is reachable, or set ELECTRON_OVERRIDE_DIST_PATH to an Electron build. Without a tray, `pocketkube agent` runs the same engine.\n",
    );
    process.exit(1);
  }
  const notice = sandboxFallback(bin);
  if (notice) process.stderr.write(`${notice}\n`);
  // dist/electron/desktop/launch.js -> the package folder
  const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const child = spawn(bin, launchArgs(packageDir, process.argv.slice(2), notice !== undefined), { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
