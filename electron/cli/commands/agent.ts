/** `pocketkube agent` (run the agent here) and `pocketkube status` (ask it, or say it is not running). */
import type { AgentStatus } from '../../shared/api.js';
import type { Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import { AgentNotRunningError, type AgentClient } from '../../client/agent-client.js';
import { err, formatStatus, out, parse } from '../io.js';

async function agentStatus(client: AgentClient): Promise<AgentStatus | undefined> {
  try {
    return await client.status(5_000);
  } catch (e) {
    if (e instanceof AgentNotRunningError) return undefined;
    throw e;
  }
}

export async function cmdAgent(home: Home): Promise<void> {
  const { Agent } = await import('../../agent/agent.js');
  let requestStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (requestStop = resolve));
  const agent = new Agent({
    home,
    mode: 'headless',
    log: (level, message) => err(`${new Date().toISOString()} ${level} ${message}`),
    onShutdownRequest: () => {
      err('Asked to stop (the PocketKube app is taking over the sessions).');
      requestStop();
    },
  });
  try {
    await agent.start();
  } catch (e) {
    throw e;
  }
  err(`PocketKube agent running (pid ${process.pid}); socket ${home.socketPath}. Stop with Ctrl-C.`);
  process.once('SIGINT', requestStop);
  process.once('SIGTERM', requestStop);
  await stopped;
  await agent.stop();
  err('PocketKube agent stopped.');
}

export async function cmdStatus(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  const status = await agentStatus(client);
  const providers = status ? [] : await new ProviderRegistry(home.settingsFile).list();
  if (values.json) {
    out(
      JSON.stringify(
        status ?? { apiVersion: 'pocketkube.dev/v1', kind: 'Status', agent: { running: false, socket: home.socketPath }, providers: providers.map((p) => ({ provider: p.name, issuer: p.issuer, clientId: p.clientId, state: 'unknown' })) },
        null,
        2,
      ),
    );
    return;
  }
  out(formatStatus(status, { socket: home.socketPath, providers }));
}
