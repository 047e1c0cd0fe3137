/**
 * From IR to a GPU program description (no GPU needed): simplified IR, planned kernels, an arena layout with
 * persistent regions (parameters, gradients, optimizer state, constants, outputs, per-epoch records) and
 * lifetime-planned temporaries, and the WGSL of every pass.
 *
 * Arena layout, in f32 elements:
 *   params | grads | optimizer states | constants | outputs | records | temporaries
 */
import { numel } from "../runtime/shape.ts";
import type { Builder } from "./builder.ts";
import { copyPass, generateKernel, gridFor, type Pass, scratchSize } from "./codegen.ts";
import { GpuError, nodeRef } from "./errors.ts";
import { type Node, topoOrder } from "./ir.ts";
import { type OptimKernelSpec, optimizerWgsl } from "./optim.ts";
import { isFree, type Kernel, kernelReads, planKernels } from "./plan.ts";
import { simplify } from "./simplify.ts";
import { preludeFor } from "./wgsl.ts";

export interface GroupSpec {
  /** The optimizer's name (its spec's, torch.optim's). */
  kind: string;
  /** The leaf slots it trains (contiguous, in slot order). */
  slots: number[];
  states: { name: string; init: number }[];
  /** Values that must be finite for the step to happen (this group's loss and the objective). */
  guards: Node[];
}

export interface ProgramSpec {
  /** Shapes of the GPU-resident leaves, by slot. */
  leafShapes: (readonly number[])[];
  /** Values read back after each run (the objective, eval outputs). */
  outputs: Node[];
  /** The new gradient of each slot (written to its gradient buffer), or null. */
  grads: (Node | null)[];
  groups: GroupSpec[];
  /**
   * Per-epoch records: a header of values (the objective, then each group's loss) and the slots whose values
   * and gradients are recorded each epoch.
   */
  records: { header: Node[]; slots: number[] } | null;
  /** Epochs one batch can record. */
  maxBatch: number;
  /**
   * State written in place each epoch (batch_norm's running statistics): the slot's new value, copied into the
   * slot's region after every kernel has read the old one.
   */
  stateWrites?: { slot: number; value: Node }[];
}

export interface Region {
  offset: number;
  size: number;
}

export interface CompiledPass extends Pass {
  /** What the pass computes, for messages: the graph nodes. */
  scopes: string[];
  /** Reads the per-epoch uniform slot (optimizer steps). */
  uniforms: boolean;
}

export interface CompiledProgram {
  passes: CompiledPass[];
  /** Total arena elements. */
  size: number;
  params: Region[];
  grads: Region[];
  /** Per group, per state: region of the group's elements. */
  states: Region[][];
  /** Constant data to upload. */
  constants: { offset: number; data: Float32Array | Int32Array }[];
  /** Where each output is, in order. */
  outputs: Region[];
  records: {
    base: number;
    /** Floats per epoch. */
    size: number;
    header: number[];
    /**
     * Where in each epoch's record the optimizer steps flag a NaN or infinite gradient (1; the runner zeroes
     * the records before each batch): such an epoch's step must be undone.
     */
    flag: number;
    slots: { slot: number; at: number; size: number }[];
  } | null;
  /** The largest single value and its node, for limit messages. */
  largest: { node: Node | null; elements: number };
  kernels: number;
}

export function compileProgram(b: Builder, spec: ProgramSpec): CompiledProgram {
  const sizes = spec.leafShapes.map((s) => numel(s));
  const paramOffsets: number[] = [];
  let cursor = 0;
  for (const n of sizes) {
    paramOffsets.push(cursor);
    cursor += n;
  }
  const paramTotal = cursor;
  const params = sizes.map((size, i) => ({ offset: paramOffsets[i], size }));
  const grads = sizes.map((size, i) => ({ offset: paramTotal + paramOffsets[i], size }));
  cursor = 2 * paramTotal;
  const states = spec.groups.map((g) => {
    const count = g.slots.reduce((s, k) => s + sizes[k], 0);
    return g.states.map(() => {
      const r = { offset: cursor, size: count };
      cursor += count;
      return r;
    });
  });

  // Simplify everything the program computes, then give roots that are not kernel outputs a copy.
  const guardNodes = spec.groups.flatMap((g) => g.guards);
  const recordNodes = spec.records ? spec.records.header : [];
  const rawRoots = [
    ...spec.outputs,
    ...spec.grads.filter((g): g is Node => g !== null),
    ...guardNodes,
    ...recordNodes,
    ...(spec.stateWrites ?? []).map((w) => w.value),
  ];
  const simplified = simplify(b, rawRoots);
  const remap = new Map<Node, Node>();
  rawRoots.forEach((r, i) => {
    remap.set(r, simplified[i]);
  });
  const pinned = new Map<Node, number>();
  const used = new Set<Node>();
  const materialize = (n: Node): Node => {
    if (!isFree(n) && !used.has(n)) {
      used.add(n);
      return n;
    }
    b.scope = n.scope;
    b.what = n.what;
    const c = b.map({ k: "copy" }, [n], n.shape, n.dtype);
    used.add(c);
    return c;
  };
  const gradRoots = spec.grads.map((g, slot) => {
    if (!g) return null;
    const n = materialize(remap.get(g) as Node);
    pinned.set(n, grads[slot].offset);
    return n;
  });
  const extra = new Map<Node, Node>();
  const rootOf = (n: Node): Node => {
    const s = remap.get(n) as Node;
    const hit = extra.get(s);
    if (hit) return hit;
    const m = isFree(s) || pinned.has(s) ? materialize(s) : s;
    used.add(m);
    extra.set(s, m);
    return m;
  };
  const outputRoots = spec.outputs.map(rootOf);
  const guardRoots = spec.groups.map((g) => g.guards.map(rootOf));
  const headerRoots = spec.records ? spec.records.header.map(rootOf) : [];
  const stateRoots = (spec.stateWrites ?? []).map((w) => rootOf(w.value));
  const roots = [
    ...outputRoots,
    ...gradRoots.filter((g): g is Node => g !== null),
    ...guardRoots.flat(),
    ...headerRoots,
    ...stateRoots,
  ];

  const plan = planKernels(roots, new Set(pinned.keys()));
  const offsets = new Map<Node, number>();
  let largest: { node: Node | null; elements: number } = { node: null, elements: Math.max(0, ...sizes) };
  const note = (n: Node, elements: number) => {
    if (elements > largest.elements) largest = { node: n, elements };
  };

  // Leaves: params, gradient buffers and constants.
  const constants: CompiledProgram["constants"] = [];
  for (const n of topoOrder(roots)) {
    if (n.op.k === "param") offsets.set(n, params[n.op.slot].offset);
    else if (n.op.k === "grad") offsets.set(n, grads[n.op.slot].offset);
    else if (n.op.k === "const" || n.op.k === "iconst") {
      offsets.set(n, cursor);
      constants.push({ offset: cursor, data: n.op.data });
      note(n, n.op.data.length);
      cursor += n.op.data.length;
    }
  }
  for (const [n, off] of pinned) offsets.set(n, off);
  const outputs: Region[] = [];
  const persistent = new Set<Node>();
  for (const n of new Set([...outputRoots, ...guardRoots.flat(), ...headerRoots, ...stateRoots])) {
    if (offsets.has(n)) continue;
    offsets.set(n, cursor);
    persistent.add(n);
    note(n, n.numel);
    cursor += n.numel;
  }
  for (const n of outputRoots) outputs.push({ offset: offsets.get(n) as number, size: n.numel });

  // Records: per epoch the objective, the bad-gradient flag, then each recorded slot's values and gradients.
  let records: CompiledProgram["records"] = null;
  if (spec.records) {
    const flag = headerRoots.length;
    let at = flag + 1;
    const slots = spec.records.slots.map((slot) => {
      const r = { slot, at, size: sizes[slot] };
      at += 2 * sizes[slot];
      return r;
    });
    records = {
      base: cursor,
      size: at,
      header: headerRoots.map((n) => offsets.get(n) as number),
      flag,
      slots,
    };
    cursor += at * spec.maxBatch;
  }

  // Temporaries: each lives from the kernel that stores it to the last kernel that reads it.
  const order = plan.kernels;
  const lastUse = new Map<Node, number>();
  order.forEach((K, i) => {
    for (const l of kernelReads(K, plan.materialized).loads) lastUse.set(l, i);
  });
  const temps: { node: Node | null; kernel: number; size: number; from: number; to: number }[] = [];
  order.forEach((K, i) => {
    for (const s of K.stores)
      if (!offsets.has(s))
        temps.push({ node: s, kernel: i, size: s.numel, from: i, to: lastUse.get(s) ?? i });
    const scratch = scratchSize(K);
    if (scratch > 0) temps.push({ node: null, kernel: i, size: scratch, from: i, to: i });
  });
  const tempBase = cursor;
  const placed: { offset: number; size: number; to: number }[] = [];
  const scratchOf = new Map<Kernel, number>();
  let top = 0;
  for (const t of temps) {
    const live = placed.filter((p) => p.to >= t.from).sort((a, c) => a.offset - c.offset);
    let off = 0;
    for (const p of live) {
      if (off + t.size <= p.offset) break;
      off = Math.max(off, p.offset + p.size);
    }
    placed.push({ offset: off, size: t.size, to: t.to });
    top = Math.max(top, off + t.size);
    if (t.node) {
      offsets.set(t.node, tempBase + off);
      note(t.node, t.size);
    } else scratchOf.set(order[t.kernel], tempBase + off);
  }
  cursor = tempBase + top;

  const layout = {
    offsetOf(n: Node): number {
      const off = offsets.get(n);
      if (off === undefined) throw new Error(`internal: no memory for ${n.what} (${n.op.k})`);
      return off;
    },
  };
  const passes: CompiledPass[] = [];
  for (const K of order) {
    const code = generateKernel(K, plan.materialized, layout, scratchOf.get(K) ?? 0);
    for (const p of code.passes) passes.push({ ...p, scopes: code.scopes, uniforms: false });
  }

  // New state into its slots, after every kernel (the old value is read until here), before the steps.
  (spec.stateWrites ?? []).forEach((w, i) => {
    passes.push({
      ...copyPass(offsets.get(stateRoots[i]) as number, params[w.slot].offset, sizes[w.slot]),
      scopes: [stateRoots[i].scope ?? "state"],
      uniforms: false,
    });
  });

  // Optimizer steps, after every gradient.
  spec.groups.forEach((g, gi) => {
    const first = g.slots[0];
    const count = g.slots.reduce((s, k) => s + sizes[k], 0);
    const ranges =
      records?.slots
        .filter((r) => g.slots.includes(r.slot))
        .map((r) => {
          const start = paramOffsets[r.slot] - paramOffsets[first];
          return { start, end: start + r.size, at: r.at };
        }) ?? [];
    const kspec: OptimKernelSpec = {
      kind: g.kind,
      count,
      paramOffset: params[first].offset,
      gradOffset: grads[first].offset,
      stateOffsets: states[gi].map((r) => r.offset),
      guards: guardRoots[gi].map((n) => offsets.get(n) as number),
      records: {
        base: records?.base ?? 0,
        size: records?.size ?? 0,
        header: gi === 0 && records ? records.header : null,
        flag: records ? records.flag : null,
        ranges,
      },
    };
    passes.push({
      wgsl: optimizerWgsl(kspec, preludeFor),
      groups: gridFor(Math.ceil(count / 256)),
      scopes: [`${g.kind} step`],
      uniforms: true,
    });
  });

  return {
    passes,
    size: Math.max(cursor, 1),
    params,
    grads,
    states,
    constants,
    outputs,
    records,
    largest,
    kernels: order.length,
  };
}

/** A message for a program that does not fit the device. */
export function limitMessage(prog: CompiledProgram, limitBytes: number): GpuError {
  const node = prog.largest.node;
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`;
  const where = node
    ? `${nodeRef(node.scope)} (${node.what}, ${node.numel} elements, ${mb(node.numel * 4)})`
    : "the graph";
  return new GpuError(
    "limits",
    `the graph needs ${mb(prog.size * 4)} of GPU memory in one buffer, more than this device allows (${mb(limitBytes)}); the largest value is ${where}`,
    node?.scope ?? null,
  );
}
