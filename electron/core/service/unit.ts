/**
 * The headless agent as a login service: the systemd user unit (Linux) and the launchd agent (macOS) that
 * run `pocketkube agent`, as text. Pure functions; electron/cli/commands/service.ts writes and enables them.
 */
import path from 'node:path';

export const SYSTEMD_UNIT = 'pocketkube-agent.service';
export const LAUNCHD_LABEL = 'dev.pocketkube.agent';

export interface ServiceCommand {
  /** Absolute program and arguments that run the agent in the foreground. */
  argv: string[];
  /** Environment the agent needs (POCKETKUBE_HOME for a non-default home, ELECTRON_RUN_AS_NODE for the app's binary). */
  env: Record<string, string>;
}

/** Where the unit or plist goes for this platform, under the user's home (systemd honours XDG_CONFIG_HOME). */
export function serviceFile(platform: NodeJS.Platform, homedir: string, env: NodeJS.ProcessEnv = {}): string {
  if (platform === 'darwin') return path.join(homedir, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(homedir, '.config');
  return path.join(config, 'systemd', 'user', SYSTEMD_UNIT);
}

// systemd splits ExecStart= on spaces and reads quotes and backslashes; `%` starts a specifier.
function systemdWord(s: string): string {
  const escaped = s.replace(/%/g, '%%');
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : escaped;
}

export function systemdUnit(cmd: ServiceCommand): string {
  const env = Object.entries(cmd.env).map(([k, v]) => `Environment=${systemdWord(`${k}=${v}`)}\n`).join('');
  return (
    '[Unit]\n' +
    'Description=PocketKube agent: keeps the Pocket ID session and answers kubectl\n' +
    '\n' +
    '[Service]\n' +
    `ExecStart=${cmd.argv.map(systemdWord).join(' ')}\n` +
    env +
    // Exit 0 means "stopped on purpose" (Ctrl-C, or the tray app took over): restart only after a crash.
    'Restart=on-failure\n' +
    'RestartSec=5\n' +
    '\n' +
    '[Install]\n' +
    'WantedBy=default.target\n'
  );
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(cmd: ServiceCommand, logFile: string): string {
  const args = cmd.argv.map((a) => `    <string>${xml(a)}</string>\n`).join('');
  const envEntries = Object.entries(cmd.env);
  const env = envEntries.length
    ? '  <key>EnvironmentVariables</key>\n  <dict>\n' + envEntries.map(([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>\n`).join('') + '  </dict>\n'
    : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0">\n<dict>\n' +
    `  <key>Label</key>\n  <string>${LAUNCHD_LABEL}</string>\n` +
    `  <key>ProgramArguments</key>\n  <array>\n${args}  </array>\n` +
    env +
    '  <key>RunAtLoad</key>\n  <true/>\n' +
    // As Restart=on-failure: a clean exit (the tray app took over) is not restarted.
    '  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n' +
    `  <key>StandardErrorPath</key>\n  <string>${xml(logFile)}</string>\n` +
    '</dict>\n</plist>\n'
  );
}
