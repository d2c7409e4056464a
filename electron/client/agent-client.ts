import http from 'node:http';

export class AgentNotRunningError extends Error {
  override readonly name = 'AgentNotRunningError';
  constructor(readonly socketPath: string) {
    super(
      `No PocketKube agent is running (nothing answers on ${socketPath}). Start the PocketKube app, or run \`pocketkube agent\` in another terminal.`,
    );
  }
}

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly needsSignIn: boolean,
  ) {
    super(message);
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
              const e = (parsed as { error?: { code?: string; message?: string; needsSignIn?: boolean } } | undefined)?.error;
              reject(new AgentError(res.statusCode ?? 500, e?.code ?? 'error', e?.message ?? (text.trim() || `HTTP ${res.statusCode}`), Boolean(e?.needsSignIn)));
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
