import http from 'node:http';
import net from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { PocketKubeError, UsageError } from '../core/platform/errors.js';
import type { Failure } from '../shared/api.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed body: JSON object or form fields (repeated fields become arrays). */
  body: Record<string, unknown>;
}

export interface ApiResponse {
  status: number;
  /** An object is sent as JSON; a string as text/plain. */
  body?: unknown;
  /** For event streams: takes over the response (headers included) and keeps it open. */
  stream?: (res: http.ServerResponse) => void;
}

/** What every failure on the socket looks like: `{ok:false, error:{code, message, needsSignIn?}}`. */
export interface ErrorBody {
  ok: false;
  error: Failure;
}

/** Every code the agent answers with and its HTTP status: the one place a failure gets its status. */
const HTTP_STATUS: Record<string, number> = {
  bad_request: 400,
  bad_json: 400,
  bad_field: 400,
  missing_field: 400,
  invalid: 400,
  secret_in_url: 400,
  bad_api_version: 400,
  signed_out: 401,
  sign_in_failed: 401,
  unknown_provider: 404,
  not_found: 404,
  method_not_allowed: 405,
  timeout: 408,
  busy: 409,
  no_sign_in: 409,
  not_supported: 409,
  too_large: 413,
  internal: 500,
  offline: 503,
};

/**
 * The status for a failure, or undefined when it is not one the API knows (then it is an internal error).
 * Input the user can fix (a UsageError, e.g. a settings.json that does not parse) is a 400 whatever its code.
 */
export function httpStatus(err: unknown): number | undefined {
  if (!(err instanceof PocketKubeError)) return undefined;
  return err.status ?? HTTP_STATUS[err.code] ?? (err instanceof UsageError ? 400 : undefined);
}

const errorBody = (failure: Failure): ErrorBody => ({ ok: false, error: failure });

export const MAX_BODY_BYTES = 64 * 1024;

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new PocketKubeError('too_large', `request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PocketKubeError('too_large', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return out;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PocketKubeError('bad_json', 'request body is not valid JSON (send application/json or form fields)');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PocketKubeError('bad_json', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The reason as one header line, for clients (the shell helper) that print it without reading the body. */
function errorHeader(status: number, body: unknown): Record<string, string> {
  const message = status >= 400 ? (body as ErrorBody | undefined)?.error?.message : undefined;
  return message ? { 'x-pocketkube-error': message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 2000) } : {};
}

function send(res: http.ServerResponse, status: number, body: unknown, wantsText: boolean): void {
  if (res.headersSent || res.destroyed) return;
  for (const [k, v] of Object.entries(errorHeader(status, body))) res.setHeader(k, v);
  if (typeof body === 'string' || (wantsText && status >= 400)) {
    const text = typeof body === 'string' ? body : ((body as ErrorBody).error?.message ?? 'error');
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

export interface SocketServer {
  path: string;
  /** Stops serving; the socket file stays until removeSocket, so no one mistakes a stopping agent for none. */
  close(): Promise<void>;
  removeSocket(): Promise<void>;
}

/**
 * HTTP/1.1 on a Unix socket (named pipe on Windows). Every failure becomes a JSON error; nothing a client
 * sends can stop the server. Slow clients are cut off by the request timeouts.
 */
export async function startSocketServer(
  socketPath: string,
  handle: (req: ApiRequest) => Promise<ApiResponse>,
  log: (message: string) => void = () => {},
  limits: { requestTimeoutMs?: number; headersTimeoutMs?: number } = {},
): Promise<SocketServer> {
  checkSocketPath(socketPath);
  const headersTimeout = limits.headersTimeoutMs ?? 5_000;
  const requestTimeout = Math.max(limits.requestTimeoutMs ?? 10_000, headersTimeout);
  const server = http.createServer({ requestTimeout, headersTimeout, maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.min(1_000, headersTimeout) }, (req, res) => {
    const wantsText = String(req.headers.accept ?? '').startsWith('text/plain');
    void (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://pocketkube');
      } catch {
        send(res, 400, errorBody({ code: 'bad_request', message: 'request target is not a valid path' }), wantsText);
        return;
      }
      try {
        const body = req.method === 'GET' || req.method === 'HEAD' ? {} : await readBody(req);
        const out = await handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body });
        if (out.stream) out.stream(res);
        else send(res, out.status, out.body, wantsText);
      } catch (err) {
        const status = httpStatus(err);
        if (status !== undefined) {
          send(res, status, errorBody((err as PocketKubeError).toFailure()), wantsText);
        } else {
          log(`socket: internal error on ${req.method} ${url.pathname}: ${(err as Error).message}`);
          send(res, 500, errorBody({ code: 'internal', message: `internal error: ${(err as Error).message}` }), wantsText);
        }
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    // Garbage on the socket gets a 400 and the connection closed; the agent keeps serving.
    if (socket.writable && err.code !== 'ECONNRESET') {
      const body = JSON.stringify(errorBody({ code: err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timeout' : 'bad_request', message: 'malformed or too slow HTTP request' }));
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Windows: Node cannot set a named pipe's DACL (readableAll/writableAll can only widen it), so the pipe
    // keeps the default one: full control for the creating user, SYSTEM and Administrators, read-only for
    // Everyone, which cannot send a request. libuv creates it as the first instance, so a pipe of that name
    // held by someone else makes listen fail instead of sharing it. Never widened here.
    server.listen({ path: socketPath, readableAll: false, writableAll: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') await chmod(socketPath, 0o600);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    removeSocket: async () => {
      if (process.platform !== 'win32') await unlink(socketPath).catch(() => {});
    },
  };
}

/** sun_path's size less its closing NUL: Linux 108 bytes, macOS and the BSDs 104. Node would cut a longer path short. */
export function maxSocketPathBytes(platform: NodeJS.Platform = process.platform): number | undefined {
  if (platform === 'win32') return undefined; // a named pipe, not a file
  return platform === 'linux' || platform === 'android' ? 107 : 103;
}

/** Refuses a socket path the OS would truncate (the socket would land elsewhere, outside the private folder). */
export function checkSocketPath(socketPath: string, platform: NodeJS.Platform = process.platform): void {
  const max = maxSocketPathBytes(platform);
  const bytes = Buffer.byteLength(socketPath);
  if (max !== undefined && bytes > max) {
    throw new PocketKubeError(
      'socket_path_too_long',
      `The agent's socket path ${socketPath} is ${bytes} bytes, over the ${max}-byte limit for Unix sockets here; set POCKETKUBE_HOME to a shorter folder. Nothing was started.`,
    );
  }
}

/** Whether something answers on the socket: tells a live agent from a stale socket file. */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    const done = (alive: boolean) => {
      sock.destroy();
      resolve(alive);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
