// AssemblyScript (compiled to WebAssembly by scripts/build-simd.mjs, not by tsc).
//
// A vector machine for fused elementwise programs. src/runtime/simd/program.ts compiles an expression DAG of
// float32 ops into a list of instructions; `run` executes it over one chunk of at most CHUNK elements, every
// instruction over the whole chunk in SIMD, so intermediate values stay in cache-sized registers and no
// full-size temporary is ever written. Float32 lanes round every op exactly as storing a float32 does, so the
// results equal the JS runtime's element for element.
//
// Memory layout is the caller's: the program (i32 words), the registers (CHUNK f32 each), reduction state,
// leaves and materialised results all live in the module's memory at offsets the caller chooses. The caller
// copies each chunk of a JavaScript array straight into its register; arrays already in module memory (a
// matrix product's result) are read a chunk at a time by LOAD_FULL, and STORE_FULL puts a chunk of a result
// into the module-memory array that is copied out once at the end.

import { dtanhVec, tanhVec } from "./breakdowns.generated";

export const CHUNK: i32 = 2048;

// Opcodes, mirrored in program.ts.
const END = 0;
const LOAD_ROW = 2; // dst, ptr, len: R[dst][i] = mem[ptr][(start + i) % len]
const LOAD_FULL = 3; // dst, ptr: R[dst][i] = mem[ptr][start + i]
const LOAD_COL = 4; // dst, ptr, inner: R[dst][i] = mem[ptr][(start + i) / inner]
const LOAD_UNPOOL = 5; // dst, g, idx, h, w: max_pool2d's 2 x 2 gradient spread back (unpool2x2)
const ADD = 10; // dst, a, b
const SUB = 11;
const MUL = 12;
const DIV = 13;
const NEG = 20; // dst, a
const ABS = 21;
const SQRT = 22;
const TANH = 23;
const DTANH = 24; // 1 - y * y computed exactly and rounded once (torch's fused multiply-add in tanh_backward)
// dst, a, b, t, e: R[dst] = (R[a] cmp R[b]) ? R[t] : R[e], bits unchanged; cmp in WebAssembly's f32x4 order.
const SEL_EQ = 30;
const SEL_NE = 31;
const SEL_LT = 32;
const SEL_GT = 33;
const SEL_LE = 34;
const SEL_GE = 35;
const SUM64 = 41; // src, slot: float64 sum of every element (4 partial sums, folded by the caller)
const CASCADE = 42; // src, state: torch's float32 sum order (cascade.ts), finished by cascadeFinish
const COLSUM64 = 43; // src, slot, len: slot[(start + i) % len] += R[src][i] in float64, in row order
const STORE_FULL = 44; // src, ptr: mem[ptr][start + i] = R[src][i]
const RUNSUM64 = 45; // src, slot, len, inner: slot[((start + i) / inner) % len] += R[src][i] in float64, in order

@inline function reg(regs: usize, r: i32): usize {
  return regs + (<usize>r) * (<usize>CHUNK << 2);
}

/** Run `prog` over elements start .. start + len (len <= CHUNK). Registers at `regs`, CHUNK floats each. */
export function run(prog: usize, regs: usize, start: i32, len: i32): void {
  {
    // Elementwise instructions run over whole vectors; the few lanes past `len` hold junk no reduction reads.
    const vlen = (len + 3) & ~3;
    let pc = prog;
    while (true) {
      const op = load<i32>(pc);
      if (op == END) break;
      const d = load<i32>(pc, 4);
      if (op == LOAD_FULL) {
        memory.copy(reg(regs, d), <usize>load<u32>(pc, 8) + (<usize>start << 2), <usize>len << 2);
        pc += 12;
      } else if (op == STORE_FULL) {
        memory.copy(<usize>load<u32>(pc, 8) + (<usize>start << 2), reg(regs, d), <usize>len << 2);
        pc += 12;
      } else if (op == LOAD_ROW) {
        loadRow(reg(regs, d), <usize>load<u32>(pc, 8), load<i32>(pc, 12), start, len);
        pc += 16;
      } else if (op == LOAD_COL) {
        const src = <usize>load<u32>(pc, 8);
        const inner = load<i32>(pc, 12);
        const R = reg(regs, d);
        for (let i = 0; i < len; i++) store<f32>(R + (<usize>i << 2), load<f32>(src + (<usize>((start + i) / inner) << 2)));
        pc += 16;
      } else if (op == LOAD_UNPOOL) {
        const g = <usize>load<u32>(pc, 8);
        unpool2x2(reg(regs, d), g, <usize>load<u32>(pc, 12), load<i32>(pc, 16), load<i32>(pc, 20), start, len);
        pc += 24;
      } else if (op >= ADD && op <= DIV) {
        binary(op, reg(regs, d), reg(regs, load<i32>(pc, 8)), reg(regs, load<i32>(pc, 12)), vlen);
        pc += 16;
      } else if (op >= NEG && op <= DTANH) {
        unary(op, reg(regs, d), reg(regs, load<i32>(pc, 8)), vlen);
        pc += 12;
      } else if (op >= SEL_EQ && op <= SEL_GE) {
        const A = reg(regs, load<i32>(pc, 8));
        const B = reg(regs, load<i32>(pc, 12));
        select(op, reg(regs, d), A, B, reg(regs, load<i32>(pc, 16)), reg(regs, load<i32>(pc, 20)), vlen);
        pc += 24;
      } else if (op == SUM64) {
        sum64(reg(regs, d), <usize>load<u32>(pc, 8), len);
        pc += 12;
      } else if (op == CASCADE) {
        cascadeFeed(reg(regs, d), <usize>load<u32>(pc, 8), start, len);
        pc += 12;
      } else if (op == COLSUM64) {
        colSum64(reg(regs, d), <usize>load<u32>(pc, 8), load<i32>(pc, 12), start, len);
        pc += 16;
      } else if (op == RUNSUM64) {
        runSum64(reg(regs, d), <usize>load<u32>(pc, 8), load<i32>(pc, 12), load<i32>(pc, 16), start, len);
        pc += 20;
      } else {
        unreachable();
      }
    }
  }
}

// max_pool2d's gradient for 2 x 2 windows tiling planes of h x w (h even): element p of a plane is g (float32)
// of p's window where that window's saved index (float64, into the plane) is p, else 0; a zero g gives +0, as
// adding it into the zeros the scatter starts from does. Scattered per chunk: zeros, then each window whose
// two rows (a band of 2w elements; window o is band o / (w / 2)'s) meet the chunk puts its g where it points.
function unpool2x2(R: usize, g: usize, idx: usize, h: i32, w: i32, start: i32, len: i32): void {
  memory.fill(R, 0, <usize>len << 2);
  const wo = w >> 1;
  const bands = h >> 1;
  const band = w << 1;
  for (let b = start / band, last = (start + len - 1) / band; b <= last; b++) {
    // The band's first element in the whole tensor, less `start`, is where its plane's offsets count from.
    const base = (b / bands) * h * w - start;
    for (let o = b * wo, end = o + wo; o < end; o++) {
      const at = base + <i32>load<f64>(idx + (<usize>o << 3));
      if (at >= 0 && at < len) {
        const v = load<f32>(g + (<usize>o << 2));
        store<f32>(R + (<usize>at << 2), v != 0 ? v : 0);
      }
    }
  }
}

function loadRow(R: usize, src: usize, rowLen: i32, start: i32, len: i32): void {
  let j = start % rowLen;
  let i = 0;
  while (i < len) {
    const take = min(rowLen - j, len - i);
    memory.copy(R + (<usize>i << 2), src + (<usize>j << 2), <usize>take << 2);
    i += take;
    j = 0;
  }
}

function binary(op: i32, D: usize, A: usize, B: usize, vlen: i32): void {
  if (op == ADD)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.add(v128.load(A + o), v128.load(B + o)));
    }
  else if (op == SUB)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.sub(v128.load(A + o), v128.load(B + o)));
    }
  else if (op == MUL)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.mul(v128.load(A + o), v128.load(B + o)));
    }
  else
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.div(v128.load(A + o), v128.load(B + o)));
    }
}

function unary(op: i32, D: usize, A: usize, vlen: i32): void {
  if (op == NEG)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.neg(v128.load(A + o)));
    }
  else if (op == ABS)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.abs(v128.load(A + o)));
    }
  else if (op == SQRT)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, f32x4.sqrt(v128.load(A + o)));
    }
  else if (op == DTANH)
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, dtanhVec(v128.load(A + o)));
    }
  else
    for (let i = 0; i < vlen; i += 4) {
      const o = <usize>i << 2;
      v128.store(D + o, tanhVec(v128.load(A + o)));
    }
}

@inline function mask(op: i32, a: v128, b: v128): v128 {
  if (op == SEL_EQ) return f32x4.eq(a, b);
  if (op == SEL_NE) return f32x4.ne(a, b);
  if (op == SEL_LT) return f32x4.lt(a, b);
  if (op == SEL_GT) return f32x4.gt(a, b);
  if (op == SEL_LE) return f32x4.le(a, b);
  return f32x4.ge(a, b);
}

// The comparison is chosen per vector, not per loop: this is the fallback where the compiled body (jit.ts) is
// refused, and one loop is simpler than six.
function select(op: i32, D: usize, A: usize, B: usize, T: usize, E: usize, vlen: i32): void {
  for (let i = 0; i < vlen; i += 4) {
    const o = <usize>i << 2;
    v128.store(D + o, v128.bitselect(v128.load(T + o), v128.load(E + o), mask(op, v128.load(A + o), v128.load(B + o))));
  }
}

// Eight float64 partial sums (four accumulators of two lanes), so consecutive additions do not wait on each
// other; element i goes to partial i % 8 except the last len % 8, which go to partial 0.
function sum64(R: usize, slot: usize, len: i32): void {
  let s0 = v128.load(slot);
  let s1 = v128.load(slot, 16);
  let s2 = v128.load(slot, 32);
  let s3 = v128.load(slot, 48);
  const whole = len & ~7;
  for (let i = 0; i < whole; i += 8) {
    const v = v128.load(R + (<usize>i << 2));
    const w = v128.load(R + (<usize>i << 2), 16);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    s2 = f64x2.add(s2, f64x2.promote_low_f32x4(w));
    s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
  }
  for (let i = whole; i < len; i++) s0 = f64x2.replace_lane(s0, 0, f64x2.extract_lane(s0, 0) + <f64>load<f32>(R + (<usize>i << 2)));
  v128.store(slot, s0);
  v128.store(slot, s1, 16);
  v128.store(slot, s2, 32);
  v128.store(slot, s3, 48);
}

function colSum64(R: usize, slot: usize, rowLen: i32, start: i32, len: i32): void {
  // Row segment by row segment; within one, four columns at a time in float64 lanes. Each column still adds
  // its values in row order.
  let j = start % rowLen;
  let i = 0;
  while (i < len) {
    const take = min(rowLen - j, len - i);
    let t = 0;
    for (; t + 4 <= take; t += 4) {
      const v = v128.load(R + (<usize>(i + t) << 2));
      const acc = slot + (<usize>(j + t) << 3);
      v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
      v128.store(acc, f64x2.add(v128.load(acc, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
    }
    for (; t < take; t++) {
      const p = slot + (<usize>(j + t) << 3);
      store<f64>(p, load<f64>(p) + <f64>load<f32>(R + (<usize>(i + t) << 2)));
    }
    i += take;
    j = 0;
  }
}

// Sums over runs of `inner` elements that each land on one slot (a conv bias's gradient: slot c takes every
// run of channel c's H * W values): each slot adds its values one by one in element order, as
// fused/reduce.ts's sumTo does. Four whole runs side by side go to four different slots (len >= 4), so their
// chains run together without changing any slot's order.
function runSum64(R: usize, slot: usize, len: i32, inner: i32, start: i32, n: i32): void {
  let i = 0;
  while (i < n) {
    const e = start + i;
    const j = (e / inner) % len;
    const off = e - (e / inner) * inner;
    if (off == 0 && len >= 4 && i + 4 * inner <= n) {
      const p0 = slot + (<usize>j << 3);
      const p1 = slot + (<usize>(j + 1 < len ? j + 1 : j + 1 - len) << 3);
      const p2 = slot + (<usize>(j + 2 < len ? j + 2 : j + 2 - len) << 3);
      const p3 = slot + (<usize>(j + 3 < len ? j + 3 : j + 3 - len) << 3);
      let s0 = load<f64>(p0);
      let s1 = load<f64>(p1);
      let s2 = load<f64>(p2);
      let s3 = load<f64>(p3);
      const a = R + (<usize>i << 2);
      const run = <usize>inner << 2;
      for (let t: usize = 0; t < run; t += 4) {
        s0 += <f64>load<f32>(a + t);
        s1 += <f64>load<f32>(a + run + t);
        s2 += <f64>load<f32>(a + 2 * run + t);
        s3 += <f64>load<f32>(a + 3 * run + t);
      }
      store<f64>(p0, s0);
      store<f64>(p1, s1);
      store<f64>(p2, s2);
      store<f64>(p3, s3);
      i += 4 * inner;
    } else {
      const take = min(inner - off, n - i);
      const p = slot + (<usize>j << 3);
      let s = load<f64>(p);
      for (let t = 0; t < take; t++) s += <f64>load<f32>(R + (<usize>(i + t) << 2));
      store<f64>(p, s);
      i += take;
    }
  }
}

// torch's float32 sum order (see src/runtime/ops/cascade.ts, innerSum and multiRowSum): rows of 32 floats
// (4 AVX2 vectors of 8) summed down into 4 cascade levels, folded every 2^power rows; the vectors and elements
// past the last whole row are kept aside and added in at the end, in torch's order.
//
// State block (caller-zeroed): levels at +0 (4 x 32 f32), then i32 fields.
const ST_ROWS = 512; // rows in the whole sum
const ST_POWER = 516;
const ST_DONE = 520; // rows added so far
const ST_FOLDED = 524; // whether a cascade step has run
const ST_N = 528;
const ST_TAIL = 544; // up to 63 floats past the last whole row
export const CASCADE_STATE_BYTES: i32 = 544 + 64 * 4;

export function cascadeInit(state: usize, n: i32): void {
  memory.fill(state, 0, CASCADE_STATE_BYTES);
  const rows = (n >> 3) >> 2;
  store<i32>(state + ST_ROWS, rows);
  store<i32>(state + ST_POWER, max(4, ceilLog2(rows) >> 2));
  store<i32>(state + ST_N, n);
}

function ceilLog2(x: i32): i32 {
  return x <= 2 ? 1 : 32 - clz(x - 1);
}

function cascadeFeed(R: usize, state: usize, start: i32, len: i32): void {
  const rows = load<i32>(state + ST_ROWS);
  const power = load<i32>(state + ST_POWER);
  const step = 1 << power;
  const mask = step - 1;
  let done = load<i32>(state + ST_DONE);
  // Whole rows of this chunk (chunks start on row boundaries).
  const firstRow = start >> 5;
  const rowsHere = min(len >> 5, rows - firstRow);
  let a0 = v128.load(state, 0);
  let a1 = v128.load(state, 16);
  let a2 = v128.load(state, 32);
  let a3 = v128.load(state, 48);
  let a4 = v128.load(state, 64);
  let a5 = v128.load(state, 80);
  let a6 = v128.load(state, 96);
  let a7 = v128.load(state, 112);
  for (let r = 0; r < rowsHere; r++) {
    const p = R + (<usize>r << 7);
    a0 = f32x4.add(a0, v128.load(p, 0));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
    a4 = f32x4.add(a4, v128.load(p, 64));
    a5 = f32x4.add(a5, v128.load(p, 80));
    a6 = f32x4.add(a6, v128.load(p, 96));
    a7 = f32x4.add(a7, v128.load(p, 112));
    done++;
    if ((done & mask) == 0) {
      v128.store(state, a0, 0);
      v128.store(state, a1, 16);
      v128.store(state, a2, 32);
      v128.store(state, a3, 48);
      v128.store(state, a4, 64);
      v128.store(state, a5, 80);
      v128.store(state, a6, 96);
      v128.store(state, a7, 112);
      store<i32>(state + ST_FOLDED, 1);
      for (let j = 1; j < 4; j++) {
        foldLevel(state + (<usize>j << 7), state + (<usize>(j - 1) << 7));
        memory.fill(state + (<usize>(j - 1) << 7), 0, 128);
        if ((done & (mask << (j * power))) != 0) break;
      }
      a0 = v128.load(state, 0);
      a1 = v128.load(state, 16);
      a2 = v128.load(state, 32);
      a3 = v128.load(state, 48);
      a4 = v128.load(state, 64);
      a5 = v128.load(state, 80);
      a6 = v128.load(state, 96);
      a7 = v128.load(state, 112);
    }
  }
  v128.store(state, a0, 0);
  v128.store(state, a1, 16);
  v128.store(state, a2, 32);
  v128.store(state, a3, 48);
  v128.store(state, a4, 64);
  v128.store(state, a5, 80);
  v128.store(state, a6, 96);
  v128.store(state, a7, 112);
  store<i32>(state + ST_DONE, done);
  // Elements past the last whole row: at most 63 of them, all in the final chunk.
  const from = max(0, rows * 32 - start);
  for (let i = from; i < len; i++)
    store<f32>(state + ST_TAIL + (<usize>(start + i - rows * 32) << 2), load<f32>(R + (<usize>i << 2)));
}

function foldLevel(into: usize, from: usize): void {
  for (let t: usize = 0; t < 128; t += 16) v128.store(into + t, f32x4.add(v128.load(into + t), v128.load(from + t)));
}

/** The finished sum, after every chunk has been fed. */
export function cascadeFinish(state: usize): f32 {
  const n = load<i32>(state + ST_N);
  const rows = load<i32>(state + ST_ROWS);
  const vecs = n >> 3;
  if (load<i32>(state + ST_FOLDED)) for (let j = 1; j < 4; j++) foldLevel(state, state + (<usize>j << 7));
  else for (let t: usize = 0; t < 128; t += 16) v128.store(state + t, f32x4.add(v128.load(state + t), f32x4.splat(0)));
  // p[lane] += the leftover vectors, then the four accumulators folded into the first.
  const tail = state + ST_TAIL;
  for (let v = rows * 4; v < vecs; v++)
    for (let lane = 0; lane < 8; lane++) {
      const p = state + (<usize>lane << 2);
      store<f32>(p, load<f32>(p) + load<f32>(tail + (<usize>((v - rows * 4) * 8 + lane) << 2)));
    }
  for (let k = 1; k < 4; k++)
    for (let lane = 0; lane < 8; lane++) {
      const p = state + (<usize>lane << 2);
      store<f32>(p, load<f32>(p) + load<f32>(state + (<usize>(k * 8 + lane) << 2)));
    }
  let total: f32 = 0;
  for (let e = vecs * 8; e < n; e++) total += load<f32>(tail + (<usize>(e - rows * 32) << 2));
  for (let lane = 0; lane < 8; lane++) total += load<f32>(state + (<usize>lane << 2));
  return total;
}

/** Where the caller's memory may start. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
