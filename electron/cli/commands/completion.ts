/**
 * `pocketkube completion bash|zsh|fish` prints a small script; the script asks `pocketkube __complete WORDS`
 * for the candidates, so commands, flags, provider names and context names come from one place (help.ts,
 * the settings, the kubeconfig read with the fast reader) and every shell offers the same words.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/platform/errors.js';
import type { Home } from '../../core/platform/home.js';
import { out } from '../io.js';
import { COMMANDS, type Value } from './help.js';

/** The first line `__complete` prints when the shell should complete file names itself. */
export const FILES = ':files';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

const BASH = `# pocketkube completion for bash. Load it with: source <(pocketkube completion bash)
_pocketkube() {
  # Words from the line itself: bash splits COMP_WORDS at ":" and "@" too, which would cut context names.
  local IFS=$' \\t\\n' line=\${COMP_LINE:0:COMP_POINT} words cur candidates
  read -ra words <<< "$line"
  [[ $line == *[[:space:]] ]] && words+=("")
  cur=\${words[\${#words[@]}-1]}
  IFS=$'\\n'
  candidates=$("\${words[0]}" __complete "\${words[@]:1}" 2>/dev/null)
  if [[ $candidates == ${FILES} ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
  fi
  # Bash replaces only the part of the word after its last word-break character (":" and, on Debian, "@"
  # too: admin@prod, arn:aws:eks:...); offer that part.
  local prefix=\${cur%"\${cur##*[$COMP_WORDBREAKS]}"} i
  if [[ -n $prefix ]]; then
    for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${COMPREPLY[i]#"$prefix"}; done
  fi
}
complete -F _pocketkube pocketkube
`;

const ZSH = `#compdef pocketkube
# pocketkube completion for zsh. Load it with: source <(pocketkube completion zsh)  (after compinit)
_pocketkube() {
  local -a candidates
  candidates=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(\${candidates:#})
  if [[ \${candidates[1]} == '${FILES}' ]]; then
    _files
  else
    compadd -- "\${candidates[@]}"
  fi
}
if [[ \${funcstack[1]} == _pocketkube ]]; then
  _pocketkube "$@"
else
  compdef _pocketkube pocketkube
fi
`;

const FISH = `# pocketkube completion for fish. Load it with: pocketkube completion fish | source
function __pocketkube_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l candidates ($tokens[1] __complete $tokens[2..-1] "$current" 2>/dev/null)
    if test "$candidates[1]" = '${FILES}'
        __fish_complete_path "$current"
    else if set -q candidates[1]
        printf '%s\\n' $candidates
    end
end
complete -c pocketkube -f -a '(__pocketkube_complete)'
`;

export async function cmdCompletion(args: string[]): Promise<void> {
  const shell = args[0];
  if (args.length !== 1 || !(SHELLS as readonly string[]).includes(shell!)) {
    throw new UsageError(`completion takes one shell: ${SHELLS.join(', ')} (e.g. \`source <(pocketkube completion bash)\`).`);
  }
  out(shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH);
}

/** Context names, as fast as the kubeconfig allows: the fast reader, and the full one only for unusual files. */
async function contextNames(): Promise<string[]> {
  const { kubeconfigFiles } = await import('../../core/kubeconfig/files.js');
  const { fastParse } = await import('../../core/kubeconfig/fast-parse.js');
  const names = new Set<string>();
  for (const file of kubeconfigFiles()) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const parsed = fastParse(text);
    if (!parsed) {
      const { listContexts } = await import('../../core/kubeconfig/kubeconfig.js');
      return (await listContexts()).contexts.map((c) => c.name);
    }
    const list = parsed.js['contexts'];
    if (!Array.isArray(list)) continue;
    for (const item of list as unknown[]) {
      const name = (item as { name?: unknown } | null)?.name;
      if (typeof name === 'string' && name) names.add(name);
    }
  }
  return [...names];
}

async function providerNames(home: Home): Promise<string[]> {
  const { ProviderRegistry } = await import('../../core/session/providers.js');
  return (await new ProviderRegistry(home.settingsFile).list().catch(() => [])).map((p) => p.name);
}

async function valuesOf(kind: Value, home: Home): Promise<string[]> {
  switch (kind) {
    case 'provider':
      return providerNames(home);
    case 'context':
      return contextNames();
    case 'shell':
      return [...SHELLS];
    case 'command':
      return Object.entries(COMMANDS).filter(([, c]) => !c.hidden).map(([n]) => n);
    case 'file':
      return [FILES];
    default:
      return [];
  }
}

/** The candidates for the last word, given the words before it (everything after `pocketkube`). */
export async function complete(home: Home, words: string[]): Promise<string[]> {
  const cur = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const matching = (list: string[]) => (list[0] === FILES ? list : list.filter((w) => w.startsWith(cur)));
  if (before.length === 0) return matching([...(await valuesOf('command', home)), '--help', '--version']);
  const spec = Object.hasOwn(COMMANDS, before[0]!) ? COMMANDS[before[0]!] : undefined;
  if (!spec) return [];
  let flags = spec.flags ?? {};
  let arg = spec.arg;
  let argWords = spec.argWords ?? [];
  let rest = before.slice(1);
  if (spec.subcommands) {
    if (rest.length === 0) return matching(Object.keys(spec.subcommands));
    const sub = spec.subcommands[rest[0]!];
    if (!sub) return [];
    flags = sub.flags ?? {};
    arg = sub.arg;
    argWords = [];
    rest = rest.slice(1);
  }
  const takesValue = (w: string | undefined) => w !== undefined && !w.includes('=') && Object.hasOwn(flags, w) && flags[w] !== 'none';
  const prev = before[before.length - 1];
  if (takesValue(prev)) return matching(await valuesOf(flags[prev!]!, home));
  const flagWords = [...Object.keys(flags), '--help'];
  if (cur.startsWith('-') && cur !== '-') return matching(flagWords);
  let positionals = 0;
  for (let i = 0; i < rest.length; i++) {
    if (takesValue(rest[i])) i++;
    else if (!rest[i]!.startsWith('-') || rest[i] === '-') positionals++;
  }
  if (arg && positionals === 0) {
    const values = await valuesOf(arg, home);
    return values[0] === FILES ? values : matching([...values, ...argWords]);
  }
  return matching(Object.keys(flags));
}

export async function cmdComplete(home: Home, args: string[]): Promise<void> {
  const words = await complete(home, args.length ? args : ['']);
  if (words.length) out(words.join('\n'));
}
