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

  return (async () => {
    let last: Error | undefined;
    for (const [cmd, ...args] of candidates) {
      try {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(cmd!, args, { stdio: 'ignore', detached: true, env });
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
