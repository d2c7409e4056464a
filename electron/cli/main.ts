#!/usr/bin/env node
// Usage and dispatch only. Each command loads its modules when it runs, so `pocketkube credential` (on every
// kubectl command) and `pocketkube use` do not pay for openid-client or @kubernetes/client-node.
import { isEntryPoint } from '../core/platform/entry-point.js';
import { resolveHome, type Home } from '../core/platform/home.js';
import { AgentClient } from '../client/agent-client.js';
import { err, errorLine, exitCodeFor, out } from './io.js';

const USAGE = `Usage: pocketkube <command> [options]

Commands:
  agent                                   run the agent in the foreground (sessions, socket)
  provider add NAME --issuer URL --client-id ID [--client-secret-file F] [--scope S]... [--callback-port N] [--ca-file F]
  provider list | provider remove NAME
  login [NAME] [--no-browser] [--device]  sign in (prints the URL on stderr, waits until signed in)
  logout [NAME]
  refresh [NAME]                          refresh the session now (the agent does this by itself)
  status [--json]                         who you are, groups, token expiry, per provider
  credential --provider NAME              the ExecCredential kubectl runs (written into kubeconfigs)
  get-token --oidc-issuer-url=URL --oidc-client-id=ID [--oidc-client-secret=S] [--oidc-extra-scope=S]...
                                          kubelogin drop-in
  cluster add NAME --provider P (--server URL [--ca-file F] | --from-context CTX | --from-kubeconfig FILE|-)
              [--namespace NS] [--use]
  cluster list [--json] | cluster remove CONTEXT
  contexts [--json]                       every context across KUBECONFIG, which are PocketKube's
  use CONTEXT                             switch current-context
  import-kubelogin [--dry-run]            turn kubelogin users (kubectl oidc-login get-token) into PocketKube's
  talos patch [--provider P] [--machine-config FILE | --talos-version V] [--username-claim sub|email]
              [--username-prefix oidc:] [--groups-prefix oidc:] [--nodes CP1,CP2] [--out FILE]
                                          the Talos machine-config patch for the cluster's config shape
  talos rbac --group G [--cluster-role cluster-admin] [--name N] [--apply --context ADMIN_CONTEXT]
  whoami [--context C] [--json]           the user and groups the cluster sees (SelfSubjectReview)
  doctor [--provider P] [--context C] [--group G]   check every step, with the fix for each failure

Environment: POCKETKUBE_HOME (default ~/.pocketkube), KUBECONFIG, BROWSER.`;

type Command = (home: Home, client: AgentClient, args: string[]) => Promise<number | void>;

const COMMANDS: Record<string, Command> = {
  agent: async (home) => (await import('./commands/agent.js')).cmdAgent(home),
  status: async (home, client, args) => (await import('./commands/agent.js')).cmdStatus(home, client, args),
  provider: async (home, client, args) => (await import('./commands/providers.js')).cmdProvider(home, client, args),
  login: async (home, client, args) => (await import('./commands/session.js')).cmdLogin(home, client, args),
  logout: async (home, client, args) => (await import('./commands/session.js')).cmdLogout(home, client, args),
  refresh: async (home, client, args) => (await import('./commands/session.js')).cmdRefresh(home, client, args),
  credential: async (_home, client, args) => (await import('./commands/credential.js')).cmdCredential(client, args),
  'get-token': async (_home, client, args) => (await import('./commands/credential.js')).cmdGetToken(client, args),
  cluster: async (home, _client, args) => (await import('./commands/clusters.js')).cmdCluster(home, args),
  contexts: async (_home, _client, args) => (await import('./commands/clusters.js')).cmdContexts(args),
  use: async (_home, _client, args) => (await import('./commands/clusters.js')).cmdUse(args),
  'import-kubelogin': async (home, client, args) => (await import('./commands/kubelogin.js')).cmdImportKubelogin(home, client, args),
  talos: async (home, _client, args) => (await import('./commands/talos.js')).cmdTalos(home, args),
  whoami: async (_home, _client, args) => (await import('./commands/talos.js')).cmdWhoami(args),
  doctor: async (home, client, args) => (await import('./commands/talos.js')).cmdDoctor(home, client, args),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const home = resolveHome();
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
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
