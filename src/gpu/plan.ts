/**
 * Kernel planning: which values are written to memory, and which kernel computes what.
 *
 * Elementwise (map) values are computed inside the kernels that read them whenever they are read at the
 * reader's own element (the same row-major index, through reshapes): chains fuse, and a reduction evaluates
 * its input expression as it reads (prologue). A map kernel over as many elements as a kernel it reads, and
 * reading it only at its own elements, is merged into that kernel (an elementwise chain, or an epilogue after
 * a reduction, matmul or softmax); its values are stored only where some other kernel still reads them. A cheap map value read by several kernels is recomputed in
 * each rather than stored. Independent reductions over the same elements share one pass over memory, and
 * independent map kernels over the same shape share a dispatch.
 */
import { numel, sameShape } from "../runtime/shape.ts";
import { accessOf, type MapOp, type Node, topoOrder } from "./ir.ts";

export type KernelKind = "map" | "reduce" | "matmul" | "lane" | "argreduce" | "segsum";

export interface Kernel {
  kind: KernelKind;
  /** The producer ops at the kernel's core (several only for horizontally fused reductions). */
  cores: Node[];
  /** Values the kernel writes to memory. */
  stores: Node[];
  /** The output iteration space. */
  space: readonly number[];
}

export interface Plan {
  kernels: Kernel[];
  /** Non-leaf values that live in memory. */
  materialized: Set<Node>;
}

/** A map value read by several kernels is recomputed in each when its expression is at most this big. */
const RECOMPUTE_LIMIT = 12;
const MAX_FUSED_REDUCTIONS = 8;

/**
 * Map ops that read their inputs at elements they compute themselves (gathers, windows), not at their own. Typed
 * by the IR's map ops, so a name here that the IR does not have is a compile error.
 */
export const SELF_LOADING: ReadonlySet<string> = new Set<MapOp["k"]>([
  "take",
  "pad",
  "cat",
  "maxpool",
  "unpool",
  "avgpool",
  "unavg",
  "unfold",
  "fold",
]);

/** Values that never need a kernel: leaves are memory, fills are literals, views are other values' memory. */
export function isFree(n: Node): boolean {
  return n.isLeaf || n.isView || n.op.k === "fill";
}

/** Follow reshape views down to the value they reinterpret (same elements, same row-major order). */
export function throughReshapes(n: Node): Node {
  let cur = n;
  while (cur.op.k === "reshape") cur = cur.inputs[0];
  return cur;
}

/**
 * The value `consumer` reads as its input `k` at its own element (the same row-major index, looking through
 * reshapes), so that value can be computed inline; null when the read is elsewhere (broadcast, transpose,
 * gather) or the input needs no computing.
 */
export function directInput(consumer: Node, k: number): Node | null {
  const input = consumer.inputs[k];
  const op = consumer.op.k;
  if (op === "custom" && k > 0) return null;
  if (op !== "reduce" && (!consumer.isMap || SELF_LOADING.has(op))) return null;
  if (op !== "reduce" && input.numel !== consumer.numel) return null;
  const base = throughReshapes(input);
  if (isFree(base)) return null;
  return base;
}

/** Inputs a node lists but never reads (a custom function's inputs, there for its gradient). */
export function ignored(n: Node, k: number): boolean {
  return n.op.k === "custom" && k > 0;
}

/** Whether `consumer` reads its input `k` at its own element (directInput found a value to inline). */
export function isDirect(consumer: Node, k: number): boolean {
  return directInput(consumer, k) !== null;
}

/**
 * Inputs a kernel core reads at computed indices that may still be evaluated inline there: the gradient a
 * segment sum gathers (each element is read about once, so recomputing it costs nothing).
 */
export function dynamicInput(consumer: Node, k: number): Node | null {
  if (consumer.op.k !== "segsum" || k !== 0) return null;
  const g = consumer.inputs[0];
  return g.isMap && !isFree(g) ? g : null;
}

function kindOf(core: Node): KernelKind {
  return core.op.k as KernelKind;
}

export function planKernels(roots: readonly Node[], pinned: ReadonlySet<Node>): Plan {
  const order = topoOrder([...roots]);
  const rootSet = new Set(roots);
  const consumers = new Map<Node, { node: Node; k: number }[]>();
  for (const n of order)
    n.inputs.forEach((i, k) => {
      const list = consumers.get(i);
      if (list) list.push({ node: n, k });
      else consumers.set(i, [{ node: n, k }]);
    });

  // Values read somewhere other than at the reader's own element must be in memory.
  const indirect = new Set<Node>();
  for (const n of order)
    n.inputs.forEach((input, k) => {
      if (isDirect(n, k) || dynamicInput(n, k) || ignored(n, k)) return;
      const base = input.isView ? accessOf(input)?.base : input;
      if (base && !isFree(base)) indirect.add(base);
    });

  const M = new Set<Node>();
  const cost = new Map<Node, number>();
  for (const n of order) {
    if (isFree(n)) continue;
    if (rootSet.has(n) || pinned.has(n) || n.isProducer || indirect.has(n)) {
      M.add(n);
      continue;
    }
    let c = 1;
    n.inputs.forEach((_, k) => {
      const d = directInput(n, k);
      if (d && !M.has(d)) c += cost.get(d) ?? 1;
    });
    cost.set(n, c);
    const readers = new Set((consumers.get(n) ?? []).map((e) => e.node));
    // Recomputing a value that reads a producer elsewhere would make the producer a stored value of its
    // own; storing this value instead lets the producer's kernel compute it as an epilogue.
    const readsProducer = n.inputs.some((_, k) => directInput(n, k)?.isProducer);
    if (readers.size > 1 && (c > RECOMPUTE_LIMIT || readsProducer)) M.add(n);
  }

  // One kernel per materialized value to start with.
  let kernels: Kernel[] = [];
  for (const n of order)
    if (M.has(n))
      kernels.push(
        n.isProducer
          ? { kind: kindOf(n), cores: [n], stores: [n], space: n.shape }
          : { kind: "map", cores: [], stores: [n], space: n.shape },
      );

  const analysis = () => analyse(kernels, M);
  let info = analysis();

  // Vertical fusion: a map kernel that reads another kernel's values only at its own elements, over the same
  // elements, is computed inside that kernel (an elementwise chain, or an epilogue after a reduction, matmul
  // or softmax). A value no other kernel reads then needs no memory at all.
  for (let changed = true; changed; ) {
    changed = false;
    for (const B of kernels) {
      if (B.kind !== "map" || B.cores.length > 0) continue;
      const deps = info.deps.get(B) ?? new Set<Kernel>();
      const A = [...deps].find(
        (A) =>
          numel(A.space) === numel(B.space) &&
          info.readsOnlyDirect(B, A) &&
          ![...deps].some((J) => J !== A && info.reaches(A, J)),
      );
      if (!A) continue;
      A.stores.push(...B.stores);
      kernels = kernels.filter((k) => k !== B);
      info = analysis();
      const unread = A.stores.filter((s) => {
        const readers = info.loaders.get(s);
        return !rootSet.has(s) && !pinned.has(s) && (!readers || readers.size === 0);
      });
      if (unread.length > 0) {
        A.stores = A.stores.filter((x) => !unread.includes(x));
        for (const s of unread) M.delete(s);
        info = analysis();
      }
      changed = true;
      break;
    }
  }

  // Horizontal fusion: independent kernels over the same elements share a pass.
  const mergeable = (a: Kernel, b: Kernel): boolean => {
    if (a.kind !== b.kind) return false;
    if (a.kind === "map") return numel(a.space) === numel(b.space);
    if (a.kind !== "reduce" || a.cores.length + b.cores.length > MAX_FUSED_REDUCTIONS) return false;
    const ra = a.cores[0];
    const rb = b.cores[0];
    return (
      sameShape(ra.inputs[0].shape, rb.inputs[0].shape) &&
      sameShape(a.space, b.space) &&
      ra.op.k === "reduce" &&
      rb.op.k === "reduce" &&
      ra.op.dims.join() === rb.op.dims.join()
    );
  };
  for (let i = 0; i < kernels.length; i++)
    for (let j = i + 1; j < kernels.length; j++) {
      const a = kernels[i];
      const b = kernels[j];
      if (!mergeable(a, b) || info.reaches(a, b) || info.reaches(b, a)) continue;
      a.cores.push(...b.cores);
      a.stores.push(...b.stores);
      kernels.splice(j, 1);
      j--;
      info = analysis();
    }

  return { kernels: sortKernels(kernels, info), materialized: M };
}

interface Analysis {
  /** The kernel that stores each materialized value. */
  owner: Map<Node, Kernel>;
  /** Kernels that read each materialized value from memory. */
  loaders: Map<Node, Set<Kernel>>;
  deps: Map<Kernel, Set<Kernel>>;
  reaches(from: Kernel, to: Kernel): boolean;
  /** Whether every value `B` reads from `A` it reads at its own element (so B can run inside A). */
  readsOnlyDirect(B: Kernel, A: Kernel): boolean;
}

/** The map nodes a kernel computes, and the values it reads from memory. */
export function kernelReads(K: Kernel, M: ReadonlySet<Node>): { inline: Set<Node>; loads: Set<Node> } {
  const inline = new Set<Node>();
  const loads = new Set<Node>();
  const cores = new Set(K.cores);
  const stack: Node[] = [];
  const visit = (n: Node) => {
    if (!inline.has(n)) {
      inline.add(n);
      stack.push(n);
    }
  };
  const own = new Set(K.stores);
  const read = (n: Node, k: number) => {
    if (ignored(n, k)) return;
    const direct = directInput(n, k) ?? dynamicInput(n, k);
    if (direct && cores.has(direct)) return;
    if (direct?.isMap && (!M.has(direct) || own.has(direct))) {
      visit(direct);
      return;
    }
    const input = n.inputs[k];
    const base = input.isView ? accessOf(input)?.base : input;
    if (base) loads.add(base);
  };
  for (const s of K.stores) if (!cores.has(s)) visit(s);
  for (const c of K.cores)
    c.inputs.forEach((_, k) => {
      read(c, k);
    });
  while (stack.length) {
    const n = stack.pop() as Node;
    n.inputs.forEach((_, k) => {
      read(n, k);
    });
  }
  return { inline, loads };
}

function analyse(kernels: Kernel[], M: ReadonlySet<Node>): Analysis {
  const owner = new Map<Node, Kernel>();
  for (const K of kernels) for (const s of K.stores) owner.set(s, K);
  const loaders = new Map<Node, Set<Kernel>>();
  const deps = new Map<Kernel, Set<Kernel>>();
  const reads = new Map<Kernel, { inline: Set<Node>; loads: Set<Node> }>();
  for (const K of kernels) {
    const r = kernelReads(K, M);
    reads.set(K, r);
    const d = new Set<Kernel>();
    for (const l of r.loads) {
      const set = loaders.get(l) ?? new Set<Kernel>();
      set.add(K);
      loaders.set(l, set);
      const o = owner.get(l);
      if (o && o !== K) d.add(o);
    }
    deps.set(K, d);
  }
  const memo = new Map<Kernel, Set<Kernel>>();
  const closure = (K: Kernel): Set<Kernel> => {
    const hit = memo.get(K);
    if (hit) return hit;
    const out = new Set<Kernel>();
    memo.set(K, out);
    for (const d of deps.get(K) ?? []) {
      out.add(d);
      for (const x of closure(d)) out.add(x);
    }
    return out;
  };
  return {
    owner,
    loaders,
    deps,
    // `to` depends on `from`.
    reaches: (from, to) => closure(to).has(from),
    readsOnlyDirect: (B, A) => {
      const r = reads.get(B);
      if (!r) return false;
      const stored = new Set(A.stores);
      for (const n of r.inline)
        for (const [k, input] of n.inputs.entries()) {
          if (isDirect(n, k)) continue;
          const base = input.isView ? accessOf(input)?.base : input;
          if (base && stored.has(base)) return false;
        }
      return true;
    },
  };
}

/** Kernels in dependency order (ties keep planning order, which follows the graph's topological order). */
function sortKernels(kernels: Kernel[], info: Analysis): Kernel[] {
  const out: Kernel[] = [];
  const done = new Set<Kernel>();
  const visit = (K: Kernel) => {
    if (done.has(K)) return;
    done.add(K);
    for (const d of info.deps.get(K) ?? []) visit(d);
    out.push(K);
  };
  for (const K of kernels) visit(K);
  return out;
}
