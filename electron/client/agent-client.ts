import http from 'node:http';
import { PocketKubeError } from '../core/platform/errors.js';
import type { Failure } from '../shared/api.js';

export class AgentNotRunningError extends PocketKubeError {
  override name = 'AgentNotRunningError';
  constructor(readonly socketPath: string) {
    super(
      'agent_not_running',
      `No PocketKube agent is running (nothing answers on ${socketPath}). Start the PocketKube app, or run \`pocketkube agent\` in another terminal.`,
    );
  }
}

/** A client of the agent's socket API (/v1), used by the CLI and the slow path of the credential helper. */
export class AgentClient {
  constructor(readonly socketPath: string) {}

  request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            if ((res.statusCode ?? 500) >= 400) {
              const e = (parsed as { error?: Partial<Failure> } | undefined)?.error;
              const failure = { code: e?.code ?? 'error', message: e?.message ?? (text.trim() || `HTTP ${res.statusCode}`), needsSignIn: e?.needsSignIn };
              reject(PocketKubeError.fromFailure(failure, { status: res.statusCode ?? 500 }));
            } else resolve(parsed as T);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`the agent did not answer ${method} ${path} within ${Math.round(timeoutMs / 1000)} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES'].includes(err.code ?? '')) reject(new AgentNotRunningError(this.socketPath));
        else reject(err);
      });
      req.end(payload);
    });
  }
}
