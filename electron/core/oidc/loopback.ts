import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { PocketKubeError } from '../platform/errors.js';
import { relativeTime } from '../../shared/expiry.js';
import type { AddressInfo } from 'node:net';

/** The page the browser shows once the code has reached us. */
function page(title: string, body: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - PocketKube</title>
<meta name="viewport" content="width=device-width">
<style>body{font:16px system-ui,sans-serif;margin:15vh auto;max-width:32em;padding:0 1em;color:#1d2330}
@media (prefers-color-scheme:dark){body{background:#15181f;color:#e6e9ef}}h1{font-size:1.4em}</style></head>
<body><h1>${esc(title)}</h1><p>${esc(body)}</p></body></html>`;
}

/** The loopback redirect could not be received (port taken, browser error, time-out). */
export class LoopbackError extends PocketKubeError {
  override name = 'LoopbackError';
  constructor(message: string) {
    super('loopback_failed', message);
  }
}

export interface LoopbackCallback {
  /** The full callback URL as the browser requested it (carries code and state, or error). */
  url: URL;
}

/**
 * Listens on http://localhost:PORT (127.0.0.1 and ::1) for exactly one redirect that carries our `state`,
 * answers it with a small page, and closes. Requests with another state (an old tab) are answered and ignored.
 */
export class LoopbackListener {
  private servers: http.Server[] = [];
  private settle?: { resolve: (cb: LoopbackCallback) => void; reject: (err: Error) => void };
  private timer?: NodeJS.Timeout;
  readonly result: Promise<LoopbackCallback>;
  private finishPage: (ok: boolean, message: string) => void = () => {};

  private constructor(
    readonly port: number,
    private readonly expectedState: string,
    timeoutMs: number,
  ) {
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.result.catch(() => {});
    this.timer = setTimeout(() => {
      this.fail(
        new LoopbackError(
          `No sign-in reached http://localhost:${port} within ${relativeTime(timeoutMs, 0).replace(/^in /, '')}; run the sign-in again.`,
        ),
      );
    }, timeoutMs);
    this.timer.unref();
  }

  static async start(port: number, expectedState: string, timeoutMs = 5 * 60_000): Promise<LoopbackListener> {
    const listener = new LoopbackListener(port, expectedState, timeoutMs);
    await listener.listen();
    return listener;
  }

  private async listen(): Promise<void> {
    const hosts = ['127.0.0.1', '::1'];
    const errors: NodeJS.ErrnoException[] = [];
    for (const host of hosts) {
      const server = http.createServer((req, res) => this.handle(req, res));
      server.keepAliveTimeout = 1;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: this.port, host, exclusive: true }, () => resolve());
        });
        this.servers.push(server);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // A machine without IPv6 still works on 127.0.0.1.
        if (host === '::1' && (e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT')) continue;
        errors.push(e);
      }
    }
    if (errors.length) {
      await this.close();
      const e = errors[0]!;
      const what =
        e.code === 'EADDRINUSE'
          ? `port ${this.port} is in use by another program (another sign-in, or kubelogin?)`
          : `cannot listen on localhost:${this.port} (${e.code})`;
      throw new LoopbackError(`Sign-in needs http://localhost:${this.port} for the redirect, but ${what}; close it or set another --callback-port (registered at Pocket ID too).`);
    }
  }

  get actualPort(): number {
    return (this.servers[0]?.address() as AddressInfo | null)?.port ?? this.port;
  }

  /** Lets the session say on the page whether the code exchange worked, before the tab is left alone. */
  private pending?: http.ServerResponse;

  /** The one-time path that redirects to the authorization URL, and where it goes (cleared once used). */
  private start?: { path: string; location: string };

  /**
   * A local address that sends the browser on to `authorizationUrl`, once. The browser is started with this
   * instead of the authorization URL, so its state, nonce and PKCE challenge never sit in a command line
   * other users can read (`ps`), nor in a printed line.
   */
  startUrl(authorizationUrl: string): string {
    this.start = { path: `/start/${randomBytes(16).toString('base64url')}`, location: authorizationUrl };
    return `http://localhost:${this.actualPort}${this.start.path}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://localhost:${this.actualPort}`);
    if (req.method === 'GET' && url.pathname.startsWith('/start/')) {
      const start = this.start;
      if (start && url.pathname === start.path && this.settle) {
        this.start = undefined;
        res.writeHead(302, { location: start.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
      } else {
        res
          .writeHead(410, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(page('This sign-in link was already used', 'Go back to the tab it opened, or start the sign-in again.'));
      }
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/' || (!url.searchParams.has('code') && !url.searchParams.has('error'))) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end(page('Not found', 'PocketKube is waiting for a sign-in here.'));
      return;
    }
    if (url.searchParams.get('state') !== this.expectedState || !this.settle) {
      res
        .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
        .end(page('This sign-in is out of date', 'This tab belongs to an older sign-in attempt. Close it and use the newest one.'));
      return;
    }
    this.pending = res;
    this.finishPage = (ok, message) => {
      res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(ok ? 'Signed in' : 'Sign-in failed', message));
      void this.close();
    };
    const settle = this.settle;
    this.settle = undefined;
    settle.resolve({ url });
  }

  /** Answers the browser tab with the outcome and stops listening. */
  complete(ok: boolean, message: string): void {
    if (this.pending) this.finishPage(ok, message);
    else void this.close();
  }

  fail(err: Error): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.reject(err);
    void this.close();
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const servers = this.servers;
    this.servers = [];
    for (const s of servers) {
      // Stop accepting at once; let the answer to the browser flush, then cut what is left.
      s.close();
      s.closeIdleConnections();
      setTimeout(() => s.closeAllConnections(), 1000).unref();
    }
  }
}
