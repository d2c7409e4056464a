/**
 * Every command's usage, one-line summary, example and flags, in one table: `pocketkube --help`,
 * `pocketkube help COMMAND`, `COMMAND --help` and the shell completions are all read from it.
 */

/** What a flag's value or a positional argument is, so completion can offer the right words. */
export type Value = 'provider' | 'context' | 'file' | 'shell' | 'command' | 'word' | 'none';

export interface Subcommand {
  flags?: Record<string, Value>;
  /** The kind of the positional argument, if any. */
  arg?: Value;
}

export interface CommandHelp {
  synopsis: string[];
  summary: string;
  example: string[];
  flags?: Record<string, Value>;
  arg?: Value;
  /** Extra words completion offers for the positional argument (e.g. `-` for `use`). */
  argWords?: string[];
  subcommands?: Record<string, Subcommand>;
  /** Hidden from `pocketkube --help` (machinery the shell scripts call). */
  hidden?: boolean;
}

export const COMMANDS: Record<string, CommandHelp> = {
  agent: {
    synopsis: ['agent', 'agent --install | --uninstall'],
    summary: 'run the agent in the foreground (sessions, socket); --install makes it a login service',
    example: ['pocketkube agent --install    # systemd user unit on Linux, launchd agent on macOS'],
    flags: { '--install': 'none', '--uninstall': 'none' },
  },
  status: {
    synopsis: ['status [--json]'],
    summary: 'who you are, groups, token expiry, per provider; the agent and its version',
    example: ['pocketkube status --json | jq .providers[0].idToken.expiresIn'],
    flags: { '--json': 'none' },
  },
  provider: {
    synopsis: [
      'provider add NAME --issuer URL --client-id ID [--client-secret-file F] [--scope S]... [--callback-port N] [--ca-file F]',
      'provider list [--json] | provider remove NAME',
    ],
    summary: 'add, list or remove a Pocket ID client',
    example: ['pocketkube provider add pocket-id --issuer https://id.example.com --client-id a60960a8-c856-43b7-add7-50d83bf7eeab'],
    subcommands: {
      add: { flags: { '--issuer': 'word', '--client-id': 'word', '--client-secret-file': 'file', '--scope': 'word', '--callback-port': 'word', '--ca-file': 'file' } },
      list: { flags: { '--json': 'none' } },
      remove: { arg: 'provider' },
    },
  },
  login: {
    synopsis: ['login [NAME] [--no-browser] [--device]'],
    summary: 'sign in (prints the URL on stderr, waits until signed in)',
    example: ['pocketkube login pocket-id --device    # over SSH: prints a code to enter on another device'],
    flags: { '--no-browser': 'none', '--device': 'none' },
    arg: 'provider',
  },
  logout: {
    synopsis: ['logout [NAME]'],
    summary: 'sign out and end the session at Pocket ID',
    example: ['pocketkube logout pocket-id'],
    arg: 'provider',
  },
  refresh: {
    synopsis: ['refresh [NAME]'],
    summary: 'refresh the session now (the agent does this by itself)',
    example: ['pocketkube refresh pocket-id'],
    arg: 'provider',
  },
  credential: {
    synopsis: ['credential --provider NAME'],
    summary: 'the ExecCredential kubectl runs (written into kubeconfigs)',
    example: ['pocketkube credential --provider pocket-id | jq .status.expirationTimestamp'],
    flags: { '--provider': 'provider' },
  },
  'get-token': {
    synopsis: ['get-token --oidc-issuer-url=URL --oidc-client-id=ID [--oidc-client-secret=S] [--oidc-extra-scope=S]...'],
    summary: 'kubelogin drop-in',
    example: ['pocketkube get-token --oidc-issuer-url=https://id.example.com --oidc-client-id=a60960a8-c856-43b7-add7-50d83bf7eeab'],
    flags: { '--oidc-issuer-url': 'word', '--oidc-client-id': 'word', '--oidc-client-secret': 'word', '--oidc-extra-scope': 'word' },
  },
  cluster: {
    synopsis: [
      'cluster add NAME --provider P (--server URL [--ca-file F] | --from-context CTX | --from-kubeconfig FILE|-) [--namespace NS] [--use]',
      'cluster list [--json] | cluster remove CONTEXT',
    ],
    summary: "write, list or remove PocketKube's kubeconfig contexts",
    example: ['pocketkube cluster add --from-context admin@prod --provider pocket-id --use'],
    subcommands: {
      add: { flags: { '--provider': 'provider', '--server': 'word', '--ca-file': 'file', '--from-context': 'context', '--from-kubeconfig': 'file', '--namespace': 'word', '--use': 'none' } },
      list: { flags: { '--json': 'none' } },
      remove: { arg: 'context' },
    },
  },
  contexts: {
    synopsis: ['contexts [--json]'],
    summary: "every context across KUBECONFIG, which are PocketKube's",
    example: ['pocketkube contexts --json | jq -r .currentContext'],
    flags: { '--json': 'none' },
  },
  use: {
    synopsis: ['use [CONTEXT | -] [--json]'],
    summary: 'switch current-context; `-` switches back; no argument lists them (or runs fzf on a terminal)',
    example: ['pocketkube use pocket-id@prod', 'pocketkube use -    # back to the context before'],
    flags: { '--json': 'none' },
    arg: 'context',
    argWords: ['-'],
  },
  ns: {
    synopsis: ['ns [NAMESPACE | -]'],
    summary: "show or set the current context's namespace; `-` switches back",
    example: ['pocketkube ns kube-system', 'pocketkube ns -    # back to the namespace before'],
    arg: 'word',
    argWords: ['-'],
  },
  prompt: {
    synopsis: ['prompt [--format plain|bash|zsh|json] [--ours-only]'],
    summary: 'one line for your shell prompt: the current context, who is signed in, minutes left',
    example: ["PS1='$(pocketkube prompt --format bash) \\$ '    # bash: pocket-id@prod (alice, 42m) $"],
    flags: { '--format': 'word', '--ours-only': 'none' },
  },
  team: {
    synopsis: ['team export [--provider P] [--context C]... [--team NAME] [--revision N] [--group G] [--format yaml|json] [-o FILE]'],
    summary: 'write the team profile (provider and clusters, never a secret) that developers join',
    example: ['pocketkube team export --team acme-platform --revision 2 -o acme.yaml'],
    subcommands: {
      export: { flags: { '--provider': 'provider', '--context': 'context', '--team': 'word', '--revision': 'word', '--group': 'word', '--format': 'word', '-o': 'file', '--output': 'file' } },
    },
  },
  join: {
    synopsis: ['join FILE|URL|- [--dry-run] [--yes] [--no-sign-in] [--no-browser]'],
    summary: "join a team: shows the plan, asks once, adds the provider and contexts, signs in",
    example: ['pocketkube join https://example.com/acme.yaml --dry-run    # shows what would change'],
    flags: { '--dry-run': 'none', '--yes': 'none', '--no-sign-in': 'none', '--no-browser': 'none' },
    arg: 'file',
  },
  'import-kubelogin': {
    synopsis: ['import-kubelogin [--dry-run]'],
    summary: "turn kubelogin users (kubectl oidc-login get-token) into PocketKube's",
    example: ['pocketkube import-kubelogin --dry-run    # shows the diff, secrets masked'],
    flags: { '--dry-run': 'none' },
  },
  talos: {
    synopsis: [
      'talos patch [--provider P] [--machine-config FILE | --talos-version V] [--username-claim sub|email] [--username-prefix oidc:] [--groups-prefix oidc:] [--nodes CP1,CP2] [--out FILE]',
      'talos rbac --group G [--cluster-role cluster-admin] [--name N] [--apply --context ADMIN_CONTEXT]',
    ],
    summary: 'the Talos machine-config patch and the ClusterRoleBinding for your group',
    example: ['pocketkube talos patch --machine-config controlplane.yaml --out oidc-patch.yaml', 'pocketkube talos rbac --group kubernetes --apply --context admin@prod'],
    subcommands: {
      patch: {
        flags: {
          '--provider': 'provider',
          '--machine-config': 'file',
          '--talos-version': 'word',
          '--username-claim': 'word',
          '--username-prefix': 'word',
          '--groups-prefix': 'word',
          '--nodes': 'word',
          '--out': 'file',
        },
      },
      rbac: { flags: { '--group': 'word', '--cluster-role': 'word', '--name': 'word', '--groups-prefix': 'word', '--apply': 'none', '--context': 'context' } },
    },
  },
  whoami: {
    synopsis: ['whoami [--context C] [--json]'],
    summary: 'the user and groups the cluster sees (SelfSubjectReview)',
    example: ['pocketkube whoami --context pocket-id@prod'],
    flags: { '--context': 'context', '--json': 'none' },
  },
  doctor: {
    synopsis: ['doctor [--provider P] [--context C] [--group G] [--json]'],
    summary: 'check every step, with the fix for each failure',
    example: ['pocketkube doctor --context pocket-id@prod --group kubernetes'],
    flags: { '--provider': 'provider', '--context': 'context', '--group': 'word', '--username-claim': 'word', '--groups-prefix': 'word', '--json': 'none' },
  },
  completion: {
    synopsis: ['completion bash|zsh|fish'],
    summary: 'print the shell completion script (commands, flags, providers, contexts)',
    example: ['echo \'source <(pocketkube completion bash)\' >> ~/.bashrc'],
    arg: 'shell',
  },
  version: {
    synopsis: ['version | --version | -V'],
    summary: "print PocketKube's version",
    example: ['pocketkube --version'],
  },
  help: {
    synopsis: ['help [COMMAND] | COMMAND --help'],
    summary: 'this help, or one command with an example',
    example: ['pocketkube help use'],
    arg: 'command',
  },
};

export const EXIT_CODES = 'Exit codes: 0 ok, 1 failure (one line on stderr says what and what to do), 2 usage mistake.';

export function usage(): string {
  const lines = ['Usage: pocketkube <command> [options]', '', 'Commands:'];
  for (const c of Object.values(COMMANDS)) {
    if (c.hidden) continue;
    for (const [i, synopsis] of c.synopsis.entries()) {
      const head = `  ${synopsis}`;
      if (i > 0) lines.push(head);
      else lines.push(head.length < 40 ? `${head.padEnd(40)}${c.summary}` : `${head}\n${' '.repeat(40)}${c.summary}`);
    }
  }
  lines.push('', 'Run `pocketkube help COMMAND` for its flags and an example.');
  lines.push('Environment: POCKETKUBE_HOME (default ~/.pocketkube), KUBECONFIG, BROWSER, NO_COLOR.');
  lines.push(EXIT_CODES);
  return lines.join('\n') + '\n';
}

/** One command's help, or undefined for a name that is no command. */
export function commandHelp(name: string): string | undefined {
  const c = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!c) return undefined;
  const lines = [`Usage: ${c.synopsis.map((s) => `pocketkube ${s}`).join('\n       ')}`, '', c.summary[0]!.toUpperCase() + c.summary.slice(1) + '.'];
  lines.push('', 'Example:', ...c.example.map((e) => `  $ ${e}`), '', EXIT_CODES);
  return lines.join('\n') + '\n';
}
