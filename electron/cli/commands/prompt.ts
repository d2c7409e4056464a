/**
 * `pocketkube prompt`: the Node side of the prompt segment, for Windows and whenever the sh entry point's
 * file cannot answer (stale, missing). Same lines as the file, from the same function.
 */
import { UsageError } from '../../core/platform/errors.js';
import { AgentNotRunningError, type AgentClient } from '../../client/agent-client.js';
import { currentContextOf, PROMPT_FORMATS, promptOutput, promptStatus, type PromptFormat, type PromptStatus } from '../../core/session/prompt-status.js';
import { out, parse } from '../io.js';

/** As the sh entry point decides: colour codes unless NO_COLOR is set or the terminal is dumb. */
export function promptColour(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.NO_COLOR && env.TERM !== 'dumb';
}

export async function cmdPrompt(client: AgentClient, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { format: { type: 'string' }, 'ours-only': { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`prompt takes no arguments, only --format and --ours-only (got "${positionals[0]}"). See \`pocketkube help prompt\`.`);
  const format = (values.format ?? 'plain') as PromptFormat;
  if (!PROMPT_FORMATS.includes(format)) {
    throw new UsageError(`prompt: --format must be one of ${PROMPT_FORMATS.join(', ')}, not "${values.format}". See \`pocketkube help prompt\`.`);
  }
  let status: PromptStatus;
  try {
    const agent = await client.status(5_000);
    const { listContexts } = await import('../../core/kubeconfig/index.js');
    status = promptStatus(currentContextOf(await listContexts()), agent.providers, Date.now());
  } catch (e) {
    if (!(e instanceof AgentNotRunningError)) throw e;
    status = { state: 'no-agent' };
  }
  const line = promptOutput(status, format, { colour: promptColour(), oursOnly: Boolean(values['ours-only']) });
  if (line) out(line);
}
