/**
 * A stand-in for the curl developers really have (Ubuntu 18.04's 7.58, 20.04's 7.68, RHEL 9's 7.76, ...):
 * the real curl does the transfer, and this program makes its command line and `--write-out` behave as
 * that older version's would. Placed first on PATH as `curl` by `installOldCurl`.
 *
 * What an older curl does differently, read from curl's tool_writeout.c and its manual's "Added in" notes:
 * - a `%{name}` it does not know is not substituted: it is printed as written (or, with `unknown: 'warn'`,
 *   left out with "curl: unknown --write-out variable: 'name'" on stderr);
 * - before 7.63 there is no `%{stderr}`, so everything goes to stdout after the body;
 * - before 7.84 `%header{...}` is not syntax: it is printed literally, on whichever stream is current;
 * - an option added after it is refused ("option --x: is unknown", exit 2).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OldCurl {
  /** e.g. '7.58.0' */
  version: string;
  /** How unknown `%{name}` variables come out: printed as written (default) or left out with a warning. */
  unknown?: 'literal' | 'warn';
}

/** Write-out variables with the curl version that added them; those without a version predate 7.58. */
const WRITE_OUT_SINCE: Record<string, string> = {
  content_type: '', filename_effective: '', ftp_entry_path: '', http_code: '', http_connect: '', http_version: '7.50.0',
  local_ip: '', local_port: '', num_connects: '', num_redirects: '', proxy_ssl_verify_result: '7.52.0', redirect_url: '',
  remote_ip: '', remote_port: '', response_code: '', scheme: '7.52.0', size_download: '', size_header: '', size_request: '',
  size_upload: '', speed_download: '', speed_upload: '', ssl_verify_result: '', time_appconnect: '', time_connect: '',
  time_namelookup: '', time_pretransfer: '', time_redirect: '', time_starttransfer: '', time_total: '', url_effective: '',
  stderr: '7.63.0', stdout: '7.63.0', json: '7.70.0', method: '7.72.0', num_headers: '7.73.0', errormsg: '7.75.0',
  exitcode: '7.75.0', onerror: '7.75.0', url: '7.75.0', urlnum: '7.75.0', referer: '7.76.0', header_json: '7.83.0',
  certs: '7.88.0', num_certs: '7.88.0',
};
const HEADER_FUNCTION_SINCE = '7.84.0';

/** Long options added after 7.58, from curl 7.88's manual ("Added in ..."), and 8.x's best known ones. */
const OPTION_SINCE: Record<string, string> = {
  'happy-eyeballs-timeout-ms': '7.59.0', 'proxy-pinnedpubkey': '7.59.0', 'haproxy-protocol': '7.60.0',
  'disallow-username-in-url': '7.61.0', 'proxy-tls13-ciphers': '7.61.0', 'styled-output': '7.61.0', 'tls13-ciphers': '7.61.0',
  'doh-url': '7.62.0', 'alt-svc': '7.64.1', http0: '7.64.0', http3: '7.66.0', parallel: '7.66.0', 'parallel-max': '7.66.0',
  'sasl-authzid': '7.66.0', 'no-progress-meter': '7.67.0', 'etag-compare': '7.68.0', 'etag-save': '7.68.0',
  'parallel-immediate': '7.68.0', 'mail-rcpt-allowfails': '7.69.0', 'ssl-revoke-best-effort': '7.70.0',
  'retry-all-errors': '7.71.0', curves: '7.73.0', 'output-dir': '7.73.0', hsts: '7.74.0', 'aws-sigv4': '7.75.0',
  'create-file-mode': '7.75.0', 'doh-cert-status': '7.76.0', 'doh-insecure': '7.76.0', 'fail-with-body': '7.76.0',
  'proxy-ssl-auto-client-cert': '7.77.0', 'ssl-auto-client-cert': '7.77.0', hostpubsha256: '7.80.0', 'form-escape': '7.81.0',
  json: '7.82.0', 'no-clobber': '7.83.0', 'remove-on-error': '7.83.0', rate: '7.84.0', 'url-query': '7.87.0',
  'http3-only': '7.88.0', variable: '8.3.0', 'ca-native': '8.2.0', 'proxy-ca-native': '8.2.0', 'ip-tos': '8.9.0',
};

function older(version: string, since: string): boolean {
  if (!since) return false;
  const a = version.split('.').map(Number);
  const b = since.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/**
 * The format the real curl must get to print what `version` would: unknown variables escaped (`%%{x}` prints
 * `%{x}`) or dropped with a warning, `%header{...}` escaped before 7.84.
 */
export function oldWriteOut(format: string, curl: OldCurl): { format: string; warnings: string[] } {
  let out = '';
  const warnings: string[] = [];
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%%';
      i++;
      continue;
    }
    if (format[i + 1] === '{') {
      const end = format.indexOf('}', i);
      const name = end < 0 ? undefined : format.slice(i + 2, end);
      if (name === undefined) {
        out += '%%';
        continue;
      }
      const since = WRITE_OUT_SINCE[name];
      if (since !== undefined && !older(curl.version, since)) out += `%{${name}}`;
      else if (curl.unknown === 'warn') warnings.push(`curl: unknown --write-out variable: '${name}'`);
      else out += `%%{${name}}`;
      i = end;
      continue;
    }
    // `%header{...}` (7.84+) and anything else that is not `%{`: an older curl prints it as it stands.
    out += format.startsWith('%header{', i) && !older(curl.version, HEADER_FUNCTION_SINCE) ? '%' : '%%';
  }
  return { format: out, warnings };
}

function main(): never {
  const curl: OldCurl = { version: process.env.OLD_CURL_VERSION ?? '7.58.0', unknown: process.env.OLD_CURL_UNKNOWN === 'warn' ? 'warn' : 'literal' };
  const real = process.env.OLD_CURL_REAL ?? '/usr/bin/curl';
  const args = process.argv.slice(2);
  const warnings: string[] = [];
  const rewritten: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--version' || a === '-V') {
      process.stdout.write(`curl ${curl.version} (x86_64-pc-linux-gnu) libcurl/${curl.version} OpenSSL/1.1.1\n`);
      process.exit(0);
    }
    const long = /^--([a-z0-9-]+)$/.exec(a)?.[1];
    if (long && OPTION_SINCE[long] && older(curl.version, OPTION_SINCE[long])) {
      process.stderr.write(`curl: option ${a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n`);
      process.exit(2);
    }
    if (a === '-w' || a === '--write-out' || /^-w./.test(a)) {
      const w = oldWriteOut(a.startsWith('-w') && a.length > 2 ? a.slice(2) : (args[++i] ?? ''), curl);
      warnings.push(...w.warnings);
      rewritten.push('-w', w.format);
      continue;
    }
    rewritten.push(a);
  }
  const res = spawnSync(real, rewritten, { stdio: 'inherit' });
  for (const w of warnings) process.stderr.write(`${w}\n`);
  process.exit(res.status ?? 1);
}

/**
 * Puts an executable `curl` into `dir` that behaves like `curl.version` (or is the real one, for `'real'`) and
 * counts its runs in `dir/calls`; put `dir` first on PATH.
 */
export async function installOldCurl(dir: string, curl: OldCurl | 'real'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'curl');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const count = `echo >>${q(path.join(dir, 'calls'))}\n`;
  const run =
    curl === 'real'
      ? `exec /usr/bin/curl "$@"`
      : `OLD_CURL_VERSION=${q(curl.version)} OLD_CURL_UNKNOWN=${q(curl.unknown ?? 'literal')} exec ${q(process.execPath)} ${q(fileURLToPath(import.meta.url))} "$@"`;
  await writeFile(file, `#!/bin/sh\n${count}${run}\n`);
  await chmod(file, 0o755);
  return file;
}

/** How many times the `curl` in `dir` ran. */
export async function curlCalls(dir: string): Promise<number> {
  const text = await readFile(path.join(dir, 'calls'), 'utf8').catch(() => '');
  return text.length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
