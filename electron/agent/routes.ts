import { apiVersionFromExecInfo, execCredential, EXEC_API_VERSIONS, type ExecApiVersion } from '../core/credential/exec-credential.js';
import { DEFAULT_SCOPES, normalizeIssuer, providerFromInput, providerNameForIssuer, type ProviderConfig } from '../core/session/providers.js';
import { PocketKubeError } from '../core/platform/errors.js';
import type { Session } from '../core/session/session.js';
import type { ApiRequest, ApiResponse } from './server.js';
import type { AgentStatus } from '../shared/api.js';

/**
 * What the routes need from the agent, and nothing more: the Agent implements it, the routes never see its
 * fields (and agent.ts imports routes.ts, never the other way round).
 */
export interface AgentApi {
  status(): AgentStatus;
  session(name: string): Session | undefined;
  liveSessions(): Session[];
  /** The providers as saved in settings. */
  listProviders(): Promise<ProviderConfig[]>;
  saveProvider(provider: ProviderConfig, clientSecret?: string): Promise<void>;
  removeProvider(name: string): Promise<boolean>;
  reloadProviders(): Promise<void>;
  /** Called on every status change; returns the unsubscribe function. */
  onChange(listener: (status: AgentStatus) => void): () => void;
  /** Whether this agent stops when a client asks (the tray app taking over from a headless agent). */
  canStopOnRequest(): boolean;
  stopOnRequest(): void;
}

const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new PocketKubeError('bad_field', `field "${name}" must be a string`);
}

function list(body: Record<string, unknown>, name: string): string[] {
  const v = body[name];
  if (v === undefined || v === null || v === '') return [];
  const items = Array.isArray(v) ? v : [v];
  if (!items.every((i) => typeof i === 'string')) throw new PocketKubeError('bad_field', `field "${name}" must be strings`);
  return (items as string[]).flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
}

const providerNames = (agent: AgentApi): string[] => agent.liveSessions().map((s) => s.name);

function sessionOrThrow(agent: AgentApi, name: string): Session {
  const s = agent.session(name);
  if (!s) {
    const known = providerNames(agent);
    throw new PocketKubeError(
      'unknown_provider',
      `PocketKube has no provider named "${name}"${known.length ? ` (known: ${known.join(', ')})` : ''}; add it with \`pocketkube provider add ${name} --issuer URL --client-id ID\`.`,
    );
  }
  return s;
}

/** kubelogin's flags name an issuer and client, not a provider: find it, or add it once and ask for a sign-in. */
async function providerForKubeloginFlags(agent: AgentApi, body: Record<string, unknown>): Promise<Session> {
  const issuer = normalizeIssuer(field(body, 'issuer')!);
  const clientId = field(body, 'client_id');
  if (!clientId) throw new PocketKubeError('missing_field', 'give "client_id" with "issuer" (kubelogin\'s --oidc-client-id)');
  for (const s of agent.liveSessions()) {
    if (s.provider.issuer === issuer && s.provider.clientId === clientId) return s;
  }
  const name = providerNameForIssuer(issuer, new Set(providerNames(agent)));
  const extra = list(body, 'scope');
  const provider = providerFromInput({ name, issuer, clientId, scopes: [...new Set([...DEFAULT_SCOPES, ...extra])] });
  await agent.saveProvider(provider, field(body, 'client_secret'));
  const s = agent.session(name);
  if (!s) throw new PocketKubeError('internal', `provider ${name} was saved but did not start`);
  return s;
}

export function createRoutes(agent: AgentApi) {
  return async function handle(req: ApiRequest): Promise<ApiResponse> {
    const { method, path, body } = req;
    let parts: string[];
    try {
      parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new PocketKubeError('bad_request', `the path ${path} is not valid percent-encoding`);
    }
    if (parts[0] !== 'v1') throw new PocketKubeError('not_found', `no such endpoint ${path}; this agent speaks /v1 (see GET /v1/status)`);
    const route = parts.slice(1);
    const allow = (...methods: string[]) => {
      if (!methods.includes(method)) throw new PocketKubeError('method_not_allowed', `${path} takes ${methods.join(' or ')}, not ${method}`);
    };

    // GET /v1/status: the same JSON as `pocketkube status --json`.
    if (route.length === 1 && route[0] === 'status') {
      allow('GET');
      return ok(agent.status());
    }

    // /v1/credential: what kubectl's helper asks, on every kubectl command.
    if (route.length === 1 && route[0] === 'credential') {
      allow('GET', 'POST');
      const input: Record<string, unknown> = method === 'GET' ? Object.fromEntries(req.query) : body;
      if (method === 'GET' && req.query.has('client_secret')) {
        throw new PocketKubeError('secret_in_url', 'send client_secret in a POST body, never in the URL');
      }
      const requested = field(input, 'api_version') ?? apiVersionFromExecInfo(field(input, 'exec_info'));
      if (!(EXEC_API_VERSIONS as readonly string[]).includes(requested)) {
        throw new PocketKubeError('bad_api_version', `api_version must be one of ${EXEC_API_VERSIONS.join(', ')}`);
      }
      const name = field(input, 'provider');
      let session: Session;
      if (name) session = sessionOrThrow(agent, name);
      else if (field(input, 'issuer')) session = await providerForKubeloginFlags(agent, input);
      else throw new PocketKubeError('missing_field', 'give "provider", or "issuer" and "client_id"');
      const cred = await session.credential();
      return ok(execCredential(cred.token, cred.expirationTimestamp, requested as ExecApiVersion));
    }

    // GET /v1/events: the status as server-sent events, once now and again on every change; no polling.
    if (route.length === 1 && route[0] === 'events') {
      allow('GET');
      return {
        status: 200,
        stream: (res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
          res.socket?.setTimeout(0);
          let timer: NodeJS.Timeout | undefined;
          const push = () => {
            timer = undefined;
            if (!res.destroyed) res.write(`event: status\ndata: ${JSON.stringify(agent.status())}\n\n`);
          };
          push();
          // Several changes in one tick (a refresh touches a few fields) become one event.
          const off = agent.onChange(() => {
            if (!timer) timer = setTimeout(push, 20);
          });
          const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 30_000);
          res.on('close', () => {
            off();
            clearInterval(heartbeat);
            if (timer) clearTimeout(timer);
          });
        },
      };
    }

    // POST /v1/shutdown: the tray app taking over from a headless agent asks it to stop.
    if (route.length === 1 && route[0] === 'shutdown') {
      allow('POST');
      if (!agent.canStopOnRequest()) throw new PocketKubeError('not_supported', 'this agent does not stop on request; stop it where it runs');
      setTimeout(() => agent.stopOnRequest(), 10);
      return ok({ ok: true });
    }

    if (route[0] === 'reload' && route.length === 1) {
      allow('POST');
      await agent.reloadProviders();
      return ok({ ok: true, providers: providerNames(agent) });
    }

    if (route[0] === 'providers') {
      if (route.length === 1) {
        allow('GET', 'POST');
        if (method === 'GET') return ok({ providers: await agent.listProviders() });
        const callbackPort = field(body, 'callbackPort');
        const provider = providerFromInput({
          name: field(body, 'name') ?? '',
          issuer: field(body, 'issuer') ?? '',
          clientId: field(body, 'clientId') ?? '',
          confidential: Boolean(field(body, 'clientSecret')),
          scopes: list(body, 'scopes'),
          callbackPort: callbackPort === undefined ? undefined : Number(callbackPort),
          caFile: field(body, 'caFile'),
        });
        if (!provider.clientId) throw new PocketKubeError('missing_field', 'give "clientId" (the Client ID from Pocket ID)');
        await agent.saveProvider(provider, field(body, 'clientSecret'));
        return ok({ ok: true, provider }, 201);
      }
      const session = () => sessionOrThrow(agent, route[1]!);
      if (route.length === 2) {
        allow('GET', 'DELETE');
        if (method === 'GET') return ok(session().snapshot());
        session();
        await agent.removeProvider(route[1]!);
        return ok({ ok: true });
      }
      const action = route[2];
      if (route.length === 3 && action === 'login') {
        allow('POST', 'GET');
        const s = session();
        if (method === 'POST') {
          const device = field(body, 'device') === 'true';
          const handle = await s.beginLogin({ device }).catch((err: Error) => {
            throw new PocketKubeError('sign_in_failed', err.message, { needsSignIn: true, status: 502 });
          });
          return ok({ method: handle.method, url: handle.url, userCode: handle.userCode, expiresAt: handle.expiresAt });
        }
        // GET: wait (bounded) for the sign-in under way to finish.
        const timeout = req.query.get('timeout') ?? '300';
        if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
          throw new PocketKubeError('bad_field', `timeout must be a whole number of seconds from 1 (given "${timeout}"), e.g. ${path}?timeout=60`);
        }
        const waitMs = Math.min(Number(timeout), 900) * 1000;
        const pending = s.pendingLogin();
        if (!pending) {
          if (s.signedIn) return ok({ ok: true, provider: s.snapshot() });
          throw new PocketKubeError('no_sign_in', `no sign-in is under way for ${s.name}; start one with POST ${path}`, { needsSignIn: true });
        }
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            pending,
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new PocketKubeError('timeout', `still waiting for the sign-in to ${s.name}; ask again`)), waitMs);
            }),
          ]);
        } finally {
          clearTimeout(timer);
        }
        return ok({ ok: true, provider: s.snapshot() });
      }
      if (route.length === 3 && action === 'logout') {
        allow('POST');
        await session().logout();
        return ok({ ok: true, provider: session().snapshot() });
      }
      if (route.length === 3 && action === 'refresh') {
        allow('POST');
        const s = session();
        await s.refresh('manual');
        return ok({ ok: true, provider: s.snapshot() });
      }
    }
    throw new PocketKubeError('not_found', `no such endpoint ${method} ${path}; see the socket API in the README`);
  };
}
