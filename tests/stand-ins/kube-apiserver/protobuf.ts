/**
 * Decoding the Kubernetes protobuf envelope kubectl sends built-in objects in
 * (application/vnd.kubernetes.protobuf): just the fields of the objects this stand-in accepts.
 */
interface PbField {
  field: number;
  value: Buffer | number;
}

function pbVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    result += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [result, i + 1];
  }
  throw new Error('truncated varint');
}

function pbFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let i = 0;
  while (i < buf.length) {
    const [key, p1] = pbVarint(buf, i);
    i = p1;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const [v, p] = pbVarint(buf, i);
      out.push({ field, value: v });
      i = p;
    } else if (wire === 2) {
      const [len, p] = pbVarint(buf, i);
      if (p + len > buf.length) throw new Error('truncated field');
      out.push({ field, value: buf.subarray(p, p + len) });
      i = p + len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const pbStr = (fields: PbField[], n: number): string | undefined => {
  const f = fields.find((x) => x.field === n && Buffer.isBuffer(x.value));
  return f ? (f.value as Buffer).toString('utf8') : undefined;
};

const pbMsgs = (fields: PbField[], n: number): PbField[][] =>
  fields.filter((x) => x.field === n && Buffer.isBuffer(x.value)).map((x) => pbFields(x.value as Buffer));
const pbMap = (fields: PbField[], n: number): Record<string, string> | undefined => {
  const entries = pbMsgs(fields, n);
  return entries.length ? Object.fromEntries(entries.map((e) => [pbStr(e, 1) ?? '', pbStr(e, 2) ?? ''])) : undefined;
};

/** runtime.Unknown envelope ("k8s\\0" magic) holding a SelfSubjectReview, SelfSubjectAccessReview or ClusterRoleBinding. */
export function decodeK8sProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const unknown = pbFields(body.subarray(4));
  const typeMeta = pbMsgs(unknown, 1)[0] ?? [];
  const apiVersion = pbStr(typeMeta, 1);
  const kind = pbStr(typeMeta, 2);
  const raw = pbFields((unknown.find((f) => f.field === 2)?.value as Buffer | undefined) ?? Buffer.alloc(0));
  const meta = pbMsgs(raw, 1)[0] ?? [];
  const metadata: Record<string, unknown> = {};
  for (const [n, k] of [[1, 'name'], [2, 'generateName'], [3, 'namespace'], [5, 'uid'], [6, 'resourceVersion']] as const) {
    const v = pbStr(meta, n);
    if (v) metadata[k] = v;
  }
  const labels = pbMap(meta, 11);
  const annotations = pbMap(meta, 12);
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  const obj: Record<string, unknown> = { ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), metadata };
  if (kind === 'ClusterRoleBinding') {
    obj.subjects = pbMsgs(raw, 2).map((s) => ({
      kind: pbStr(s, 1) ?? '',
      apiGroup: pbStr(s, 2) ?? '',
      name: pbStr(s, 3) ?? '',
      ...(pbStr(s, 4) ? { namespace: pbStr(s, 4) } : {}),
    }));
    const rr = pbMsgs(raw, 3)[0] ?? [];
    obj.roleRef = { apiGroup: pbStr(rr, 1) ?? '', kind: pbStr(rr, 2) ?? '', name: pbStr(rr, 3) ?? '' };
  }
  if (kind === 'SelfSubjectAccessReview') {
    const spec = pbMsgs(raw, 2)[0] ?? [];
    const ra = pbMsgs(spec, 1)[0];
    const nra = pbMsgs(spec, 2)[0];
    const out: Record<string, unknown> = {};
    if (ra) {
      const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
      out.resourceAttributes = Object.fromEntries(names.map((n, i) => [n, pbStr(ra, i + 1) ?? '']).filter(([, v]) => v !== ''));
    }
    if (nra) out.nonResourceAttributes = { path: pbStr(nra, 1) ?? '', verb: pbStr(nra, 2) ?? '' };
    obj.spec = out;
  }
  return obj;
}
