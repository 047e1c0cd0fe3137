/** The node kind registry: every kind by its PyTorch name, grouped by family for the palette. */
import { FAMILIES, type Family, type KindSample, type NodeKind } from "./types.ts";

/** Identity, for type checking a declaration where it is written. */
export function defineKind(kind: NodeKind): NodeKind {
  return kind;
}

/** A kind made by a family's helper (binaryKind("add")...), with its parity samples. */
export function withSamples(kind: NodeKind, samples: KindSample[]): NodeKind {
  return { ...kind, samples };
}

export class Registry {
  private readonly kinds = new Map<string, NodeKind>();

  constructor(kinds: readonly NodeKind[] = []) {
    for (const k of kinds) this.register(k);
  }

  register(kind: NodeKind): void {
    if (this.kinds.has(kind.type)) throw new Error(`node kind '${kind.type}' is declared twice`);
    const names = new Set<string>();
    for (const p of [...kind.inputs.map((i) => i.name), ...kind.params.map((p) => p.name)]) {
      if (names.has(p) && !kind.inputs.some((i) => i.scalarParam === p))
        throw new Error(`node kind '${kind.type}' declares '${p}' twice`);
      names.add(p);
    }
    this.kinds.set(kind.type, kind);
  }

  get(type: string): NodeKind | undefined {
    return this.kinds.get(type);
  }

  has(type: string): boolean {
    return this.kinds.has(type);
  }

  list(): NodeKind[] {
    return [...this.kinds.values()];
  }

  types(): string[] {
    return [...this.kinds.keys()];
  }

  byFamily(): Map<Family, NodeKind[]> {
    const m = new Map<Family, NodeKind[]>(FAMILIES.map((f) => [f, []]));
    for (const k of this.kinds.values()) m.get(k.family)?.push(k);
    return m;
  }

  /**
   * The closest known type to a misspelt one, for "did you mean" messages; only a close one: at most one edit
   * (a letter added, dropped, changed, or two swapped) per three letters of the longer name, so 'msel_loss'
   * suggests 'mse_loss' but 'nope' does not suggest 'ne'.
   */
  suggest(type: string): string | undefined {
    let best: string | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    const typed = type.toLowerCase();
    for (const t of this.kinds.keys()) {
      const d = editDistance(typed, t.toLowerCase());
      if (d <= Math.floor(Math.max(type.length, t.length) / 3) && d < bestD) {
        bestD = d;
        best = t;
      }
    }
    return best;
  }
}

/** Edits from a to b: insertions, deletions, substitutions and swaps of adjacent letters. */
function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}
