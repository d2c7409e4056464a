/**
 * The Talos machine-config patch that turns on OIDC sign-in with Pocket ID.
 *
 * Talos has two shapes for the API server's settings (see /work/shared/facts/talos.md):
 * - legacy (up to 1.13, and 1.14 clusters upgraded from it): `cluster.apiServer.extraArgs` with `oidc-*` flags;
 * - multi-document (what `talosctl gen config` writes from 1.14 on): a `KubeAuthenticationConfig` document whose
 *   `configuration` is a Kubernetes `AuthenticationConfiguration`; `KubeAPIServerConfig.extraArgs` rejects `oidc-*`.
 * Field names checked against siderolabs/talos pkg/machinery/config/types/k8s (authentication.go, apiserver.go)
 * and kubernetes/kubernetes staging/src/k8s.io/apiserver/plugin/pkg/authenticator/token/oidc/oidc.go.
 */
import { parseAllDocuments, stringify, type YAMLError } from 'yaml';
import type { TalosPatch, TalosShape } from '../../shared/talos.js';
import { UsageError } from '../platform/errors.js';
import { yamlProblem } from '../platform/yaml-error.js';
export type { TalosPatch, TalosShape };

export interface TalosPatchOptions {
  /** The issuer exactly as Pocket ID's discovery document states it (kube-apiserver compares it byte for byte). */
  issuer: string;
  clientId: string;
  /** Force a shape; otherwise it is detected from machineConfigText, then talosVersion. */
  shape?: TalosShape;
  /** A control-plane machine config (e.g. controlplane.yaml, or `talosctl read /system/state/config.yaml`). */
  machineConfigText?: string;
  /** What the machine config is called in messages: its path, or the file chosen in the window. */
  machineConfigName?: string;
  /** e.g. v1.13.9 or 1.14.0. */
  talosVersion?: string;
  /** Default 'sub'. */
  usernameClaim?: 'sub' | 'email';
  /** Default 'oidc:'. */
  usernamePrefix?: string;
  /** Default 'groups'. */
  groupsClaim?: string;
  /** Default 'oidc:'. */
  groupsPrefix?: string;
  /** PEM of the CA that signed Pocket ID's TLS certificate, when it is not publicly trusted. */
  caPem?: string;
  /** Control-plane node addresses for the printed command. */
  nodes?: string[];
}

export const PATCH_FILE = 'pocketkube-oidc-patch.yaml';
export const DEFAULT_PREFIX = 'oidc:';
/** Talos 1.14's default `configuration.anonymous`: health checks stay anonymous, nothing else does. */
export const DEFAULT_ANONYMOUS = Object.freeze({
  enabled: true,
  conditions: Object.freeze([{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }]),
});
/** Kubernetes 1.33 (oldest Talos 1.14 supports) has no apiserver.config.k8s.io/v1; v1beta1 is what Talos validates. */
export const AUTHN_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1beta1';

/**
 * Document kinds that exist only in the 1.14 multi-document shape (siderolabs/talos types/k8s). A file holding one
 * of them but neither `KubeAPIServerConfig` nor `cluster.apiServer` was still written by a 1.14+ `talosctl gen config`.
 */
const MULTIDOC_ONLY_KINDS = new Set([
  'KubeAPIServerConfig',
  'KubeAuthenticationConfig',
  'KubeAuthorizerConfig',
  'KubeClusterConfig',
  'KubeControllerManagerConfig',
  'KubeSchedulerConfig',
  'KubeEtcdEncryptionConfig',
]);

/** The code of every refusal of the machine config itself, so the window and the socket can tell it from other bad input. */
export const BAD_MACHINE_CONFIG = 'bad_machine_config';
const WHAT_TO_PASS = 'pass the control-plane machine config (controlplane.yaml, or what `talosctl read /system/state/config.yaml -n CP1` prints)';

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParsedMachineConfig {
  kinds: string[];
  hasKubeApiServerConfig: boolean;
  hasLegacyApiServer: boolean;
  machineType?: string;
  /** `configuration` of an existing KubeAuthenticationConfig document. */
  existingAuthn?: Json;
  /** Existing `cluster.apiServer.extraArgs` oidc-* values. */
  existingOidcArgs: Record<string, unknown>;
}

/** "/home/alice/controlplane.yaml" or "The machine config", to start a sentence with. */
function subject(name: string | undefined): string {
  return name || 'The machine config';
}

function refuse(message: string): never {
  throw new UsageError(message, BAD_MACHINE_CONFIG);
}

/**
 * Reads a control-plane machine config, refusing (with one sentence naming the file and the fix) anything else:
 * YAML that does not parse, an empty file, a file with no v1alpha1 document (`version: v1alpha1` with `machine:`
 * or `cluster:`, which every Talos machine config has), and a worker's config. A worker is refused because
 * kube-apiserver and both of its config shapes live on control-plane nodes only (facts/talos.md): a worker's
 * config shows neither shape, and the patch must not be applied to it.
 */
function parseMachineConfig(text: string, name: string | undefined): ParsedMachineConfig {
  const list = parseAllDocuments(text);
  // A stream with no document (comments only, or broken before the first) carries its errors itself.
  const streamErrors = (list as { errors?: YAMLError[] }).errors ?? [];
  for (const [doc, error] of [...list.map((d) => [d, d.errors[0]] as const), [undefined, streamErrors[0]] as const]) {
    if (!error) continue;
    const { line, reason } = yamlProblem(text, error, doc);
    refuse(`${subject(name)} line ${line} is not valid YAML (${reason}): pass the file exactly as talosctl wrote it.`);
  }
  const values = list.map((d) => d.toJS() as unknown).filter((v) => v !== null && v !== undefined);
  if (values.length === 0) refuse(`${subject(name)} is empty: ${WHAT_TO_PASS}.`);
  const out: ParsedMachineConfig = { kinds: [], hasKubeApiServerConfig: false, hasLegacyApiServer: false, existingOidcArgs: {} };
  let hasV1alpha1 = false;
  for (const value of values) {
    if (!isRecord(value)) continue;
    const kind = typeof value.kind === 'string' ? value.kind : undefined;
    if (kind) out.kinds.push(kind);
    if (kind === 'KubeAPIServerConfig') out.hasKubeApiServerConfig = true;
    if (kind === 'KubeAuthenticationConfig' && isRecord(value.configuration)) out.existingAuthn = value.configuration;
    // The v1alpha1 document has `version: v1alpha1` and no `kind`.
    if (kind || value.version !== 'v1alpha1' || !(isRecord(value.machine) || isRecord(value.cluster))) continue;
    hasV1alpha1 = true;
    const machine = value.machine;
    if (isRecord(machine) && typeof machine.type === 'string') out.machineType = machine.type;
    const cluster = value.cluster;
    if (isRecord(cluster) && 'apiServer' in cluster) {
      out.hasLegacyApiServer = true;
      const api = cluster.apiServer;
      if (isRecord(api) && isRecord(api.extraArgs)) {
        for (const [k, v] of Object.entries(api.extraArgs)) if (k.startsWith('oidc-')) out.existingOidcArgs[k] = v;
      }
    }
  }
  if (!hasV1alpha1) {
    const found = values.length > 1 ? `none of its ${values.length} documents has` : 'it has no';
    refuse(`${subject(name)} is not a Talos machine config (${found} \`version: v1alpha1\` with \`machine:\` or \`cluster:\`): ${WHAT_TO_PASS}.`);
  }
  if (out.machineType !== undefined && out.machineType !== 'controlplane' && out.machineType !== 'init') {
    refuse(
      `${subject(name)} is a ${out.machineType} node's machine config (machine.type: ${out.machineType}), but kube-apiserver runs on control-plane nodes only: pass controlplane.yaml, or what \`talosctl read /system/state/config.yaml -n CP1\` prints for a control-plane node.`,
    );
  }
  return out;
}

/** Parses v1.14.0 / 1.14 / v1.13.9-beta.1 into [major, minor]. */
function parseTalosVersion(v: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(v.trim());
  if (!m) throw new UsageError(`Talos version "${v}" is not a version number: pass it like v1.13.9 or 1.14.0 (talosctl version prints it).`);
  return [Number(m[1]), Number(m[2])];
}

interface ShapeDecision {
  shape: TalosShape;
  reason: string;
  notes: string[];
}

function decideShape(opts: TalosPatchOptions, parsed: ParsedMachineConfig | undefined): ShapeDecision {
  const notes: string[] = [];
  if (parsed?.hasKubeApiServerConfig && parsed.hasLegacyApiServer) {
    refuse(
      `${subject(opts.machineConfigName)} has both a KubeAPIServerConfig document and a legacy cluster.apiServer section, which Talos rejects ("kube-apiserver config is already set in v1alpha1 config"): remove one of them before patching.`,
    );
  }
  if (opts.shape) {
    if (opts.shape !== 'legacy' && opts.shape !== 'multidoc') {
      throw new UsageError(`Shape "${String(opts.shape)}" is unknown: use legacy (cluster.apiServer.extraArgs) or multidoc (KubeAuthenticationConfig).`);
    }
    if (parsed) {
      const detected = parsed.hasKubeApiServerConfig ? 'multidoc' : parsed.hasLegacyApiServer ? 'legacy' : undefined;
      if (detected && detected !== opts.shape) {
        throw new UsageError(
          `Shape ${opts.shape} was asked for but ${opts.machineConfigName ?? 'the machine config'} is ${detected} (${detected === 'multidoc' ? 'it has a KubeAPIServerConfig document' : 'it has cluster.apiServer'}): drop the shape option or pass the matching machine config.`,
        );
      }
    }
    return { shape: opts.shape, reason: `shape ${opts.shape} was asked for`, notes };
  }
  if (parsed) {
    if (parsed.hasKubeApiServerConfig) {
      return { shape: 'multidoc', reason: 'the machine config has a KubeAPIServerConfig document (Talos 1.14 multi-document shape)', notes };
    }
    if (parsed.hasLegacyApiServer) {
      const reason = 'the machine config has a cluster.apiServer section (legacy shape, Talos 1.13 and earlier or upgraded from it)';
      return { shape: 'legacy', reason, notes };
    }
    const newKinds = [...new Set(parsed.kinds.filter((k) => MULTIDOC_ONLY_KINDS.has(k)))];
    if (newKinds.length) {
      return {
        shape: 'multidoc',
        reason: `the machine config has no cluster.apiServer but has ${newKinds.join(', ')}, documents that only Talos 1.14+ writes`,
        notes,
      };
    }
    if (opts.talosVersion) notes.push(`${subject(opts.machineConfigName)} has neither a KubeAPIServerConfig document nor a cluster.apiServer section, so its shape was not told from it.`);
  }
  if (opts.talosVersion) {
    const [major, minor] = parseTalosVersion(opts.talosVersion);
    const multidoc = major > 1 || (major === 1 && minor >= 14);
    if (multidoc) {
      notes.push(
        'A cluster upgraded to Talos 1.14 from an older release keeps the legacy cluster.apiServer shape: if `talosctl read /system/state/config.yaml -n CP1` shows cluster.apiServer, ask for the legacy shape instead.',
      );
    }
    return {
      shape: multidoc ? 'multidoc' : 'legacy',
      reason: multidoc ? `Talos ${opts.talosVersion} is 1.14 or later, whose generated configs use KubeAuthenticationConfig` : `Talos ${opts.talosVersion} is older than 1.14, which only knows cluster.apiServer`,
      notes,
    };
  }
  const given = parsed ? 'The machine config does not show its shape and no Talos version was given' : 'Neither a machine config nor a Talos version was given';
  notes.push(
    `${given}, so the legacy shape was assumed: for a cluster created with Talos 1.14 or later (its controlplane.yaml has a KubeAPIServerConfig document) ask for the multidoc shape.`,
  );
  const reason = parsed ? 'the machine config does not show its shape and no Talos version was given' : 'no machine config or Talos version was given';
  return { shape: 'legacy', reason: `${reason}; legacy is the shape every Talos release accepts unless the cluster was created with 1.14+`, notes };
}

function validateInputs(opts: TalosPatchOptions): void {
  let url: URL;
  try {
    url = new URL(opts.issuer);
  } catch {
    throw new UsageError(`Issuer "${opts.issuer}" is not a URL: pass the "issuer" value from Pocket ID's /.well-known/openid-configuration.`);
  }
  if (url.protocol !== 'https:') {
    throw new UsageError(`Issuer "${opts.issuer}" does not use https, and kube-apiserver only accepts https issuers: serve Pocket ID over https.`);
  }
  if (url.search || url.hash) throw new UsageError(`Issuer "${opts.issuer}" has a query or fragment, which kube-apiserver refuses: pass the bare issuer URL.`);
  if (!opts.clientId || /\s/.test(opts.clientId)) {
    throw new UsageError(`Client id "${opts.clientId}" is empty or has spaces: copy the Client ID from the Pocket ID OIDC client page.`);
  }
  if (opts.usernameClaim !== undefined && opts.usernameClaim !== 'sub' && opts.usernameClaim !== 'email') {
    throw new UsageError(`Username claim "${String(opts.usernameClaim)}" is not supported: use sub (stable user UUID) or email.`);
  }
  for (const n of opts.nodes ?? []) {
    if (!n || /[\s,]/.test(n)) throw new UsageError(`Node "${n}" is not a node address: give each control-plane IP or hostname on its own, without commas or spaces.`);
  }
  if (opts.caPem !== undefined && !/-----BEGIN CERTIFICATE-----/.test(opts.caPem)) {
    throw new UsageError('The CA given for the issuer holds no PEM certificate: pass the PEM file of the CA that signed Pocket ID\'s TLS certificate.');
  }
}

function jwtAuthenticator(opts: Required<Pick<TalosPatchOptions, 'issuer' | 'clientId'>> & { usernameClaim: string; usernamePrefix: string; groupsClaim: string; groupsPrefix: string; caPem?: string }): Json {
  const issuer: Json = { url: opts.issuer, audiences: [opts.clientId] };
  if (opts.caPem) issuer.certificateAuthority = opts.caPem.trim() + '\n';
  return {
    issuer,
    claimMappings: {
      username: { claim: opts.usernameClaim, prefix: opts.usernamePrefix },
      groups: { claim: opts.groupsClaim, prefix: opts.groupsPrefix },
    },
  };
}

/** The `talosctl patch mc` patch for OIDC sign-in with Pocket ID, for the cluster's shape. */
export function talosPatch(opts: TalosPatchOptions): TalosPatch {
  validateInputs(opts);
  const parsed = opts.machineConfigText !== undefined ? parseMachineConfig(opts.machineConfigText, opts.machineConfigName) : undefined;
  const decision = decideShape(opts, parsed);
  const notes = [...decision.notes];

  const usernameClaim = opts.usernameClaim ?? 'sub';
  const usernamePrefix = opts.usernamePrefix ?? DEFAULT_PREFIX;
  const groupsClaim = opts.groupsClaim ?? 'groups';
  const groupsPrefix = opts.groupsPrefix ?? DEFAULT_PREFIX;

  let patchYaml: string;
  const header = `# PocketKube: kube-apiserver accepts Pocket ID ID tokens (issuer ${opts.issuer}, client ${opts.clientId}).\n`;
  if (decision.shape === 'legacy') {
    // `--oidc-username-prefix ""` would mean the default `<issuer>#`; "-" is the flag's way to say "no prefix".
    const flagUsernamePrefix = usernamePrefix === '' ? '-' : usernamePrefix;
    const extraArgs: Record<string, string> = {
      'oidc-issuer-url': opts.issuer,
      'oidc-client-id': opts.clientId,
      'oidc-username-claim': usernameClaim,
      'oidc-username-prefix': flagUsernamePrefix,
      'oidc-groups-claim': groupsClaim,
      'oidc-groups-prefix': groupsPrefix,
    };
    patchYaml = header + stringify({ cluster: { apiServer: { extraArgs } } });
    if (usernamePrefix === '') notes.push('An empty username prefix is written as oidc-username-prefix "-", the flag\'s spelling of "no prefix" (an empty value would give usernames like https://issuer#uuid).');
    const replaced = Object.entries(parsed?.existingOidcArgs ?? {}).filter(([k, v]) => k in extraArgs && v !== extraArgs[k]);
    if (replaced.length) notes.push(`The patch changes existing extraArgs: ${replaced.map(([k, v]) => `${k} (was ${JSON.stringify(v)})`).join(', ')}.`);
    const stale = Object.keys(parsed?.existingOidcArgs ?? {}).filter((k) => !(k in extraArgs));
    if (stale.length) notes.push(`The machine config also sets ${stale.join(', ')}, which this patch leaves in place: check they still fit Pocket ID.`);
    if (opts.caPem) {
      notes.push(
        'Pocket ID\'s CA is not in the patch: the legacy oidc-ca-file flag takes a path inside the kube-apiserver container, so the PEM must first be put on every control-plane node (for example a TrustedRootsConfig document, Talos 1.9+, or machine.files plus cluster.apiServer.extraVolumes) and oidc-ca-file pointed at where the container sees it; skip this if the CA is publicly trusted.',
      );
    }
  } else {
    const ours = jwtAuthenticator({ issuer: opts.issuer, clientId: opts.clientId, usernameClaim, usernamePrefix, groupsClaim, groupsPrefix, caPem: opts.caPem });
    // The patch replaces `configuration` wholesale (Talos: `merge:"replace"`), so keep what the cluster already has.
    const existing = parsed?.existingAuthn;
    const keptJwt = (Array.isArray(existing?.jwt) ? existing.jwt : []).filter(
      (j): j is Json => isRecord(j) && !(isRecord(j.issuer) && j.issuer.url === opts.issuer),
    );
    const replacedOurs = (Array.isArray(existing?.jwt) ? existing.jwt : []).some((j) => isRecord(j) && isRecord(j.issuer) && j.issuer.url === opts.issuer);
    const anonymous = existing && 'anonymous' in existing ? existing.anonymous : { ...DEFAULT_ANONYMOUS, conditions: DEFAULT_ANONYMOUS.conditions.map((c) => ({ ...c })) };
    const existingVersion = typeof existing?.apiVersion === 'string' && existing.apiVersion.startsWith('apiserver.config.k8s.io/') ? existing.apiVersion : undefined;
    const configuration: Json = {
      apiVersion: existingVersion ?? AUTHN_CONFIG_API_VERSION,
      kind: 'AuthenticationConfiguration',
      jwt: [...keptJwt, ours],
      anonymous,
    };
    const doc = { apiVersion: 'v1alpha1', kind: 'KubeAuthenticationConfig', configuration };
    patchYaml =
      header +
      '# Talos replaces `configuration` as a whole, so this carries the anonymous health-check paths too.\n' +
      stringify(doc, { lineWidth: 0 });
    if (keptJwt.length) notes.push(`The patch keeps the ${keptJwt.length} other JWT issuer(s) already in KubeAuthenticationConfig, because Talos replaces configuration as a whole.`);
    if (replacedOurs) notes.push(`The existing JWT authenticator for ${opts.issuer} is replaced by this one.`);
    if (existing && 'anonymous' in existing) notes.push('The anonymous block already in the machine config is kept as it is.');
    if (opts.caPem) notes.push('Pocket ID\'s CA is inlined as jwt[].issuer.certificateAuthority, so nothing has to be copied to the nodes.');
  }

  if (opts.issuer.endsWith('/')) {
    notes.push(`The issuer ends with "/": Pocket ID's discovery issuer never does, and kube-apiserver silently rejects (401) tokens whose iss differs by one character; use the discovery value exactly.`);
  }
  if (usernameClaim === 'email') {
    notes.push(
      decision.shape === 'legacy'
        ? 'With the email username claim, kube-apiserver refuses tokens whose email_verified is false ("oidc: email not verified"), and Pocket ID leaves email_verified false until an admin verifies each user\'s email.'
        : 'With claim "email", kube-apiserver checks email_verified itself and refuses false ("oidc: email not verified"), so no claim rule is needed; but Pocket ID leaves email_verified false until an admin verifies each user\'s email.',
    );
  } else {
    notes.push(`Users are named ${usernamePrefix || ''}<Pocket ID user UUID>${usernamePrefix ? '' : ' (no prefix)'}; bind RBAC to groups, which arrive as ${groupsPrefix}<group name>.`);
  }
  notes.push('kube-apiserver on the nodes must reach the issuer\'s JWKS (Pocket ID\'s INTERNAL_APP_URL) through the nodes\' DNS and trust its certificate.');

  const nodes = opts.nodes && opts.nodes.length ? opts.nodes.join(',') : 'CP1,CP2,CP3';
  const command = `talosctl patch mc -n ${nodes} --patch @${PATCH_FILE}`;
  if (!opts.nodes?.length) notes.push('Replace CP1,CP2,CP3 with every control-plane node\'s address; workers need no change.');
  notes.push(`Add --dry-run to see the change first; the API server restarts by itself, no reboot. For a new cluster: talosctl gen config NAME https://ENDPOINT:6443 --config-patch-control-plane @${PATCH_FILE}.`);

  return { shape: decision.shape, shapeReason: decision.reason, patchYaml, command, notes };
}
