/** `pocketkube agent` (run the agent here) and `pocketkube status` (ask it, or say it is not running). */
import type { AgentStatus } from '../../shared/api.js';
import type { Home } from '../../core/platform/home.js';
import { ProviderRegistry } from '../../core/session/providers.js';
import { AgentNotRunningError, type AgentClient } from '../../client/agent-client.js';
import { UsageError } from '../../core/platform/errors.js';
import { pocketkubeVersion } from '../../core/platform/version.js';
import { colourOn, err, formatStatus, out, paintLines, parse } from '../io.js';

async function agentStatus(client: AgentClient): Promise<AgentStatus | undefined> {
  try {
    return await client.status(5_000);
  } catch (e) {
    if (e instanceof AgentNotRunningError) return undefined;
    throw e;
  }
}

export async function cmdAgent(home: Home, args: string[] = []): Promise<number | void> {
  const { values } = parse(args, { install: { type: 'boolean' }, uninstall: { type: 'boolean' } });
  if (values.install && values.uninstall) throw new UsageError('agent takes --install or --uninstall, not both.');
  if (values.install || values.uninstall) {
    const service = await import('./service.js');
    const res = values.install ? await service.installService(home) : await service.uninstallService(home);
    for (const line of res.lines) (res.ok ? out : err)(line);
    return res.ok ? 0 : 1;
  }
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
  await agent.start();
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
  const mine = pocketkubeVersion();
  if (status && status.agent.version !== mine) {
    err(`Warning: this pocketkube is version ${mine} but the running agent is ${status.agent.version}; restart the agent (or the PocketKube app) so both are the same.`);
  }
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
  out(paintLines(formatStatus(status, { socket: home.socketPath, providers }), colourOn()));
}
