import { createHash } from 'node:crypto';
import { mkdir, chmod, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Everything the agent owns lives under one folder, so tests and profiles never touch a user's real files. */
export interface Home {
  dir: string;
  settingsFile: string;
  secretsFile: string;
  socketPath: string;
  pidFile: string;
  /** True when POCKETKUBE_HOME was set: kubeconfigs we write must then carry it to the helper. */
  custom: boolean;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Home {
  const custom = Boolean(env.POCKETKUBE_HOME);
  const dir = path.resolve(env.POCKETKUBE_HOME || path.join(os.homedir(), '.pocketkube'));
  // Windows has no Unix sockets in a folder we can protect; a named pipe per home keeps profiles apart.
  const socketPath =
    platform === 'win32'
      ? `\\\\.\\pipe\\pocketkube-${createHash('sha256').update(dir.toLowerCase()).digest('hex').slice(0, 16)}`
      : path.join(dir, 'agent.sock');
  return {
    dir,
    settingsFile: path.join(dir, 'settings.json'),
    secretsFile: path.join(dir, 'secrets.json'),
    socketPath,
    pidFile: path.join(dir, 'agent.pid'),
    custom,
  };
}

/** Creates the home folder private to the user (0700), tightening it if someone loosened it. */
export async function ensureHome(home: Home): Promise<void> {
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') {
    const st = await stat(home.dir);
    if ((st.mode & 0o077) !== 0) await chmod(home.dir, 0o700);
  }
}
