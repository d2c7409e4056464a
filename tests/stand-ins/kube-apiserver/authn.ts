/**
 * Authentication of one request, as kube-apiserver's authenticator union does it: an x509 client certificate
 * signed by the cluster CA first, then a bearer token (the JWT authenticators behind the token cache), then
 * anonymous when allowed for the path. Failures are remembered and logged, never the token.
 */
import type * as http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { NormalizedAuthn } from './config.js';
import { aggregate } from './messages.js';
import type { TokenAuthenticator } from './token-cache.js';
import type { UserInfo } from './types.js';

/** How many authentication failures recentErrors() keeps. */
const KEPT_ERRORS = 50;

export class RequestAuthenticator {
  private readonly errors: string[] = [];

  constructor(
    private readonly anonymous: NormalizedAuthn['anonymous'],
    private readonly tokens: TokenAuthenticator,
    private readonly log: (line: string) => void,
  ) {}

  /** The last authentication failures (kube-apiserver logs them; clients only see "Unauthorized"). */
  recentErrors(): string[] {
    return [...this.errors];
  }

  /** The request's user, or undefined for a 401. */
  async authenticate(req: http.IncomingMessage, pathname: string): Promise<UserInfo | undefined> {
    const errors: string[] = [];
    const fromCertificate = certificateUser(req.socket as TLSSocket, errors);
    if (fromCertificate) return fromCertificate;
    // Bearer token (k8s.io/apiserver/pkg/authentication/request/bearertoken).
    const authz = req.headers.authorization;
    if (authz) {
      const parts = authz.trim().split(' ');
      if (parts.length >= 2 && parts[0]!.toLowerCase() === 'bearer' && parts[1]) {
        const r = await this.tokens.authenticate(parts[1]);
        if (r.ok) return addAuthenticatedGroup(r.user);
        errors.push(r.error);
      }
    }
    if (errors.length) {
      this.recordError(aggregate(errors));
      return undefined;
    }
    if (this.anonymous.enabled && (!this.anonymous.paths || this.anonymous.paths.includes(pathname))) {
      return { username: 'system:anonymous', groups: ['system:unauthenticated'] };
    }
    this.recordError('no credentials and anonymous authentication is not allowed for this request');
    return undefined;
  }

  private recordError(msg: string): void {
    this.errors.push(msg);
    if (this.errors.length > KEPT_ERRORS) this.errors.shift();
    this.log(`Unable to authenticate the request: ${msg}`);
  }
}

/** x509 client certificates: CN is the user, O the groups; a certificate that fails verification is an error. */
function certificateUser(socket: TLSSocket, errors: string[]): UserInfo | undefined {
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
  if (!peer || Object.keys(peer).length === 0) return undefined;
  if (!socket.authorized) {
    errors.push(`verifying certificate SN=${peer.serialNumber} failed: x509: ${String(socket.authorizationError ?? 'certificate signed by unknown authority')}`);
    return undefined;
  }
  const eku = peer.ext_key_usage;
  if (eku && eku.length > 0 && !eku.includes('1.3.6.1.5.5.7.3.2') && !eku.includes('2.5.29.37.0')) {
    errors.push(`verifying certificate SN=${peer.serialNumber} failed: x509: certificate specifies an incompatible key usage`);
    return undefined;
  }
  const cn = peer.subject?.CN;
  const o = peer.subject?.O;
  const cnStr = Array.isArray(cn) ? cn[0] : cn;
  if (!cnStr) return undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
  const fp = (peer.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
  return addAuthenticatedGroup({
    username: cnStr,
    groups,
    extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fp}`] },
  });
}

function addAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.groups.includes('system:authenticated') || u.groups.includes('system:unauthenticated')) return u;
  return { ...u, groups: [...u.groups, 'system:authenticated'] };
}
