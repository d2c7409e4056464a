/** `pocketkube login|logout|refresh`: asks the agent, which owns the sessions. */
import { PocketKubeError } from '../../core/platform/errors.js';
import type { Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import type { AgentClient } from '../../client/agent-client.js';
import { err, parse } from '../io.js';
import { openBrowser } from '../open-browser.js';

/** A named provider is passed on as typed (the agent answers for unknown names); else the only one. */
async function pickProvider(home: Home, name: string | undefined): Promise<string> {
  return name ?? (await new ProviderRegistry(home.settingsFile).pick()).name;
}

export async function cmdLogin(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'no-browser': { type: 'boolean' }, device: { type: 'boolean' }, timeout: { type: 'string' } });
  const name = await pickProvider(home, positionals[0]);
  const started = await client.login(name, { device: values.device });
  if (started.method === 'device') {
    err(`To sign in to ${name}, open ${started.url} on any device${started.userCode ? ` and enter the code ${started.userCode}` : ''}.`);
  } else {
    err(`Sign in to ${name} in your browser: ${started.url}`);
    if (!values['no-browser']) {
      await openBrowser(started.url).catch((e: Error) => err(`(${e.message}; open the URL above yourself)`));
    }
  }
  const deadline = Date.now() + Number(values.timeout ?? 600) * 1000;
  for (;;) {
    try {
      const session = await client.waitForLogin(name, 60);
      const id = session.identity;
      err(`Signed in to ${name} as ${id?.name ?? id?.email ?? id?.sub}${id?.groups.length ? ` (groups: ${id.groups.join(', ')})` : ''}; ID token expires ${session.idToken?.expiresIn ?? 'soon'}.`);
      return;
    } catch (e) {
      if (e instanceof PocketKubeError && e.code === 'timeout' && Date.now() < deadline) continue;
      throw e;
    }
  }
}

export async function cmdLogout(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const name = await pickProvider(home, positionals[0]);
  await client.logout(name);
  err(`Signed out of ${name}.`);
}

export async function cmdRefresh(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const name = await pickProvider(home, positionals[0]);
  const session = await client.refresh(name);
  err(`Refreshed ${name}; ID token expires ${session.idToken?.expiresIn ?? 'soon'}.`);
}
