/**
 * One request through kube-apiserver's chain: authenticate (401), impersonate, authorize (403), route, and
 * a Status body for every error. Counts what the stats report; logs one line per request when asked.
 */
import type * as http from 'node:http';
import type { RequestAuthenticator } from './authn.js';
import { HttpError, send, statusBody } from './http.js';
import { impersonate } from './impersonation.js';
import { forbid } from './rbac.js';
import { requestInfo, type RequestAttributes } from './request-info.js';
import type { RouteContext } from './route-context.js';
import { route } from './routes.js';
import type { KubeApiServerStats } from './types.js';

export interface HandlerDeps {
  authn: RequestAuthenticator;
  routes: RouteContext;
  stats: KubeApiServerStats;
  log: (line: string) => void;
  logRequests: boolean;
}

export function requestHandler(deps: HandlerDeps): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { authn, routes, stats, log } = deps;
  return async (req, res) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'https://apiserver.invalid');
    let status = 500;
    let who = '-';
    try {
      const authed = await authn.authenticate(req, url.pathname);
      if (!authed) {
        stats.unauthorized++;
        status = 401;
        send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const user = impersonate(req, authed, routes.authorize);
      who = user.username;
      const attrs: RequestAttributes = { ...requestInfo(req.method ?? 'GET', url.pathname, url.searchParams), user };
      const decision = routes.authorize(attrs);
      if (!decision.allowed) throw forbid(attrs, decision.reason);
      const r = await route(req, attrs, url, routes);
      status = r.code;
      send(res, r.code, r.body, r.text);
    } catch (e) {
      status = e instanceof HttpError ? e.code : 500;
      sendError(res, e, stats, log);
    } finally {
      if (deps.logRequests) log(`${req.method} ${url.pathname} ${status} user=${JSON.stringify(who)}`);
    }
  };
}

function sendError(res: http.ServerResponse, e: unknown, stats: KubeApiServerStats, log: (line: string) => void): void {
  if (e instanceof HttpError) {
    if (e.code === 403) stats.forbidden++;
    send(res, e.code, statusBody(e.code, e.reason, e.message, e.details));
    return;
  }
  log(`internal error: ${(e as Error).stack ?? String(e)}`);
  if (!res.headersSent) send(res, 500, statusBody(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`, {}));
}
