/** `pocketkube agent --install | --uninstall`: the headless agent as a systemd user service or a launchd agent. */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PocketKubeError } from '../../core/platform/errors.js';
import { writeFileAtomic } from '../../core/platform/atomic-file.js';
import type { Home } from '../../core/platform/home.js';
import { LAUNCHD_LABEL, SYSTEMD_UNIT, launchdPlist, serviceFile, systemdUnit, type ServiceCommand } from '../../core/service/unit.js';

export interface ServiceOptions {
  platform?: NodeJS.Platform;
  homedir?: string;
  /** The environment systemctl/launchctl run with (and XDG_CONFIG_HOME is read from). */
  env?: NodeJS.ProcessEnv;
  /** How to run this very CLI; by default the Node (or app) binary and script running now. */
  command?: ServiceCommand;
}

export interface ServiceResult {
  file: string;
  /** The sentences to print; the last one says what to do when enabling failed. */
  lines: string[];
  ok: boolean;
}

/** This CLI, as it is running now, made to start the agent: absolute paths, since services get no shell PATH. */
export function currentAgentCommand(home: Home, env: NodeJS.ProcessEnv = process.env): ServiceCommand {
  const extra: Record<string, string> = {};
  if (home.custom) extra.POCKETKUBE_HOME = home.dir;
  if (env.ELECTRON_RUN_AS_NODE) extra.ELECTRON_RUN_AS_NODE = '1';
  return { argv: [process.execPath, path.resolve(process.argv[1] ?? ''), 'agent'], env: extra };
}

function runTool(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; message: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve({ ok: true, message: '' });
      const code = (error as NodeJS.ErrnoException).code;
      const message = code === 'ENOENT' ? `${program} is not installed` : String(stderr).trim().split('\n')[0] || error.message.split('\n')[0]!;
      resolve({ ok: false, message });
    });
  });
}

function unsupported(platform: NodeJS.Platform): PocketKubeError {
  return new PocketKubeError(
    'unsupported_platform',
    `agent --install knows systemd (Linux) and launchd (macOS), not ${platform}; start the PocketKube app at login instead (its menu has Start at login).`,
  );
}

export async function installService(home: Home, opts: ServiceOptions = {}): Promise<ServiceResult> {
  const platform = opts.platform ?? process.platform;
  const homedir = opts.homedir ?? os.homedir();
  const env = opts.env ?? process.env;
  const command = opts.command ?? currentAgentCommand(home);
  if (platform !== 'linux' && platform !== 'darwin') throw unsupported(platform);
  const file = serviceFile(platform, homedir, env);
  await mkdir(path.dirname(file), { recursive: true });
  if (platform === 'darwin') {
    await writeFileAtomic(file, launchdPlist(command, path.join(home.dir, 'agent.log')), 0o644);
    const domain = `gui/${process.getuid?.() ?? 501}`;
    await runTool('launchctl', ['bootout', `${domain}/${LAUNCHD_LABEL}`], env); // an older copy, if loaded; absent is fine
    const load = await runTool('launchctl', ['bootstrap', domain, file], env);
    if (!load.ok) {
      return { file, ok: false, lines: [`Wrote ${file}, but launchctl could not load it (${load.message}); load it with \`launchctl bootstrap ${domain} ${file}\`.`] };
    }
    return { file, ok: true, lines: [`Wrote ${file} and loaded it: the agent runs now and at every login (launchd label ${LAUNCHD_LABEL}, log in ${path.join(home.dir, 'agent.log')}).`] };
  }
  await writeFileAtomic(file, systemdUnit(command), 0o644);
  const reload = await runTool('systemctl', ['--user', 'daemon-reload'], env);
  const enable = reload.ok ? await runTool('systemctl', ['--user', 'enable', '--now', SYSTEMD_UNIT], env) : reload;
  if (!enable.ok) {
    return {
      file,
      ok: false,
      lines: [
        `Wrote ${file}, but could not enable it: systemctl --user says "${enable.message}" (is there a systemd user session here?); in your login session run \`systemctl --user enable --now ${SYSTEMD_UNIT}\`.`,
      ],
    };
  }
  return { file, ok: true, lines: [`Wrote ${file} and enabled it: the agent runs now and at every login (\`systemctl --user status ${SYSTEMD_UNIT}\`, logs in \`journalctl --user -u ${SYSTEMD_UNIT}\`).`] };
}

export async function uninstallService(home: Home, opts: ServiceOptions = {}): Promise<ServiceResult> {
  void home;
  const platform = opts.platform ?? process.platform;
  const homedir = opts.homedir ?? os.homedir();
  const env = opts.env ?? process.env;
  if (platform !== 'linux' && platform !== 'darwin') throw unsupported(platform);
  const file = serviceFile(platform, homedir, env);
  let stop: { ok: boolean; message: string };
  if (platform === 'darwin') stop = await runTool('launchctl', ['bootout', `gui/${process.getuid?.() ?? 501}/${LAUNCHD_LABEL}`], env);
  else stop = await runTool('systemctl', ['--user', 'disable', '--now', SYSTEMD_UNIT], env);
  await rm(file, { force: true });
  if (platform === 'linux') await runTool('systemctl', ['--user', 'daemon-reload'], env);
  const lines = [`Removed ${file}; the agent no longer starts at login.`];
  if (!stop.ok) lines.push(`(Stopping it said "${stop.message}"; if an agent still runs, stop it with Ctrl-C or kill its pid from \`pocketkube status\`.)`);
  return { file, ok: true, lines };
}
