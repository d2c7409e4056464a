/** What every route is given, what it answers with, and the two errors every route may end in. */
import { HttpError } from './http.js';
import type { Decision } from './rbac.js';
import type { RequestAttributes } from './request-info.js';
import type { ObjectStore } from './store.js';

export interface RouteContext {
  store: ObjectStore;
  clock: () => number;
  /** Reported by /version. */
  gitVersion: string;
  /** RBAC over the store's bindings (for SelfSubjectAccessReview). */
  authorize(a: RequestAttributes): Decision;
  /** `host:port` the server listens on, as /api reports it. */
  address(): string;
}

export interface RouteReply {
  code: number;
  body: unknown;
  /** A text/plain body instead of JSON. */
  text?: boolean;
}

export function notFound(): never {
  throw new HttpError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function methodNotAllowed(): never {
  throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}
