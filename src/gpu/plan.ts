/**
 * Kernel planning: which values are written to memory, and which kernel computes what.
 *
 * Elementwise (map) values are computed inside the kernels that read them whenever they are read at the
 * reader's own element (same shape, no view): chains fuse, a reduction evaluates its input expression as it
 * reads (prologue), and a map value read only by one kernel right after a reduction, matmul or softmax is
 * computed in that producer's kernel (epilogue). A cheap map value read by several kernels is recomputed in
 * each rather than stored. Independent reductions over the same elements share one pass over memory, and
 * independent map kernels over the same shape share a dispatch.
 */
import { sameShape } from "../runtime/shape.ts";
import { accessOf, type Node, topoOrder } from "./ir.ts";

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

/** Values that never need a kernel: leaves are memory, fills are literals, views are other values' memory. */
export function isFree(n: Node): boolean {
  return n.isLeaf || n.isView || n.op.k === "fill";
}

/** Whether `consumer` reads its input `k` at its own element, so the input can be computed inline. */
export function isDirect(consumer: Node, k: number): boolean {
  const input = consumer.inputs[k];
  if (isFree(input)) return false;
  if (consumer.op.k === "reduce") return true;
  if (!consumer.isMap) return false;
  const op = consumer.op.k;
  if (op === "take" || op === "pad" || op === "cat") return false;
  return sameShape(input.shape, consumer.shape);
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
      if (input.isView) {
        const base = accessOf(input)?.base;
        if (base && !isFree(base)) indirect.add(base);
      } else if (!isFree(input) && !isDirect(n, k)) indirect.add(input);
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
    n.inputs.forEach((input, k) => {
      if (isDirect(n, k) && !M.has(input)) c += cost.get(input) ?? 1;
    });
    cost.set(n, c);
    const readers = new Set((consumers.get(n) ?? []).map((e) => e.node));
    if (readers.size > 1 && c > RECOMPUTE_LIMIT) M.add(n);
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

  // Epilogue fusion: a producer read only by one map kernel, at that kernel's own elements.
  for (const P of order) {
    if (!P.isProducer || !M.has(P) || rootSet.has(P) || pinned.has(P)) continue;
    const KP = info.owner.get(P);
    const loaders = info.loaders.get(P) ?? new Set<Kernel>();
    if (!KP || loaders.size !== 1) continue;
    const [K] = [...loaders];
    if (K.kind !== "map" || K.cores.length > 0 || !sameShape(K.space, P.shape)) continue;
    if (!info.directOnly(K, P)) continue;
    const deps = info.deps.get(K) ?? new Set<Kernel>();
    if ([...deps].some((J) => J !== KP && info.reaches(J, KP))) continue;
    K.kind = kindOf(P);
    K.cores = [P];
    kernels = kernels.filter((k) => k !== KP);
    M.delete(P);
    info = analysis();
  }

  // Horizontal fusion: independent kernels over the same elements share a pass.
  const mergeable = (a: Kernel, b: Kernel): boolean => {
    if (a.kind !== b.kind) return false;
    if (a.kind === "map") return sameShape(a.space, b.space);
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
  /** Whether every read K makes of P is at K's own element. */
  directOnly(K: Kernel, P: Node): boolean;
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
  const read = (input: Node, direct: boolean) => {
    if (cores.has(input) && direct) return;
    if (direct && !M.has(input) && input.isMap && !isFree(input)) visit(input);
    else if (input.isView) {
      const base = accessOf(input)?.base;
      if (base) loads.add(base);
    } else loads.add(input);
  };
  for (const s of K.stores) if (!cores.has(s)) visit(s);
  for (const c of K.cores)
    c.inputs.forEach((input, k) => {
      read(input, isDirect(c, k));
    });
  while (stack.length) {
    const n = stack.pop() as Node;
    n.inputs.forEach((input, k) => {
      read(input, isDirect(n, k));
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
    directOnly: (K, P) => {
      const r = reads.get(K);
      if (!r) return false;
      for (const n of r.inline)
        for (const [k, input] of n.inputs.entries()) {
          if (input === P && !isDirect(n, k)) return false;
          if (input.isView && accessOf(input)?.base === P) return false;
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
