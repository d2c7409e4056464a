import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PocketKubeError, UsageError } from '../core/platform/errors.js';
import type { AgentStatus, SessionSnapshot } from '../shared/api.js';

export const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
export const err = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

/** Colour only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org). */
export function colourOn(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

const SGR = { green: 32, red: 31, yellow: 33 } as const;

/**
 * Colours the marks a reader scans for (✔ ✖, Signed in/out, Warning) when `on`; text is unchanged otherwise.
 * Only whole lines are matched, so no colour code can end up inside --json or a value.
 */
export function paintLines(text: string, on: boolean): string {
  if (!on) return text;
  const paint = (c: keyof typeof SGR, s: string) => `\x1b[${SGR[c]}m${s}\x1b[0m`;
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/^(✔|\s+Signed in)/, (m) => paint('green', m))
        .replace(/^(✖|\s+Signed out)/, (m) => paint('red', m))
        .replace(/^Warning:/, (m) => paint('yellow', m)),
    )
    .join('\n');
}

/** A command's flags, strictly: an unknown flag is a usage error that points at --help. */
export function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}. See \`pocketkube --help\`.`);
  }
}

/** The CLI's one exit-code rule: a usage mistake exits 2, every other failure 1. */
export function exitCodeFor(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}

/** A failure as its line on stderr: PocketKube's own sentences ("PocketKube: not signed in…") as they are, others prefixed. */
export function errorLine(e: unknown): string {
  const message = (e as Error)?.message;
  const ours = e instanceof PocketKubeError && !(e instanceof UsageError);
  return ours && message.startsWith('PocketKube') ? message : `pocketkube: ${message}`;
}

/** Human-readable `pocketkube status`: one block per provider, no secrets (there are none in the status). */
export function formatStatus(status: AgentStatus | undefined, offline: { socket: string; providers: { name: string; issuer: string; clientId: string }[] }): string {
  const lines: string[] = [];
  if (!status) {
    lines.push(`Agent: not running (socket ${offline.socket}). Start the PocketKube app or run \`pocketkube agent\`.`);
    for (const p of offline.providers) lines.push(`${p.name}  ${p.issuer}  client ${p.clientId}`);
    if (!offline.providers.length) lines.push('No providers yet: add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
    return lines.join('\n');
  }
  const a = status.agent;
  lines.push(`Agent: running (version ${a.version}, pid ${a.pid}, ${a.mode}, since ${a.startedAt}) on ${a.socket}`);
  lines.push(`Secrets: ${a.secrets.where}`);
  if (!status.providers.length) lines.push('No providers yet: add one with `pocketkube provider add NAME --issuer URL --client-id ID`.');
  for (const p of status.providers) lines.push('', ...formatProvider(p));
  return lines.join('\n');
}

export function formatProvider(p: SessionSnapshot): string[] {
  const out = [`${p.provider}  ${p.issuer}  client ${p.clientId}${p.confidential ? ' (confidential)' : ' (public, PKCE)'}`];
  if (p.state === 'signed-out') out.push(`  Signed out: ${p.signedOutReason ?? 'not signed in'}. Sign in with \`pocketkube login ${p.provider}\`.`);
  if (p.signingIn) out.push(`  Sign-in under way: ${p.signingIn.url}${p.signingIn.userCode ? ` (code ${p.signingIn.userCode})` : ''}`);
  const id = p.identity;
  if (id) {
    const who = [id.name, id.email ? `<${id.email}>` : undefined].filter(Boolean).join(' ') || id.sub;
    const verified = id.email ? (id.emailVerified ? ' (email verified)' : ' (email NOT verified)') : '';
    out.push(`  Signed in as ${who}${verified}`);
    out.push(`  sub: ${id.sub}`);
    out.push(`  Groups: ${id.groups.length ? id.groups.join(', ') : '(none: is the "groups" scope requested and are you in a group?)'}`);
  }
  if (p.idToken) {
    out.push(`  ID token expires ${p.idToken.expiresIn} (${p.idToken.expiresAt})${p.nextRefreshAt ? `; next refresh at ${p.nextRefreshAt}` : ''}`);
  }
  if (p.clock) {
    const off = p.clock.skewSeconds !== 0;
    out.push(`  Clock: ${p.clock.words}, from the ID token's iat at ${p.clock.measuredAt}${off ? '; refreshes follow the token\'s lifetime, and `pocketkube doctor` says how to fix the clock' : ''}`);
  }
  if (p.lastRefresh) {
    const r = p.lastRefresh;
    out.push(`  Last refresh: ${r.at} ${r.result} (${r.trigger})${r.message ? `: ${r.message}` : ''}`);
  }
  return out;
}
