// The checker's memory snapshot, as the site serves it, and back. Shared by
// the build (sitegen/make_snapshot.mjs packs) and the worker (unpacks), so
// both read the same format.
//
// A Pyodide snapshot is a header and then the WebAssembly memory. Most of that
// memory is either zero or still what the runtime's own data segments put
// there when it started; both can be had without downloading them. So only
// the 4 KiB pages that differ from that "base" travel:
//
//   "SSZ2", u32 total length, u32 heap offset (where memory starts in the
//   snapshot), u32 base (0: zeros, 1: zeros and the wasm's data segments),
//   u32 run count, then (u32 offset, u32 length) per run, then the runs' bytes.
//
// All little-endian. Anything unexpected throws: the worker then starts Python
// the slow way, and the build refuses a snapshot that does not unpack.
const MAGIC = [0x53, 0x53, 0x5a, 0x32]; // "SSZ2"
const PAGE = 4096;
const HEADER = 20;

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error("wasm: truncated");
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function sleb32(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    if (byte === undefined) throw new Error("wasm: truncated");
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  if (shift < 32 && byte & 0x40) value |= -1 << shift;
  return [value >>> 0, at];
}

// The wasm's active data segments: [memory address, bytes] pairs. Throws on
// anything but the plain form (memory 0, i32.const offset).
export function dataSegments(wasm) {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error("not a WebAssembly module");
  const segments = [];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    let size;
    [size, at] = leb(wasm, at + 1);
    const end = at + size;
    if (id === 11) {
      let count;
      [count, at] = leb(wasm, at);
      for (let i = 0; i < count; i++) {
        let flag, address, length;
        [flag, at] = leb(wasm, at);
        if (flag !== 0 || wasm[at] !== 0x41) throw new Error("wasm: a data segment of an unexpected kind");
        [address, at] = sleb32(wasm, at + 1);
        if (wasm[at++] !== 0x0b) throw new Error("wasm: a data segment of an unexpected kind");
        [length, at] = leb(wasm, at);
        segments.push([address, wasm.subarray(at, at + length)]);
        at += length;
      }
      if (at !== end) throw new Error("wasm: the data section does not add up");
    }
    at = end;
  }
  if (at !== wasm.length) throw new Error("wasm: truncated");
  return segments;
}

// The bytes of memory the wasm starts with (its memory section's minimum, in
// 64 KiB pages). A snapshot is copied into that memory before anything can
// grow it, so a snapshot larger than this cannot be restored.
export function initialMemory(wasm) {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error("not a WebAssembly module");
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    let size;
    [size, at] = leb(wasm, at + 1);
    if (id === 5) {
      let count, flags, pages;
      [count, at] = leb(wasm, at);
      if (count !== 1) throw new Error(`wasm: ${count} memories`);
      [flags, at] = leb(wasm, at);
      if (flags & 4) throw new Error("wasm: a 64-bit memory");
      [pages] = leb(wasm, at);
      return pages * 65536;
    }
    at += size;
  }
  throw new Error("wasm: no memory section (an imported memory)");
}

function baseMemory(total, heapOffset, wasm) {
  const out = new Uint8Array(total);
  if (!wasm) return out;
  for (const [address, bytes] of dataSegments(wasm)) {
    const at = heapOffset + address;
    if (at + bytes.length > total) throw new Error("snapshot: a data segment lies outside it");
    out.set(bytes, at);
  }
  return out;
}

function samePage(a, b, from, to) {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Build side: the pages of `snapshot` that differ from the base. `wasm` may
// be null (then the base is zeros only).
export function pack(snapshot, wasm) {
  const heapOffset = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
  const base = baseMemory(snapshot.length, heapOffset, wasm);
  const runs = [];
  let start = -1;
  // Pages aligned on the memory, not on the file: the data sits there.
  const bounds = [0];
  for (let at = heapOffset % PAGE || PAGE; at < snapshot.length; at += PAGE) bounds.push(at);
  bounds.push(snapshot.length);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [from, to] = [bounds[i], bounds[i + 1]];
    const same = samePage(snapshot, base, from, to);
    if (!same && start < 0) start = from;
    if (same && start >= 0) { runs.push([start, from - start]); start = -1; }
  }
  if (start >= 0) runs.push([start, snapshot.length - start]);
  const header = HEADER + 8 * runs.length;
  const out = new Uint8Array(header + runs.reduce((sum, [, length]) => sum + length, 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, snapshot.length, true);
  view.setUint32(8, heapOffset, true);
  view.setUint32(12, wasm ? 1 : 0, true);
  view.setUint32(16, runs.length, true);
  let at = header;
  runs.forEach(([offset, length], i) => {
    view.setUint32(HEADER + 8 * i, offset, true);
    view.setUint32(HEADER + 8 * i + 4, length, true);
    out.set(snapshot.subarray(offset, offset + length), at);
    at += length;
  });
  return out;
}

function header(packed) {
  if (packed.length < HEADER || MAGIC.some((byte, i) => packed[i] !== byte)) throw new Error("snapshot: not in the site's format");
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const [total, heapOffset, withData, count] = [4, 8, 12, 16].map((at) => view.getUint32(at, true));
  if (withData > 1 || HEADER + 8 * count > packed.length) throw new Error("snapshot: a damaged header");
  return { view, total, heapOffset, withData, count };
}

function writeRuns(packed, { view, total, count }, out) {
  let at = HEADER + 8 * count;
  for (let i = 0; i < count; i++) {
    const offset = view.getUint32(HEADER + 8 * i, true);
    const length = view.getUint32(HEADER + 8 * i + 4, true);
    if (offset + length > total || at + length > packed.length) throw new Error("snapshot: a run lies outside it");
    out.set(packed.subarray(at, at + length), offset);
    at += length;
  }
  if (at !== packed.length) throw new Error("snapshot: trailing bytes");
  return out;
}

// The snapshot again, from the wasm's bytes. `wasm` is the runtime's
// uncompressed module (needed when the build packed against its data segments).
export function unpack(packed, wasm) {
  const head = header(packed);
  if (head.withData && !wasm) throw new Error("snapshot: needs the runtime's module");
  return writeRuns(packed, head, baseMemory(head.total, head.heapOffset, head.withData ? wasm : null));
}

// Worker side: the snapshot again, into `into`, which already holds the base
// from `heapOffset` on: the memory of the runtime's instance as instantiated
// (zeros and the data segments, before any of its code ran), copied there.
export function unpackOnto(packed, into, heapOffset) {
  const head = header(packed);
  if (head.total !== into.length || head.heapOffset !== heapOffset) {
    throw new Error(`snapshot: ${head.total} bytes from ${head.heapOffset}, not the ${into.length} from ${heapOffset} expected`);
  }
  into.fill(0, 0, heapOffset);
  if (!head.withData) into.fill(0, heapOffset);
  return writeRuns(packed, head, into);
}
