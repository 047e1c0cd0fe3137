/**
 * The WebAssembly matrix product (simd/assembly/matmul.ts) against the JavaScript forms (fused/matmul.ts),
 * bit for bit: random shapes, strided and transposed operands, zeros, infinities and NaN.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  jsForm,
  mmStrided,
  mmStridedBatched,
  type Operand,
  setSimdMinTerms,
} from "../../src/runtime/fused/matmul.ts";
import { Rng } from "../../src/runtime/index.ts";
import { loadedKernels, setSimdEnabled, sharedArena, simdStatus } from "../../src/runtime/simd/module.ts";

/** A float32 value: mostly normal, with zeros (both signs) and, where asked, infinities and NaN. */
function value(rng: Rng, special: boolean): number {
  const u = rng.next();
  if (u < 0.15) return u < 0.1 ? 0 : -0;
  if (special && u < 0.2)
    return [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN][Math.floor(rng.next() * 3)];
  return Math.fround(rng.normal() * 10 ** Math.floor(rng.next() * 6 - 3));
}

/** An operand of `rows` x `cols` values at random strides (row-major, column-major or padded) and offset. */
function operand(rng: Rng, rows: number, cols: number, special: boolean): Operand {
  const layout = Math.floor(rng.next() * 3);
  const offset = Math.floor(rng.next() * 3);
  const pad = Math.floor(rng.next() * 3);
  const [rowStride, colStride] = layout === 0 ? [cols, 1] : layout === 1 ? [1, rows] : [cols + pad, 1];
  const len = offset + (rows - 1) * rowStride + (cols - 1) * colStride + 1 + pad;
  const data = new Float32Array(len);
  for (let i = 0; i < len; i++) data[i] = value(rng, special);
  return { data, offset, rowStride, colStride };
}

function both(L: Operand, R: Operand, m: number, k: number, n: number): [Float32Array, Float32Array] {
  const co = 3;
  const want = new Float32Array(co + m * n + 2).fill(7);
  jsForm(L, R, m, k, n, want, co);
  const got = new Float32Array(co + m * n + 2).fill(7);
  mmStrided(L, R, m, k, n, got, co);
  return [got, want];
}

/** The operands' values one after another, `step` apart, each in the first operand's layout. */
function stacked(ops: Operand[], rows: number, cols: number, step: number): Operand {
  const { offset, rowStride, colStride } = ops[0];
  const data = new Float32Array(ops.length * step);
  ops.forEach((op, b) => {
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        data[b * step + offset + i * rowStride + j * colStride] =
          op.data[op.offset + i * op.rowStride + j * op.colStride];
  });
  return { data, offset, rowStride, colStride };
}

describe.each([true, false])("matrix product, SIMD %s", (on) => {
  let old = 0;
  beforeAll(() => {
    setSimdEnabled(on);
    old = setSimdMinTerms(0);
  });
  afterAll(() => {
    setSimdEnabled(true);
    setSimdMinTerms(old);
  });

  it("uses the kernels when switched on", () => {
    expect(simdStatus().active).toBe(on);
  });

  it("equals the JavaScript forms bit for bit on random shapes and layouts", () => {
    const rng = new Rng(7);
    for (let t = 0; t < 400; t++) {
      const m = 1 + Math.floor(rng.next() * 13);
      const k = 1 + Math.floor(rng.next() * (t % 4 === 0 ? 1 : 40));
      const n = 1 + Math.floor(rng.next() * (t % 2 ? 9 : 21));
      const L = operand(rng, m, k, false);
      const R = operand(rng, k, n, false);
      const [got, want] = both(L, R, m, k, n);
      expect(got, `${m}x${k} @ ${k}x${n}`).toEqual(want);
    }
  });

  it("matches with infinities and NaN in either operand (0 * inf skipped)", () => {
    const rng = new Rng(11);
    for (let t = 0; t < 200; t++) {
      const m = 1 + Math.floor(rng.next() * 9);
      const k = 1 + Math.floor(rng.next() * 12);
      const n = 1 + Math.floor(rng.next() * 9);
      const L = operand(rng, m, k, t % 2 === 0);
      const R = operand(rng, k, n, true);
      const [got, want] = both(L, R, m, k, n);
      expect(got, `${m}x${k} @ ${k}x${n}`).toEqual(want);
    }
  });

  it("a zero left factor times infinity contributes nothing", () => {
    const L: Operand = { data: Float32Array.from([0, 2, -0, 1]), offset: 0, rowStride: 2, colStride: 1 };
    const R: Operand = {
      data: Float32Array.from([Number.POSITIVE_INFINITY, 1, 3, 4]),
      offset: 0,
      rowStride: 2,
      colStride: 1,
    };
    const out = new Float32Array(4);
    mmStrided(L, R, 2, 2, 2, out, 0);
    expect(Array.from(out)).toEqual([6, 8, 3, 4]);
  });

  it("an empty inner dimension gives zeros", () => {
    const empty: Operand = { data: new Float32Array(0), offset: 0, rowStride: 0, colStride: 1 };
    const out = new Float32Array(6).fill(7);
    mmStrided(empty, empty, 2, 0, 3, out, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("a batch of products equals each product alone, specials and strided layouts included", () => {
    const rng = new Rng(13);
    for (let t = 0; t < 60; t++) {
      const batch = 1 + Math.floor(rng.next() * 5);
      const m = 1 + Math.floor(rng.next() * 9);
      const k = 1 + Math.floor(rng.next() * 12);
      const n = 1 + Math.floor(rng.next() * 9);
      // Batch b reads each operand shifted by a whole operand's span (the layouts bmm and conv2d give).
      const ops = Array.from({ length: batch }, () => [
        operand(rng, m, k, t % 3 === 0),
        operand(rng, k, n, t % 2 === 0),
      ]);
      const lStep = Math.max(...ops.map(([l]) => l.data.length));
      const rStep = Math.max(...ops.map(([, r]) => r.data.length));
      const L = stacked(
        ops.map(([l]) => l),
        m,
        k,
        lStep,
      );
      const R = stacked(
        ops.map(([, r]) => r),
        k,
        n,
        rStep,
      );
      const want = new Float32Array(batch * m * n);
      for (let b = 0; b < batch; b++)
        jsForm(
          { ...L, offset: L.offset + b * lStep },
          { ...R, offset: R.offset + b * rStep },
          m,
          k,
          n,
          want,
          b * m * n,
        );
      const got = new Float32Array(batch * m * n);
      mmStridedBatched(L, R, m, k, n, batch, lStep, rStep, got);
      expect(got, `${batch} x ${m}x${k} @ ${k}x${n}`).toEqual(want);
    }
  });

  it("operands lying in the kernels' memory (a pending gradient's view) are read in place, left intact", () => {
    const rng = new Rng(19);
    const [batch, m, k, n] = [6, 8, 64, 9];
    const fill = (len: number) => Float32Array.from({ length: len }, () => value(rng, true));
    const L: Operand = { data: fill(batch * m * k), offset: 0, rowStride: k, colStride: 1 };
    const R: Operand = { data: fill(batch * k * n), offset: 0, rowStride: 1, colStride: k };
    const want = new Float32Array(batch * m * n);
    mmStridedBatched(L, R, m, k, n, batch, m * k, k * n, want);
    // Both at the arena's start, where the product's own copies would go if it did not allocate past them.
    const kernels = loadedKernels();
    if (!kernels) throw new Error("the SIMD kernels did not load");
    // Memory grown beforehand, so the product's allocations cannot detach the views checked below.
    sharedArena(kernels).alloc(4 << 20);
    const arena = sharedArena(kernels);
    const pL = arena.alloc(L.data.length * 4);
    const pR = arena.alloc(R.data.length * 4);
    const inL = arena.f32(pL, L.data.length);
    const inR = arena.f32(pR, R.data.length);
    inL.set(L.data);
    inR.set(R.data);
    const got = new Float32Array(batch * m * n);
    mmStridedBatched({ ...L, data: inL }, { ...R, data: inR }, m, k, n, batch, m * k, k * n, got);
    expect(got.findIndex((v, i) => !Object.is(v, want[i]))).toBe(-1);
    expect([inL.length, inR.length]).toEqual([L.data.length, R.data.length]);
    expect(inL.findIndex((v, i) => !Object.is(v, L.data[i]))).toBe(-1);
    expect(inR.findIndex((v, i) => !Object.is(v, R.data[i]))).toBe(-1);
  });

  it("a batch larger than one call takes (several MiB) equals each product alone", () => {
    const rng = new Rng(17);
    const [batch, m, k, n] = [800, 32, 32, 32];
    const fill = (len: number) => Float32Array.from({ length: len }, () => value(rng, false));
    const L: Operand = { data: fill(batch * m * k), offset: 0, rowStride: k, colStride: 1 };
    const R: Operand = { data: fill(batch * k * n), offset: 0, rowStride: 1, colStride: k };
    const want = new Float32Array(batch * m * n);
    for (let b = 0; b < batch; b++)
      jsForm({ ...L, offset: b * m * k }, { ...R, offset: b * k * n }, m, k, n, want, b * m * n);
    const got = new Float32Array(batch * m * n);
    mmStridedBatched(L, R, m, k, n, batch, m * k, k * n, got);
    // The first differing element (NaN equal to NaN, 0 to -0 not): toEqual on 800K elements takes seconds.
    expect(want.findIndex((v, i) => !Object.is(v, got[i]))).toBe(-1);
  });

  it("equals the JavaScript forms on the MLP's shapes", () => {
    const rng = new Rng(3);
    const shapes: [number, number, number, number, number][] = [
      // m, k, n, L layout (0 row-major, 1 transposed), R layout
      [4096, 2, 64, 0, 1],
      [4096, 64, 2, 0, 1],
      [4096, 2, 64, 0, 0],
      [64, 4096, 2, 1, 0],
      [2, 4096, 64, 1, 0],
      [37, 129, 33, 1, 1],
    ];
    for (const [m, k, n, la, ra] of shapes) {
      const mk = (rows: number, cols: number, t: number): Operand => {
        const data = new Float32Array(rows * cols);
        for (let i = 0; i < data.length; i++) data[i] = value(rng, false);
        return t
          ? { data, offset: 0, rowStride: 1, colStride: rows }
          : { data, offset: 0, rowStride: cols, colStride: 1 };
      };
      const [got, want] = both(mk(m, k, la), mk(k, n, ra), m, k, n);
      expect(got, `${m}x${k} @ ${k}x${n}`).toEqual(want);
    }
  });
});
