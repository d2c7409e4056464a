import type { ChildProcess } from 'node:child_process';

/** The agent process's log so far (its stderr), as Stack.startAgentProcess records it. */
export function agentLog(agent: ChildProcess): string {
  return (agent as ChildProcess & { log?: string }).log ?? '';
}

/**
 * Resolves when the agent's log has a line matching `pattern`; rejects, quoting the log, after `timeoutMs`
 * or when the agent exits first.
 */
export function untilAgentLogs(agent: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      agent.stderr!.off('data', check);
      agent.off('exit', exited);
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (pattern.test(agentLog(agent))) done();
    };
    const exited = () => done(new Error(`the agent exited before logging ${pattern}: ${agentLog(agent)}`));
    const timer = setTimeout(() => done(new Error(`the agent did not log ${pattern} in ${timeoutMs / 1000} s: ${agentLog(agent)}`)), timeoutMs);
    // Stack's own listener, added first, has appended the chunk by the time this one runs.
    agent.stderr!.on('data', check);
    agent.once('exit', exited);
    check();
  });
}
