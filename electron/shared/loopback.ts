/**
 * The one loopback rule: where plain http is allowed (a profile served on this machine, a local Pocket ID),
 * because the traffic never leaves it. Shared, so the renderer, the CLI and the engine agree.
 */

/**
 * Whether a URL's hostname (as `new URL(...).hostname` gives it, which has already written 127.1 as
 * 127.0.0.1 and lowercased names) is this machine: `localhost`, any address in 127.0.0.0/8 (all of it is
 * loopback, RFC 1122), or `::1` with or without brackets. Not `*.localhost`, `0.0.0.0` or IPv4-mapped
 * addresses, which resolvers and OSes treat differently.
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}
