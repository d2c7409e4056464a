#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
// Only light modules load up front: each command imports what it needs, so `pocketkube use` does not pay
// for openid-client or @kubernetes/client-node (hundreds of ms of start-up).
import type { AgentStatus, CredentialRequest } from '../shared/api.js';
import { apiVersionFromExecInfo } from '../core/credential/exec-credential.js';
import { helperExec } from '../core/credential/helper-path.js';
import { PocketKubeError, UsageError } from '../core/platform/errors.js';
import { ensureHome, resolveHome, type Home } from '../core/platform/home.js';
import {
  deleteProviderSecrets,
  providerFromInput,
  ProviderRegistry,
  saveProvider,
  validateProviderName,
  type ProviderConfig,
} from '../core/session/providers.js';
import { FileSecretStore } from '../core/session/secret-store.js';
import { AgentClient, AgentNotRunningError } from '../client/agent-client.js';
import { errorLine, exitCodeFor, formatProvider, formatStatus } from './io.js';
import { openBrowser } from './open-browser.js';

const kubeconfig = () => import('../core/kubeconfig/index.js');
const talos = () => import('./commands/talos.js');

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

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}. See \`pocketkube --help\`.`);
  }
}

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** A named provider is passed on as typed (the agent answers for unknown names); else the only one. */
async function pickProvider(home: Home, name: string | undefined): Promise<string> {
  return name ?? (await new ProviderRegistry(home.settingsFile).pick()).name;
}

async function agentStatus(client: AgentClient): Promise<AgentStatus | undefined> {
  try {
    return await client.status(5_000);
  } catch (e) {
    if (e instanceof AgentNotRunningError) return undefined;
    throw e;
  }
}

async function cmdAgent(home: Home): Promise<void> {
  const { Agent } = await import('../agent/agent.js');
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

/** A running agent owns the secret store (the OS keychain in the tray app): hand it the provider; else save it here. */
async function saveProviderAnywhere(home: Home, client: AgentClient, provider: ProviderConfig, clientSecret: string | undefined): Promise<void> {
  try {
    await client.addProvider({ ...provider, clientSecret });
  } catch (e) {
    if (!(e instanceof AgentNotRunningError)) throw e;
    await ensureHome(home);
    await saveProvider(new ProviderRegistry(home.settingsFile), new FileSecretStore(home.secretsFile), provider, clientSecret);
  }
}

async function cmdProvider(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const registry = new ProviderRegistry(home.settingsFile);
  if (sub === 'list') {
    const { values } = parse(rest, { json: { type: 'boolean' } });
    const providers = await registry.list();
    if (values.json) return out(JSON.stringify({ providers }, null, 2));
    if (!providers.length) return out('No providers yet: add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
    for (const p of providers) {
      out(`${p.name}\t${p.issuer}\tclient ${p.clientId}${p.confidential ? ' (confidential)' : ''}\tredirect http://localhost:${p.callbackPort}\tscopes ${p.scopes.join(' ')}`);
    }
    return;
  }
  if (sub === 'add') {
    const { values, positionals } = parse(rest, {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'callback-port': { type: 'string' },
      'ca-file': { type: 'string' },
    });
    const name = validateProviderName(positionals[0] ?? '');
    if (!values.issuer) throw new UsageError('provider add needs --issuer URL (your Pocket ID address).');
    if (!values['client-id']) throw new UsageError('provider add needs --client-id ID (the Client ID from Pocket ID).');
    let clientSecret: string | undefined;
    if (values['client-secret-file']) {
      const f = values['client-secret-file'];
      try {
        clientSecret = (await readFile(f, 'utf8')).trim();
      } catch (e) {
        throw new PocketKubeError('unreadable_file', `cannot read the client secret file ${f} (${(e as NodeJS.ErrnoException).code}); nothing was saved.`);
      }
      if (!clientSecret) throw new PocketKubeError('empty_secret', `the client secret file ${f} is empty; nothing was saved.`);
    }
    const scopes = values.scope?.flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
    const provider = providerFromInput({
      name,
      issuer: values.issuer,
      clientId: values['client-id'],
      confidential: Boolean(clientSecret),
      // openid first, whatever else was asked for.
      scopes: scopes?.length ? [...new Set(['openid', ...scopes])] : undefined,
      callbackPort: values['callback-port'] ? Number(values['callback-port']) : undefined,
      caFile: values['ca-file'] ? path.resolve(values['ca-file']) : undefined,
    });
    await saveProviderAnywhere(home, client, provider, clientSecret);
    out(`Provider ${name} saved: ${provider.issuer}, client ${provider.clientId}${clientSecret ? ' (secret stored)' : ' (public client, PKCE)'}.`);
    out(`Register the callback URL http://localhost:${provider.callbackPort} on the Pocket ID client, then run \`pocketkube login ${name}\`.`);
    return;
  }
  if (sub === 'remove') {
    const name = rest[0];
    if (!name) throw new UsageError('provider remove needs the provider NAME.');
    try {
      await client.removeProvider(name);
    } catch (e) {
      if (!(e instanceof AgentNotRunningError)) throw e;
      if (!(await registry.remove(name))) throw new PocketKubeError('unknown_provider', `No provider named ${name}.`);
      await deleteProviderSecrets(new FileSecretStore(home.secretsFile), name);
    }
    out(`Provider ${name} removed (its stored session and secret too).`);
    return;
  }
  throw new UsageError('provider takes add, list or remove. See `pocketkube --help`.');
}

async function cmdLogin(home: Home, client: AgentClient, args: string[]): Promise<void> {
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

async function cmdLogout(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const name = await pickProvider(home, positionals[0]);
  await client.logout(name);
  err(`Signed out of ${name}.`);
}

async function cmdRefresh(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const name = await pickProvider(home, positionals[0]);
  const session = await client.refresh(name);
  err(`Refreshed ${name}; ID token expires ${session.idToken?.expiresIn ?? 'soon'}.`);
}

async function cmdStatus(home: Home, client: AgentClient, args: string[]): Promise<void> {
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

/** The slow path of the helper (no curl, or Windows): the same request the shell helper makes. */
async function requestCredential(client: AgentClient, req: CredentialRequest): Promise<void> {
  const cred = await client.credential({ ...req, api_version: apiVersionFromExecInfo(process.env.KUBERNETES_EXEC_INFO) });
  out(JSON.stringify(cred));
}

async function cmdCredential(client: AgentClient, args: string[]): Promise<void> {
  const { values } = parse(args, { provider: { type: 'string' } });
  if (!values.provider) throw new UsageError('credential needs --provider NAME.');
  await requestCredential(client, { provider: values.provider });
}

async function cmdGetToken(client: AgentClient, args: string[]): Promise<void> {
  // kubelogin has many more flags; the ones that do not matter to PocketKube are accepted and ignored.
  const { values } = parseArgs({
    args,
    options: {
      'oidc-issuer-url': { type: 'string' },
      'oidc-client-id': { type: 'string' },
      'oidc-client-secret': { type: 'string' },
      'oidc-extra-scope': { type: 'string', multiple: true },
    },
    allowPositionals: true,
    strict: false,
  });
  const issuer = values['oidc-issuer-url'];
  const clientId = values['oidc-client-id'];
  if (typeof issuer !== 'string' || typeof clientId !== 'string') throw new UsageError('get-token needs --oidc-issuer-url and --oidc-client-id.');
  await requestCredential(client, {
    issuer,
    client_id: clientId,
    client_secret: typeof values['oidc-client-secret'] === 'string' ? values['oidc-client-secret'] : undefined,
    scope: (values['oidc-extra-scope'] as string[] | undefined) ?? [],
  });
}


async function cmdCluster(home: Home, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'add') {
    const { values, positionals } = parse(rest, {
      provider: { type: 'string' },
      server: { type: 'string' },
      'ca-file': { type: 'string' },
      'from-context': { type: 'string' },
      'from-kubeconfig': { type: 'string' },
      namespace: { type: 'string' },
      use: { type: 'boolean' },
    });
    let name = positionals[0];
    let server = values.server;
    let caData: string | undefined;
    if (values['from-kubeconfig']) {
      // A kubeconfig that `talosctl kubeconfig -` printed: take its cluster's server and CA only.
      const file = values['from-kubeconfig'];
      const text = await readFile(file === '-' ? '/dev/stdin' : file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new PocketKubeError('unreadable_file', `cannot read ${file} (${e.code}); nothing was written.`);
      });
      const { clusterFromKubeconfigText } = await import('../core/talos/setup.js');
      const c = clusterFromKubeconfigText(text, file === '-' ? 'the kubeconfig on stdin' : file);
      server = c.server;
      caData = c.caData;
      name = name ?? c.name;
    }
    if (!values.provider) throw new UsageError('cluster add needs --provider P.');
    const sources = [values.server, values['from-context'], values['from-kubeconfig']].filter(Boolean).length;
    if (sources !== 1) throw new UsageError('cluster add takes one of --server URL, --from-context CTX or --from-kubeconfig FILE.');
    if (!name && !values['from-context']) throw new UsageError('cluster add needs a cluster NAME (or --from-context CTX).');
    const known = await new ProviderRegistry(home.settingsFile).get(values.provider);
    if (!known) throw new PocketKubeError('unknown_provider', `No provider named ${values.provider}; add it first with \`pocketkube provider add\`.`);
    const { addCluster } = await import('../core/kubeconfig/cluster.js');
    const res = await addCluster(home, {
      name,
      provider: values.provider,
      server,
      caData,
      caFile: values['ca-file'],
      fromContext: values['from-context'],
      namespace: values.namespace,
      use: values.use,
    });
    out(`${res.changed ? 'Wrote' : 'Already present:'} context ${res.context} (cluster ${res.cluster}, user ${res.user}) in ${res.file}${values.use ? '; it is now current' : ''}.`);
    if (!values.use) out(`Switch to it with \`pocketkube use ${res.context}\`.`);
    return;
  }
  if (sub === 'list') {
    const { values } = parse(rest, { json: { type: 'boolean' } });
    const { contexts } = await (await kubeconfig()).listContexts();
    const { suggestClusters } = await import('../core/talos/setup.js');
    const ours = contexts.filter((c) => c.ours);
    const candidates = suggestClusters(contexts);
    if (values.json) return out(JSON.stringify({ clusters: ours, canAdd: candidates }, null, 2));
    if (!ours.length) out('No PocketKube contexts yet.');
    for (const c of ours) out(`${c.current ? '*' : ' '} ${c.name}\t${c.server ?? c.cluster}\t${c.file}`);
    if (candidates.length) {
      out('\nClusters you can add (server and CA are reused):');
      for (const c of candidates) out(`  pocketkube cluster add --from-context ${c.context} --provider P${c.talos ? '   # talosctl admin context' : ''}`);
    }
    return;
  }
  if (sub === 'remove') {
    const ctx = rest[0];
    if (!ctx) throw new UsageError('cluster remove needs the CONTEXT name (e.g. pocket-id@prod).');
    const res = await (await kubeconfig()).removeContext(ctx);
    out(`Removed ${res.removed.join(', ') || 'nothing'}.`);
    return;
  }
  throw new UsageError('cluster takes add, list or remove. See `pocketkube --help`.');
}

async function cmdContexts(args: string[]): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } });
  const { listContexts, kubeconfigFiles } = await kubeconfig();
  const res = await listContexts();
  if (values.json) return out(JSON.stringify({ files: kubeconfigFiles(), currentContext: res.currentContext ?? null, contexts: res.contexts, errors: res.errors.map((e) => e.message) }, null, 2));
  for (const e of res.errors) err(e.message);
  for (const c of res.contexts) out(`${c.current ? '*' : ' '} ${c.name}${c.ours ? '  (PocketKube)' : ''}\t${c.server ?? c.cluster}\t${c.file}`);
}

/** Turns kubelogin users (the seed guide's `kubectl oidc-login get-token …`) into PocketKube users. */
async function cmdImportKubelogin(home: Home, client: AgentClient, args: string[]): Promise<void> {
  const { values } = parse(args, { 'dry-run': { type: 'boolean' } });
  const { importKubelogin } = await kubeconfig();
  const registry = new ProviderRegistry(home.settingsFile);
  const request = async (dryRun: boolean) =>
    importKubelogin({ dryRun, exec: (provider) => helperExec(home, provider), providers: await registry.list() });
  // Plan first: the providers must exist before any user is pointed at them.
  const plan = await request(true);
  for (const u of plan.found) {
    if (u.skipped) err(`skipped user ${u.name} in ${u.file}${u.line ? ` line ${u.line}` : ''}: ${u.skipped}`);
  }
  const usable = plan.found.filter((u) => !u.skipped);
  if (!usable.length) {
    out(plan.found.length ? 'Nothing to import.' : 'No kubelogin users (kubectl oidc-login / kubelogin get-token) in your kubeconfig.');
    return;
  }
  for (const u of usable) out(`user ${u.name} (${u.file}) -> provider ${u.provider}${u.newProvider ? ' (new)' : ''}`);
  if (values['dry-run']) {
    for (const p of plan.providersToAdd) out(`would add provider ${p.name}: ${p.issuer}, client ${p.clientId}${p.clientSecret ? ' (secret stored in PocketKube, not the kubeconfig)' : ''}`);
    out(plan.diff);
    return;
  }
  for (const p of plan.providersToAdd) {
    const { clientSecret, ...rest } = p;
    const provider = { ...rest, confidential: Boolean(clientSecret) };
    await saveProviderAnywhere(home, client, provider, clientSecret);
    out(`added provider ${p.name}: ${p.issuer}, client ${p.clientId}${clientSecret ? ' (secret stored)' : ''}`);
  }
  const done = await request(false);
  out(`Rewrote ${usable.length} user(s) in ${done.changed.join(', ') || 'no file'}; backups: ${done.backups.join(', ') || 'none'}.`);
  const names = [...new Set(usable.map((u) => u.provider).filter(Boolean))];
  out(`Sign in once with ${names.map((n) => `\`pocketkube login ${n}\``).join(', ')}.`);
}

async function cmdUse(args: string[]): Promise<void> {
  const name = args[0];
  if (!name) throw new UsageError('use needs a CONTEXT name; list them with `pocketkube contexts`.');
  const res = await (await kubeconfig()).useContext(name);
  out(`Switched to context "${name}"${res.previous && res.previous !== name ? ` (was ${res.previous})` : ''}.`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const home = resolveHome();
  const client = new AgentClient(home.socketPath);
  try {
    switch (command) {
      case 'agent':
        await cmdAgent(home);
        break;
      case 'provider':
        await cmdProvider(home, client, args);
        break;
      case 'login':
        await cmdLogin(home, client, args);
        break;
      case 'logout':
        await cmdLogout(home, client, args);
        break;
      case 'refresh':
        await cmdRefresh(home, client, args);
        break;
      case 'status':
        await cmdStatus(home, client, args);
        break;
      case 'credential':
        await cmdCredential(client, args);
        break;
      case 'get-token':
        await cmdGetToken(client, args);
        break;
      case 'cluster':
        await cmdCluster(home, args);
        break;
      case 'contexts':
        await cmdContexts(args);
        break;
      case 'use':
        await cmdUse(args);
        break;
      case 'import-kubelogin':
        await cmdImportKubelogin(home, client, args);
        break;
      case 'talos':
        await (await talos()).cmdTalos(home, args);
        break;
      case 'whoami':
        await (await talos()).cmdWhoami(args);
        break;
      case 'doctor':
        return await (await talos()).cmdDoctor(home, client, args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        err(`pocketkube: unknown command "${command}". See \`pocketkube --help\`.`);
        return 2;
    }
    return 0;
  } catch (e) {
    err(errorLine(e));
    return exitCodeFor(e);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.js')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
