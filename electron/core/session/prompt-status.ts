import path from 'node:path';
import type { SessionSnapshot } from '../../shared/api.js';
import { DEFAULT_EXPIRY_POLICY } from '../../shared/expiry.js';
import { replaceFileSync } from '../platform/atomic-file.js';
import type { Home } from '../platform/home.js';

/**
 * `pocketkube prompt`: one line about the current context for a shell prompt. The agent writes every format's
 * line to a private file that the sh entry point prints with built-ins (no fork on every prompt); the Node CLI
 * prints the same lines from the agent's status. Both go through `promptLine`, so they cannot differ.
 */
export const PROMPT_FORMATS = ['plain', 'bash', 'zsh', 'json'] as const;
export type PromptFormat = (typeof PROMPT_FORMATS)[number];

export type PromptState = 'signed-in' | 'expiring' | 'expired' | 'signed-out' | 'not-ours' | 'no-context' | 'no-agent';

export interface PromptStatus {
  state: PromptState;
  context?: string;
  /** The provider a PocketKube context's user signs in with. */
  provider?: string;
  /** The identity's short name: preferred_username, else the email's local part, else the name. */
  who?: string;
  minutesLeft?: number;
}

/** The current context as the kubeconfig says: its name, whether its user runs our helper, and for which provider. */
export interface CurrentContext {
  name: string;
  ours: boolean;
  provider?: string;
}

/** The current context of a kubeconfig read (`listContexts`); a current-context naming no entry is not ours. */
export function currentContextOf(read: { currentContext?: string; contexts: { name: string; current: boolean; ours: boolean; user: string; provider?: string }[] }): CurrentContext | undefined {
  if (!read.currentContext) return undefined;
  const c = read.contexts.find((x) => x.current);
  // `cluster add` names the user after the provider; an imported kubelogin user keeps its name and says --provider.
  const provider = c?.provider ?? c?.user;
  return { name: read.currentContext, ours: c?.ours ?? false, ...(provider ? { provider } : {}) };
}

/** Where the agent keeps the lines; the sh entry point reads it (resources/bin/pocketkube). */
export function promptFile(home: Pick<Home, 'dir'>): string {
  return path.join(home.dir, 'prompt-status');
}

/**
 * The state the prompt shows. `expiring`: under the background refresh's lead time and not yet refreshed,
 * which a working session never is (it refreshes five minutes before expiry), so the marker means "act".
 */
export function promptStatus(current: CurrentContext | undefined, sessions: SessionSnapshot[], now: number): PromptStatus {
  if (!current) return { state: 'no-context' };
  if (!current.ours) return { state: 'not-ours', context: current.name };
  const provider = current.provider;
  const s = sessions.find((x) => x.provider === provider);
  const base = { context: current.name, ...(provider ? { provider } : {}) };
  if (!s || s.state !== 'signed-in' || !s.idToken) return { state: 'signed-out', ...base };
  const who = shortName(s);
  const left = Date.parse(s.idToken.expiresAt) - now;
  const withWho = { ...base, ...(who ? { who } : {}) };
  if (left <= 0) return { state: 'expired', ...withWho };
  const minutesLeft = Math.floor(left / 60_000);
  return { state: left < DEFAULT_EXPIRY_POLICY.refreshAheadMs ? 'expiring' : 'signed-in', ...withWho, minutesLeft };
}

/** How long until the line for `sessions` changes by itself (the minutes left tick), or undefined if never. */
export function msUntilPromptChanges(current: CurrentContext | undefined, sessions: SessionSnapshot[], now: number): number | undefined {
  if (!current?.ours) return undefined;
  const s = sessions.find((x) => x.provider === current.provider);
  if (!s?.idToken || s.state !== 'signed-in') return undefined;
  const left = Date.parse(s.idToken.expiresAt) - now;
  if (left <= 0) return undefined;
  return (left % 60_000) + 1;
}

function shortName(s: SessionSnapshot): string | undefined {
  const id = s.identity;
  if (!id) return undefined;
  return id.preferredUsername || id.email?.split('@')[0] || id.name || undefined;
}

const SGR = { 'signed-in': 32, expiring: 33, expired: 31, 'signed-out': 31, 'no-agent': 31 } as const;

/** Control characters would reach the terminal (or end the file's line): a name from a token or a file has none. */
function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function text(p: PromptStatus): string {
  const ctx = clean(p.context ?? '');
  const who = p.who ? clean(p.who) : undefined;
  switch (p.state) {
    case 'no-context':
      return '';
    case 'no-agent':
      return 'pocketkube: agent not running';
    case 'not-ours':
      return ctx;
    case 'signed-out':
      return `${ctx} (signed out)`;
    case 'expired':
      return `${ctx} (${who ? `${who}, ` : ''}expired)`;
    case 'expiring':
      return `${ctx} (${who ? `${who}, ` : ''}expiring ${p.minutesLeft}m)`;
    case 'signed-in':
      return `${ctx} (${who ? `${who}, ` : ''}${p.minutesLeft}m)`;
  }
}

/**
 * The prompt's line in `format`, without a line end; '' prints nothing. Colour codes are wrapped as each
 * shell needs them in a command substitution: bash's readline markers \001..\002 (`\[..\]` is decoded only
 * in PS1's own text, not in `$(...)`'s output), zsh's `%{..%}` (and `%` doubled, since zsh expands the output).
 * `plain` is for starship's custom command and tmux, which colour it themselves; `json` for scripts.
 */
export function promptLine(p: PromptStatus, format: PromptFormat, opts: { colour: boolean } = { colour: true }): string {
  if (format === 'json') return JSON.stringify(p);
  const t = text(p);
  if (format === 'plain' || !t) return t;
  const code = p.state in SGR ? SGR[p.state as keyof typeof SGR] : undefined;
  if (format === 'zsh') {
    const z = t.replace(/%/g, '%%');
    return code && opts.colour ? `%{\x1b[${code}m%}${z}%{\x1b[0m%}` : z;
  }
  return code && opts.colour ? `\x01\x1b[${code}m\x02${t}\x01\x1b[0m\x02` : t;
}

/**
 * The file the agent writes: `ours 1|0`, then `F LINE` for each format F, then `nocolour-F LINE` (NO_COLOR set),
 * then `down-F` for when the agent that wrote it is gone. One line each; the sh entry point matches the prefix.
 */
export function promptFileText(p: PromptStatus): string {
  const down: PromptStatus = { state: 'no-agent' };
  const lines = [`ours ${p.state === 'not-ours' || p.state === 'no-context' ? 0 : 1}`];
  for (const f of PROMPT_FORMATS) lines.push(`${f} ${promptLine(p, f)}`);
  for (const f of PROMPT_FORMATS) lines.push(`nocolour-${f} ${promptLine(p, f, { colour: false })}`);
  for (const f of PROMPT_FORMATS) lines.push(`down-${f} ${promptLine(down, f)}`);
  for (const f of PROMPT_FORMATS) lines.push(`down-nocolour-${f} ${promptLine(down, f, { colour: false })}`);
  return `${lines.join('\n')}\n`;
}

/** The line the CLI prints, with the same rules as the sh entry point: --ours-only prints nothing for others. */
export function promptOutput(p: PromptStatus, format: PromptFormat, opts: { colour: boolean; oursOnly: boolean }): string {
  if (opts.oursOnly && (p.state === 'not-ours' || p.state === 'no-context')) return '';
  return promptLine(p, format, { colour: opts.colour });
}

/** Grace after the minute ticks before the sh entry point stops trusting the file and asks the Node CLI. */
export const PROMPT_STALE_AFTER_MS = 60_000;
/** When the line never changes by itself (signed out, another tool's context): trusted while the agent lives. */
const NO_DEADLINE_MS = 365 * 86_400_000;

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * The agent's side: rewrites `promptFile` on every session or kubeconfig change and when the minutes left tick.
 * The file's modification time is the moment it goes stale (the next tick plus a minute's grace): after a sleep
 * that held the agent's timer back, the sh entry point sees it is older than its `.now` and asks the CLI.
 */
export class PromptStatusFile {
  private readonly file: string;
  private written?: string;
  private cancelTick?: () => void;
  private enabled = process.platform !== 'win32'; // the Windows helper runs the CLI every time

  constructor(
    home: Pick<Home, 'dir'>,
    private readonly opts: {
      clock: { now(): number; setTimer(ms: number, fn: () => void): () => void };
      log: Log;
      current: () => CurrentContext | undefined;
      sessions: () => SessionSnapshot[];
    },
  ) {
    this.file = promptFile(home);
  }

  update(): void {
    if (!this.enabled) return;
    const now = this.opts.clock.now();
    const current = this.opts.current();
    const sessions = this.opts.sessions();
    const text = promptFileText(promptStatus(current, sessions, now));
    const next = msUntilPromptChanges(current, sessions, now);
    this.cancelTick?.();
    this.cancelTick = next === undefined ? undefined : this.opts.clock.setTimer(next, () => this.update());
    const deadline = (Date.now() + (next === undefined ? NO_DEADLINE_MS : next + PROMPT_STALE_AFTER_MS)) / 1000;
    try {
      replaceFileSync(this.file, text, deadline);
      this.written = text;
    } catch (err) {
      this.written = undefined;
      if (!this.warned) this.opts.log('warn', `could not write the prompt's status to ${this.file} (${(err as Error).message}); \`pocketkube prompt\` will start Node each time.`);
      this.warned = true;
    }
  }

  private warned = false;

  /** The last text written (for tests and the agent's own checks). */
  get text(): string | undefined {
    return this.written;
  }

  /** The agent is stopping: the file stays, and its `down-*` lines then speak (no pid is alive). */
  stop(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }
}
