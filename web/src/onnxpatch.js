// onnxruntime-web's WASM (CPU) build has no kernel for com.microsoft GatherBlockQuantized, the int4 embedding
// lookup that onnxruntime-genai's builder emits for tied embeddings. For the WASM EP only, the worker rewrites
// that one node, in memory, into standard ONNX ops computing the same thing ((q - 8) * scale per 32-value block,
// low nibble first) from the same initializers. The files on disk, their sha256 and every other node are
// untouched; the WebGPU EP runs the graph as shipped. Minimal protobuf wire-format code, no dependency.

const enc = new TextEncoder();
const dec = new TextDecoder();

function readVarint(b, p) {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const x = b[p++];
    v |= BigInt(x & 0x7f) << shift;
    if (!(x & 0x80)) return [v, p];
    shift += 7n;
  }
}

function varint(v) {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = [];
  do {
    let byte = Number(x & 0x7fn);
    x >>= 7n;
    if (x) byte |= 0x80;
    out.push(byte);
  } while (x);
  return out;
}

// Split a message into [fieldNumber, wireType, valueBytesOrNumber, rawBytesOfWholeField].
function fields(b) {
  const out = [];
  let p = 0;
  while (p < b.length) {
    const start = p;
    let key;
    [key, p] = readVarint(b, p);
    const num = Number(key >> 3n);
    const wt = Number(key & 7n);
    let val;
    if (wt === 0) [val, p] = readVarint(b, p);
    else if (wt === 1) {
      val = b.subarray(p, p + 8);
      p += 8;
    } else if (wt === 2) {
      let len;
      [len, p] = readVarint(b, p);
      val = b.subarray(p, p + Number(len));
      p += Number(len);
    } else if (wt === 5) {
      val = b.subarray(p, p + 4);
      p += 4;
    } else throw new Error(`protobuf wire type ${wt} not supported`);
    out.push([num, wt, val, b.subarray(start, p)]);
  }
  return out;
}

const cat = (parts) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const o = new Uint8Array(n);
  let i = 0;
  for (const p of parts) {
    o.set(p, i);
    i += p.length;
  }
  return o;
};
const lenField = (num, bytes) => cat([Uint8Array.from(varint((num << 3) | 2)), Uint8Array.from(varint(bytes.length)), bytes]);
const intField = (num, v) => Uint8Array.from([...varint(num << 3), ...varint(v)]);
const str = (num, s) => lenField(num, enc.encode(s));

function tensor(dataType, dims, raw) {
  return cat([...dims.map((d) => intField(1, d)), intField(2, dataType), lenField(9, raw)]);
}
const attrInt = (name, v) => lenField(5, cat([str(1, name), intField(3, v), intField(20, 2)]));
const attrTensor = (name, t) => lenField(5, cat([str(1, name), lenField(5, t), intField(20, 4)]));

function node(op, inputs, outputs, name, attrs = []) {
  return lenField(1, cat([...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op), ...attrs]));
}

const i32 = (v) => new Uint8Array(Int32Array.of(v).buffer);
const f32 = (v) => new Uint8Array(Float32Array.of(v).buffer);
const i64s = (vs) => new Uint8Array(BigInt64Array.from(vs.map(BigInt)).buffer);

function decodeNode(b) {
  const n = { inputs: [], outputs: [], name: '', op: '', domain: '', attrs: {} };
  for (const [num, , val] of fields(b)) {
    if (num === 1) n.inputs.push(dec.decode(val));
    else if (num === 2) n.outputs.push(dec.decode(val));
    else if (num === 3) n.name = dec.decode(val);
    else if (num === 4) n.op = dec.decode(val);
    else if (num === 7) n.domain = dec.decode(val);
    else if (num === 5) {
      let name = '';
      let i = null;
      for (const [an, , av] of fields(val)) {
        if (an === 1) name = dec.decode(av);
        if (an === 3) i = Number(BigInt.asIntN(64, av));
      }
      n.attrs[name] = i;
    }
  }
  return n;
}

function replaceGbq(n, k) {
  const bits = n.attrs.bits ?? 4;
  const block = n.attrs.block_size ?? 128;
  if (bits !== 4 || (n.attrs.gather_axis ?? 0) !== 0 || n.inputs.length > 3) {
    throw new Error(`GatherBlockQuantized ${n.name}: only 4-bit, gather_axis 0, no zero points is supported on WASM`);
  }
  const [data, ids, scales] = n.inputs;
  const P = `/web/gbq${k}/`;
  const c = (nm, t) => node('Constant', [], [P + nm], P + nm, [attrTensor('value', t)]);
  return [
    c('c16', tensor(6, [], i32(16))),
    c('c8', tensor(1, [], f32(8))),
    c('axes', tensor(7, [1], i64s([-1]))),
    c('shape_blocks', tensor(7, [4], i64s([0, 0, -1, block]))),
    c('shape_out', tensor(7, [3], i64s([0, 0, -1]))),
    node('Gather', [data, ids], [P + 'q'], P + 'gather_q', [attrInt('axis', 0)]),
    node('Cast', [P + 'q'], [P + 'qi'], P + 'cast_q', [attrInt('to', 6)]),
    node('Div', [P + 'qi', P + 'c16'], [P + 'hi'], P + 'hi'),
    node('Mul', [P + 'hi', P + 'c16'], [P + 'hi16'], P + 'hi16'),
    node('Sub', [P + 'qi', P + 'hi16'], [P + 'lo'], P + 'lo'),
    node('Unsqueeze', [P + 'lo', P + 'axes'], [P + 'lo1'], P + 'lo1'),
    node('Unsqueeze', [P + 'hi', P + 'axes'], [P + 'hi1'], P + 'hi1'),
    node('Concat', [P + 'lo1', P + 'hi1'], [P + 'nib'], P + 'nib', [attrInt('axis', -1)]),
    node('Cast', [P + 'nib'], [P + 'nibf'], P + 'nibf', [attrInt('to', 1)]),
    node('Sub', [P + 'nibf', P + 'c8'], [P + 'centered'], P + 'centered'),
    node('Reshape', [P + 'centered', P + 'shape_blocks'], [P + 'blocks'], P + 'blocks'),
    node('Gather', [scales, ids], [P + 's'], P + 'gather_s', [attrInt('axis', 0)]),
    node('Unsqueeze', [P + 's', P + 'axes'], [P + 's1'], P + 's1'),
    node('Mul', [P + 'blocks', P + 's1'], [P + 'deq'], P + 'deq'),
    node('Reshape', [P + 'deq', P + 'shape_out'], [n.outputs[0]], P + 'out'),
  ];
}

// Returns {bytes, replaced}: the model with every GatherBlockQuantized replaced (bytes unchanged if none).
export function replaceGatherBlockQuantized(model) {
  const top = fields(model);
  let replaced = 0;
  const out = top.map(([num, wt, val, raw]) => {
    if (num !== 7 || wt !== 2) return raw;
    const parts = fields(val).map(([gn, gwt, gval, graw]) => {
      if (gn !== 1 || gwt !== 2) return graw;
      const n = decodeNode(gval);
      if (n.op !== 'GatherBlockQuantized') return graw;
      return cat(replaceGbq(n, replaced++));
    });
    return lenField(7, cat(parts));
  });
  return { bytes: replaced ? cat(out) : model, replaced };
}
