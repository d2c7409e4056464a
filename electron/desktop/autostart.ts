/**
 * "Start at login" on every OS. macOS and Windows keep login items themselves (Electron's
 * `setLoginItemSettings`); Linux desktops start what `$XDG_CONFIG_HOME/autostart/*.desktop` names (the
 * freedesktop Autostart spec), which Electron does not write. Either way the state is read back from the OS.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../core/platform/atomic-file.js';
import type { AutostartPort } from './ports.js';

/** The argument a login start carries, so the app knows not to open its window. */
export const AUTOSTART_ARG = '--autostart';

export interface XdgAutostartOptions {
  env?: NodeJS.ProcessEnv;
  /** The command that starts this app (argv form), e.g. [$APPIMAGE] or [electron, appDir]. */
  command: string[];
  argv: readonly string[];
}

/** One argument in a desktop entry's Exec key, quoted as the Desktop Entry spec says. */
export function execArg(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (!/[\s"'\\><~|&;$*?#()`=]/.test(escaped)) return escaped;
  return `"${escaped.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function autostartEntryPath(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(configHome, 'autostart', 'pocketkube.desktop');
}

export function desktopEntry(command: string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=PocketKube',
    'Comment=Keeps your Pocket ID session alive for kubectl',
    `Exec=${[...command, AUTOSTART_ARG].map(execArg).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Linux: the autostart entry is the state; a user's `Hidden=true` (the desktop's own toggle) counts as off. */
export function xdgAutostart(options: XdgAutostartOptions): AutostartPort {
  const file = autostartEntryPath(options.env);
  return {
    async isEnabled() {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) return false;
      return !/^Hidden\s*=\s*true\s*$/m.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/m.test(text);
    },
    async setEnabled(enabled) {
      if (enabled) {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFileAtomic(file, desktopEntry(options.command), 0o644);
      } else await rm(file, { force: true });
    },
    wasOpenedAtLogin: () => options.argv.includes(AUTOSTART_ARG),
  };
}
