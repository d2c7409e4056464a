import http from 'node:http';
import { PocketKubeError } from '../core/platform/errors.js';
import type {
  AddProviderRequest,
  AgentStatus,
  CredentialRequest,
  ExecCredential,
  Failure,
  LoginStarted,
  ProviderAnswer,
  ProviderConfig,
  SessionSnapshot,
} from '../shared/api.js';

export class AgentNotRunningError extends PocketKubeError {
  override name = 'AgentNotRunningError';
  constructor(readonly socketPath: string) {
    super(
      'agent_not_running',
      `No PocketKube agent is running (nothing answers on ${socketPath}). Start the PocketKube app, or run \`pocketkube agent\` in another terminal.`,
    );
  }
}

const provider = (name: string) => `/v1/providers/${encodeURIComponent(name)}`;

/**
 * The agent's socket API (/v1) as one typed method per route, the event stream included: the CLI, the tray,
 * the window's controller and Talos setup all call these, never a URL of their own. A failure is thrown as
 * the agent's PocketKubeError (code, message, needsSignIn, HTTP status); no agent is AgentNotRunningError.
 */
export class AgentClient {
  constructor(readonly socketPath: string) {}

  /** GET /v1/status: the same JSON as `pocketkube status --json`. */
  status(timeoutMs?: number): Promise<AgentStatus> {
    return this.request('GET', '/v1/status', undefined, timeoutMs);
  }

  /** POST /v1/credential: what kubectl's helper asks; may wait for a refresh. */
  credential(req: CredentialRequest, timeoutMs = 300_000): Promise<ExecCredential> {
    return this.request('POST', '/v1/credential', req, timeoutMs);
  }

  /** GET /v1/providers: the providers as saved in settings. */
  async listProviders(): Promise<ProviderConfig[]> {
    return (await this.request<{ providers: ProviderConfig[] }>('GET', '/v1/providers')).providers;
  }

  /** POST /v1/providers: adds or replaces a provider; the agent keeps its client secret. */
  async addProvider(req: AddProviderRequest): Promise<ProviderConfig> {
    return (await this.request<{ ok: true; provider: ProviderConfig }>('POST', '/v1/providers', req)).provider;
  }

  /** DELETE /v1/providers/NAME: the provider, its session and its secrets. */
  async removeProvider(name: string): Promise<void> {
    await this.request('DELETE', provider(name));
  }

  /** GET /v1/providers/NAME: one session's snapshot. */
  provider(name: string): Promise<SessionSnapshot> {
    return this.request('GET', provider(name));
  }

  /** POST /v1/providers/NAME/login: starts a sign-in (or returns the one under way). */
  login(name: string, options: { device?: boolean } = {}): Promise<LoginStarted> {
    return this.request('POST', `${provider(name)}/login`, { device: options.device ? 'true' : undefined });
  }

  /** GET /v1/providers/NAME/login: waits up to `waitSeconds` for the sign-in under way; 'timeout' if it is still going. */
  async waitForLogin(name: string, waitSeconds: number): Promise<SessionSnapshot> {
    const res = await this.request<ProviderAnswer>('GET', `${provider(name)}/login?timeout=${waitSeconds}`, undefined, (waitSeconds + 10) * 1000);
    return res.provider;
  }

  /** POST /v1/providers/NAME/logout. */
  async logout(name: string): Promise<SessionSnapshot> {
    return (await this.request<ProviderAnswer>('POST', `${provider(name)}/logout`)).provider;
  }

  /** POST /v1/providers/NAME/refresh: refreshes now. */
  async refresh(name: string): Promise<SessionSnapshot> {
    return (await this.request<ProviderAnswer>('POST', `${provider(name)}/refresh`)).provider;
  }

  /** POST /v1/reload: re-reads settings; answers the providers the agent now has. */
  async reload(): Promise<string[]> {
    return (await this.request<{ ok: true; providers: string[] }>('POST', '/v1/reload')).providers;
  }

  /** POST /v1/shutdown: asks a headless agent to stop (the tray app taking over). */
  async shutdown(): Promise<void> {
    await this.request('POST', '/v1/shutdown');
  }

  /**
   * GET /v1/events: the status now and on every change, as one long request (no polling). Reconnects with
   * backoff when the agent goes away or restarts, calling `onDown` each time. Returns the function that stops it.
   */
  watchStatus(onStatus: (status: AgentStatus) => void, onDown: () => void = () => {}): () => void {
    let stopped = false;
    let req: http.ClientRequest | undefined;
    let retryMs = 250;
    let timer: NodeJS.Timeout | undefined;
    const connect = () => {
      if (stopped) return;
      req = http.get({ socketPath: this.socketPath, path: '/v1/events' }, (res) => {
        retryMs = 250;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const data = buf
              .slice(0, end)
              .split('\n')
              .find((l) => l.startsWith('data: '));
            buf = buf.slice(end + 2);
            if (data) onStatus(JSON.parse(data.slice(6)) as AgentStatus);
          }
        });
        res.on('close', retry);
      });
      req.on('error', retry);
    };
    const retry = () => {
      if (stopped || timer) return;
      onDown();
      timer = setTimeout(() => {
        timer = undefined;
        connect();
      }, retryMs);
      retryMs = Math.min(retryMs * 2, 5_000);
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      req?.destroy();
    };
  }

  /** One raw request, as the typed methods make it; for probing the protocol itself (the agent's tests). */
  request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs: number = 30_000): Promise<T> {
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
