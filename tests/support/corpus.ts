/**
 * Test corpus: kubeconfig files as people have them, handwritten and generated. Each case is a list of
 * files (KUBECONFIG order; null = the file does not exist). `afterRemove` gives what the files must hold
 * after add → use → remove when that cannot be the original bytes (an empty list written as `null` comes
 * back as no key at all, which kubectl reads the same).
 */
export interface CorpusCase {
  name: string;
  files: (string | null)[];
  afterRemove?: (string | null)[];
  /** Adding replaces a value (a null list) instead of only inserting text. */
  replaces?: boolean;
}

const CERT = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkdW1teQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==';

const kubectlStyle = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CERT}
    server: https://prod.example.com:6443
  name: prod
contexts:
- context:
    cluster: prod
    namespace: web
    user: prod-admin
  name: prod-admin@prod
current-context: prod-admin@prod
kind: Config
preferences: {}
users:
- name: prod-admin
  user:
    client-certificate-data: ${CERT}
    client-key-data: ${CERT}
`;

const talos = `apiVersion: v1
kind: Config
clusters:
    - name: homelab
      cluster:
        server: https://192.168.1.10:6443
        certificate-authority-data: ${CERT}
users:
    - name: admin@homelab
      user:
        client-certificate-data: ${CERT}
        client-key-data: ${CERT}
contexts:
    - context:
        cluster: homelab
        namespace: default
        user: admin@homelab
      name: admin@homelab
current-context: admin@homelab
`;

const commented = `# Kubeconfig of Jo — do not share!
# Last edited by hand.
apiVersion: v1   # always v1
kind: Config

# --- clusters ---
clusters:
  # the big one
  - name: big   # production
    cluster:
      # behind the VPN
      server: https://big.internal:443
      insecure-skip-tls-verify: true  # self-signed, I know

  # the small one
  - name: small
    cluster:
      server: https://small.internal
      # end of small

# --- users ---
users:
  - name: jo
    user:
      token: abc.def.ghi  # expires 2031
  # trailing users comment

# --- contexts ---
contexts:
  - name: big
    context: {cluster: big, user: jo}   # flow inside block
  - name: small
    context:
      cluster: small
      user: jo
      # namespace: kube-system
current-context: big # default
# the end
`;

const flowLists = `apiVersion: v1
kind: Config
clusters: [{name: a, cluster: {server: "https://a:6443"}}]
users: [{name: ua, user: {token: t}}]
contexts: [ {name: a, context: {cluster: a, user: ua}} ,]
current-context: a
`;

const jsonPretty = `{
  "apiVersion": "v1",
  "kind": "Config",
  "clusters": [
    {
      "name": "j",
      "cluster": {
        "server": "https://j.example:6443"
      }
    }
  ],
  "users": [
    {
      "name": "j",
      "user": {
        "token": "secret"
      }
    }
  ],
  "contexts": [
    {
      "name": "j",
      "context": {
        "cluster": "j",
        "user": "j"
      }
    }
  ],
  "current-context": "j"
}
`;

const jsonMinified = `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"m","cluster":{"server":"https://m"}}],"users":[{"name":"m","user":{"token":"x"}}],"contexts":[{"name":"m","context":{"cluster":"m","user":"m"}}],"current-context":"m","preferences":{}}`;

const unknownFields = `apiVersion: v1
kind: Config
x-team: platform
metadata:
  owner: {name: Jo, email: jo@example.com}
clusters:
- name: u
  cluster:
    server: https://u:6443
    x-note: not a kubectl field
    proxy-url: socks5://localhost:1080
  x-entry-note: 42
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, u]
      env: null
      x-extra: [1, 2, 3]
contexts:
- name: u
  context: {cluster: u, user: u, extensions: [{name: ide, extension: {color: blue}}]}
extensions:
- name: my-tool
  extension:
    last-sync: 2024-05-01T10:00:00Z
    nested: {a: [1, {b: c}]}
preferences:
  colors: true
  extensions:
  - name: pref-ext
    extension: {}
`;

const quoted = `"apiVersion": 'v1'
'kind': "Config"
"clusters":
- "name": "q"
  'cluster':
    "server": 'https://q.example:6443'
"users":
- 'name': 'q'
  "user": {'token': "t0k3n"}
"contexts":
- "name": "q"
  "context":
    "cluster": 'q'
    'user': "q"
"current-context": 'q'
`;

const anchors = `apiVersion: v1
kind: Config
clusters:
- name: base
  cluster: &basecluster
    server: https://base:6443
    certificate-authority-data: ${CERT}
- name: base-copy
  cluster: *basecluster
users:
- name: shared
  user: &shareduser {token: same}
- name: shared2
  user: *shareduser
contexts:
- name: one
  context: &ctx
    cluster: base
    user: shared
- name: two
  context:
    <<: *ctx
    namespace: two
current-context: one
`;

const bigEntry = (n: number): string => `- name: c${n}
  context:
    cluster: k${n % 7}
    user: u${n % 3}
    namespace: ns-${n}
`;

/** 5,000 contexts (and a few clusters and users), ~0.5 MB. */
export function hugeConfig(): string {
  let s = '# generated: 5000 contexts\napiVersion: v1\nkind: Config\nclusters:\n';
  for (let i = 0; i < 7; i++) s += `- name: k${i}\n  cluster:\n    server: https://k${i}.example:6443\n`;
  s += 'users:\n';
  for (let i = 0; i < 3; i++) s += `- name: u${i}\n  user:\n    token: t${i}\n`;
  s += 'contexts:\n';
  for (let i = 0; i < 5000; i++) s += bigEntry(i);
  s += 'current-context: c4999\n';
  return s;
}

const handwritten: CorpusCase[] = [
  { name: 'kubectl-written file', files: [kubectlStyle] },
  { name: 'talosctl kubeconfig output with 4-space indented lists', files: [talos] },
  { name: 'comments everywhere', files: [commented] },
  { name: 'flow-style lists with a trailing comma', files: [flowLists] },
  { name: 'pretty-printed JSON', files: [jsonPretty] },
  { name: 'minified JSON without a final newline', files: [jsonMinified] },
  { name: 'CRLF line endings', files: [kubectlStyle.replace(/\n/g, '\r\n')] },
  { name: 'byte order mark', files: ['\uFEFF' + kubectlStyle] },
  { name: 'BOM, CRLF and no final newline', files: ['\uFEFF' + commented.replace(/\n/g, '\r\n').replace(/\r\n$/, '')] },
  { name: 'no final newline', files: [kubectlStyle.replace(/\n$/, '')] },
  { name: 'unknown fields, extensions and preferences', files: [unknownFields] },
  { name: 'quoted keys and values', files: [quoted] },
  { name: 'anchors, aliases and merge keys', files: [anchors] },
  { name: 'empty file', files: [''] },
  { name: 'whitespace-only file', files: ['\n\n   \n'] },
  { name: 'comment-only file', files: ['# nothing here yet\n'] },
  { name: 'comment-only file without a final newline', files: ['# nothing here yet'] },
  { name: 'missing file (created)', files: [null], afterRemove: ['apiVersion: v1\nkind: Config\n'] },
  {
    name: 'lists written as null, empty and []',
    files: ['apiVersion: v1\nkind: Config\nclusters: null\nusers:\ncontexts: []\ncurrent-context: ""\n'],
    afterRemove: ['apiVersion: v1\nkind: Config\ncontexts: []\ncurrent-context: ""\n'],
    replaces: true,
  },
  {
    name: 'lists written as ~ with comments',
    files: ['apiVersion: v1\nclusters: ~ # none yet\nusers: ~\ncontexts: ~\n'],
    afterRemove: ['apiVersion: v1\nclusters: [] # none yet\n'],
    replaces: true,
  },
  { name: 'only apiVersion and kind', files: ['apiVersion: v1\nkind: Config\n'] },
  { name: 'document markers --- and ...', files: ['---\n' + kubectlStyle + '...\n'] },
  { name: 'second YAML document (kubectl ignores it)', files: [kubectlStyle + '---\nclusters:\n- name: ignored\n  cluster: {server: https://x}\n'] },
  { name: '%YAML 1.1 directive', files: ['%YAML 1.1\n---\n' + kubectlStyle] },
  { name: 'duplicate current-context key (last wins)', files: [kubectlStyle + 'current-context: prod-admin@prod\n'] },
  { name: 'no apiVersion or kind', files: [kubectlStyle.replace('apiVersion: v1\n', '').replace('kind: Config\n', '')] },
  { name: 'key order: users, current-context, contexts, clusters', files: [`users:
- name: z
  user: {token: z}
current-context: z
contexts:
- name: z
  context: {cluster: z, user: z}
clusters:
- name: z
  cluster: {server: https://z}
`] },
  { name: 'cloud-style names with colons and slashes', files: [`apiVersion: v1
kind: Config
clusters:
- name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
  cluster:
    server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
- name: gke_my-project_europe-west1_main
  cluster:
    server: https://34.1.2.3
contexts:
- name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
  context:
    cluster: arn:aws:eks:eu-west-1:123456789012:cluster/prod
    user: arn:aws:eks:eu-west-1:123456789012:cluster/prod
users:
- name: arn:aws:eks:eu-west-1:123456789012:cluster/prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args:
      - --region
      - eu-west-1
      - eks
      - get-token
      interactiveMode: IfAvailable
      provideClusterInfo: false
current-context: arn:aws:eks:eu-west-1:123456789012:cluster/prod
`] },
  { name: 'unicode comments and values', files: [`# Küberneteß config ✨ — ünïcödé
apiVersion: v1
clusters:
- name: café
  cluster:
    server: https://café.example   # 🚀
contexts:
- name: café
  context: {cluster: café, user: zoë}
users:
- name: zoë
  user: {token: "ü"}
`] },
  { name: 'name after body in every entry, blank lines between entries', files: [`apiVersion: v1
clusters:

- cluster:
    server: https://one

  name: one

- cluster:
    server: https://two
  name: two

contexts:

- context:
    cluster: one
    user: one
  name: one

users:

- user:
    token: one
  name: one

`] },
  { name: 'literal block scalars and tabs in comments', files: [`apiVersion: v1
kind: Config
description: |
  This config is shared by the team.
  Ask before editing.\t(really)
clusters:
- name: b
  cluster:
    server: https://b
    x-motd: >-
      folded
      text
users:
- name: b
  user:
    token: b\t# a tab before the comment
contexts:
- name: b
  context: {cluster: b, user: b}
`] },
  { name: 'quoted yes/no names', files: [`apiVersion: v1
clusters:
- name: "no"
  cluster: {server: "https://no"}
users:
- name: 'yes'
  user: {token: "on"}
contexts:
- name: "off"
  context: {cluster: "no", user: 'yes'}
current-context: "off"
`] },
  { name: 'trailing spaces and a comment as the last line without newline', files: [kubectlStyle.replace('kind: Config\n', 'kind: Config   \n') + '# end of file'] },
  { name: 'top level indented by two spaces', files: ['  apiVersion: v1\n  clusters:\n  - name: i\n    cluster: {server: https://i}\n  users:\n  - name: i\n    user: {token: i}\n  contexts:\n  - name: i\n    context: {cluster: i, user: i}\n'] },
  { name: 'entries written as flow mappings inside block lists', files: [`clusters:
- {name: f1, cluster: {server: https://f1}}
- {name: f2, cluster: {server: https://f2}}
users:
- {name: f, user: {token: f}}
contexts:
- {name: f1, context: {cluster: f1, user: f}}
current-context: f1
`] },
  { name: 'multi-line flow lists', files: [`clusters: [
  {name: ml, cluster: {server: "https://ml"}},
  {name: ml2, cluster: {server: "https://ml2"}}
]
users: [
  {name: ml, user: {token: ml}}
]
contexts: [
  {name: ml, context: {cluster: ml, user: ml}}
]
current-context: ml
`] },
  { name: 'flow mapping at the top level (YAML, not JSON)', files: ['{apiVersion: v1, kind: Config, clusters: [], users: [], contexts: [], current-context: ""}\n'] },
  {
    name: 'empty top-level flow mapping',
    files: ['{}\n'],
    // A flow list left empty stays `[]`: it may have been written that way.
    afterRemove: ['{clusters: [], users: [], contexts: []}\n'],
  },
  { name: 'document that is just null', files: ['null\n'], afterRemove: ['\n'], replaces: true },
  { name: 'document start marker only', files: ['---\n'] },
  { name: 'huge file with 5,000 contexts', files: [hugeConfig()] },
  // Several files, as KUBECONFIG lists them.
  { name: 'two files, both existing', files: [kubectlStyle, talos] },
  { name: 'first file missing, second existing', files: [null, commented] },
  {
    name: 'first file empty, second holds current-context',
    files: ['', kubectlStyle],
    // Switching back writes current-context to the first file, as `kubectl config use-context` does.
    afterRemove: ['current-context: prod-admin@prod\n', kubectlStyle],
  },
  { name: 'three files: missing, JSON, CRLF', files: [null, jsonPretty, talos.replace(/\n/g, '\r\n')] },
  // Like kubectl, when no file exists the last one in the list is created.
  { name: 'two missing files (last created)', files: [null, null], afterRemove: [null, 'apiVersion: v1\nkind: Config\n'] },
  { name: 'same names in two files (first wins)', files: [flowLists, flowLists.replace('https://a:6443', 'https://shadowed:6443')] },
];

/** Deterministic pseudo-random numbers, so generated cases are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Generated files: every combination of the style choices people make, with comments sprinkled in. */
function generated(count: number): CorpusCase[] {
  const out: CorpusCase[] = [];
  for (let n = 0; n < count; n++) {
    const r = rng(n * 7919 + 17);
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
    const unit = pick([2, 4]);
    const seqIndent = pick([0, unit]);
    const crlf = r() < 0.3;
    const bom = r() < 0.15;
    const finalNewline = r() < 0.8;
    const comments = pick([0, 0.2, 0.6]);
    const flowBodies = r() < 0.3;
    const quote = pick(['', '"', "'"]);
    const order = pick([
      ['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context'],
      ['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'preferences', 'users'],
      ['kind', 'apiVersion', 'current-context', 'contexts', 'users', 'clusters', 'extensions'],
    ]);
    const sp = (k: number): string => ' '.repeat(k);
    const q = (s: string): string => (quote ? `${quote}${s}${quote}` : s);
    const c = (text: string): string => (r() < comments ? `  # ${text}` : '');
    const lines: string[] = [];
    if (r() < comments) lines.push(`# generated case ${n}`);
    const counts = { clusters: 1 + Math.floor(r() * 3), users: 1 + Math.floor(r() * 2), contexts: 1 + Math.floor(r() * 4) };
    for (const key of order) {
      if (key === 'apiVersion') lines.push(`apiVersion: v1${c('version')}`);
      else if (key === 'kind') lines.push(`kind: Config${c('kind')}`);
      else if (key === 'current-context') lines.push(`current-context: ${q('ctx0')}${c('current')}`);
      else if (key === 'preferences') lines.push('preferences: {}');
      else if (key === 'extensions') lines.push('extensions:', `${sp(seqIndent)}- name: gen`, `${sp(seqIndent + 2)}extension: {n: ${n}}`);
      else {
        lines.push(`${key}:${c(key)}`);
        const kind = key as 'clusters' | 'users' | 'contexts';
        for (let i = 0; i < counts[kind]; i++) {
          if (r() < comments) lines.push(`${sp(seqIndent)}# entry ${i}`);
          const name = kind === 'clusters' ? `cl${i}` : kind === 'users' ? `us${i}` : `ctx${i}`;
          const body =
            kind === 'clusters'
              ? { server: `https://gen${n}-${i}.example:6443` }
              : kind === 'users'
                ? { token: `tok-${n}-${i}` }
                : { cluster: `cl${i % counts.clusters}`, user: `us${i % counts.users}` };
          const field = kind.slice(0, -1);
          const nameFirst = r() < 0.6;
          const nameLine = `name: ${q(name)}${c('name')}`;
          const bodyLines = flowBodies
            ? [`${field}: {${Object.entries(body).map(([k, v]) => `${k}: ${v.startsWith('https') ? `"${v}"` : v}`).join(', ')}}`]
            : [`${field}:`, ...Object.entries(body).map(([k, v]) => `${sp(unit)}${k}: ${v}${c(k)}`)];
          const item = nameFirst ? [nameLine, ...bodyLines] : [...bodyLines, nameLine];
          item.forEach((l, j) => lines.push(j === 0 ? `${sp(seqIndent)}- ${l}` : `${sp(seqIndent + 2)}${l}`));
        }
      }
    }
    if (r() < comments) lines.push('# end');
    const eol = crlf ? '\r\n' : '\n';
    let text = lines.join(eol) + (finalNewline ? eol : '');
    if (bom) text = '\uFEFF' + text;
    out.push({
      name: `generated #${n} (indent ${unit}, dash ${seqIndent}${crlf ? ', CRLF' : ''}${bom ? ', BOM' : ''}${finalNewline ? '' : ', no final newline'}${flowBodies ? ', flow bodies' : ''}${quote ? `, ${quote}quotes${quote}` : ''}, comments ${comments})`,
      files: [text],
    });
  }
  return out;
}

export const corpus: CorpusCase[] = [...handwritten, ...generated(30)];
