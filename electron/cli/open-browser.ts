import { spawn } from 'node:child_process';

/**
 * Opens a URL the way the user's system does. BROWSER (as in many Unix tools) names the command, and may
 * hold several separated by ':'; "%s" in it stands for the URL.
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const candidates: string[][] = [];
  if (env.BROWSER) {
    for (const cmd of env.BROWSER.split(':').filter(Boolean)) {
      const words = cmd.trim().split(/\s+/);
      candidates.push(words.some((w) => w.includes('%s')) ? words.map((w) => w.replace('%s', url)) : [...words, url]);
    }
  } else if (process.platform === 'darwin') candidates.push(['open', url]);
  else if (process.platform === 'win32') candidates.push(['rundll32', 'url.dll,FileProtocolHandler', url]);
  else candidates.push(['xdg-open', url]);

  // The installed helper runs the app's binary as Node (ELECTRON_RUN_AS_NODE=1); a browser started with that
  // still set would start as Node too if it is Electron-based, or if xdg-open hands the URL to one.
  const { ELECTRON_RUN_AS_NODE: _asNode, ...childEnv } = env;
  return (async () => {
    let last: Error | undefined;
    for (const [cmd, ...args] of candidates) {
      try {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(cmd!, args, { stdio: 'ignore', detached: true, env: childEnv });
          child.once('error', reject);
          child.once('spawn', () => {
            child.unref();
            resolve();
          });
        });
        return;
      } catch (err) {
        last = err as Error;
      }
    }
    throw new Error(`could not open a browser (${last?.message ?? 'no command'})`);
  })();
}
