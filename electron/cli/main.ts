#!/usr/bin/env node
// Usage and dispatch only. Each command loads its modules when it runs, so `pocketkube credential` (on every
// kubectl command) and `pocketkube use` do not pay for openid-client or @kubernetes/client-node.
import { isEntryPoint } from '../core/platform/entry-point.js';
import { resolveHome, type Home } from '../core/platform/home.js';
import { AgentClient } from '../client/agent-client.js';
import { err, errorLine, exitCodeFor, out } from './io.js';

type Command = (home: Home, client: AgentClient, args: string[]) => Promise<number | void>;

const COMMANDS: Record<string, Command> = {
  agent: async (home, _client, args) => (await import('./commands/agent.js')).cmdAgent(home, args),
  status: async (home, client, args) => (await import('./commands/agent.js')).cmdStatus(home, client, args),
  provider: async (home, client, args) => (await import('./commands/providers.js')).cmdProvider(home, client, args),
  login: async (home, client, args) => (await import('./commands/session.js')).cmdLogin(home, client, args),
  logout: async (home, client, args) => (await import('./commands/session.js')).cmdLogout(home, client, args),
  refresh: async (home, client, args) => (await import('./commands/session.js')).cmdRefresh(home, client, args),
  credential: async (_home, client, args) => (await import('./commands/credential.js')).cmdCredential(client, args),
  'get-token': async (_home, client, args) => (await import('./commands/credential.js')).cmdGetToken(client, args),
  cluster: async (home, _client, args) => (await import('./commands/clusters.js')).cmdCluster(home, args),
  contexts: async (_home, _client, args) => (await import('./commands/clusters.js')).cmdContexts(args),
  use: async (home, _client, args) => (await import('./commands/clusters.js')).cmdUse(home, args),
  'import-kubelogin': async (home, client, args) => (await import('./commands/kubelogin.js')).cmdImportKubelogin(home, client, args),
  talos: async (home, _client, args) => (await import('./commands/talos.js')).cmdTalos(home, args),
  whoami: async (_home, _client, args) => (await import('./commands/talos.js')).cmdWhoami(args),
  doctor: async (home, client, args) => (await import('./commands/talos.js')).cmdDoctor(home, client, args),
  ns: async (home, _client, args) => (await import('./commands/clusters.js')).cmdNamespace(home, args),
  prompt: async (_home, client, args) => (await import('./commands/prompt.js')).cmdPrompt(client, args),
  team: async (home, _client, args) => (await import('./commands/team.js')).cmdTeam(home, args),
  join: async (home, client, args) => (await import('./commands/team.js')).cmdJoin(home, client, args),
  completion: async (_home, _client, args) => (await import('./commands/completion.js')).cmdCompletion(args),
  __complete: async (home, _client, args) => (await import('./commands/completion.js')).cmdComplete(home, args),
  version: async () => out((await import('../core/platform/version.js')).pocketkubeVersion()),
};

const help = () => import('./commands/help.js');

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const home = resolveHome();
  if (command === undefined) {
    err((await help()).usage());
    return 2;
  }
  if (command === '--help' || command === '-h' || (command === 'help' && args.length === 0)) {
    out((await help()).usage());
    return 0;
  }
  if (command === 'help' || (command !== '__complete' && (args.includes('--help') || args.includes('-h')))) {
    const name = command === 'help' && args[0] !== '--help' && args[0] !== '-h' ? args[0]! : command;
    const text = (await help()).commandHelp(name);
    if (text) out(text);
    else err(`pocketkube: there is no command "${name}". See \`pocketkube --help\`.`);
    return text ? 0 : 2;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : command === '--version' || command === '-V' ? COMMANDS.version : undefined;
  if (!run) {
    err(`pocketkube: unknown command "${command}". See \`pocketkube --help\`.`);
    return 2;
  }
  try {
    return (await run(home, new AgentClient(home.socketPath), args)) ?? 0;
  } catch (e) {
    err(errorLine(e));
    return exitCodeFor(e);
  }
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
