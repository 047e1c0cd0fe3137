/** Palette grouping and search: what the user types matches names first, then descriptions and groups. */
import type { Family, NodeKind } from "../../nodes/types.ts";

/** The palette's groups, in the order a training graph is built (data → model → ... → optimizer). */
export const PALETTE_GROUPS = [
  "Data",
  "Model",
  "Ops",
  "Activations",
  "Losses",
  "Optimizers",
  "Tools",
] as const;
export type PaletteGroup = (typeof PALETTE_GROUPS)[number];

/** Metrics are tools for looking at a run; the palette files them there rather than adding an eighth group. */
export function groupOf(family: Family): PaletteGroup {
  return family === "Metrics" ? "Tools" : family;
}

export interface PaletteEntry {
  type: string;
  group: PaletteGroup;
  description: string;
}

export function entriesOf(kinds: readonly NodeKind[]): PaletteEntry[] {
  return kinds.map((k) => ({ type: k.type, group: groupOf(k.family), description: k.description }));
}

/** Lower is better; undefined means no match. Case-insensitive; underscores and spaces are interchangeable. */
export function score(e: PaletteEntry, query: string): number | undefined {
  const q = norm(query);
  if (!q) return 0;
  const t = norm(e.type);
  if (t === q) return 0;
  if (t.startsWith(q)) return 1;
  if (t.includes(q)) return 2;
  const words = q.split(" ").filter(Boolean);
  const hay = `${t} ${norm(e.description)} ${norm(e.group)}`;
  if (words.every((w) => hay.includes(w))) return 3;
  if (isSubsequence(q.replaceAll(" ", ""), t)) return 4;
  return undefined;
}

function norm(s: string): string {
  return s.toLowerCase().replaceAll("_", " ").replace(/\s+/g, " ").trim();
}

function isSubsequence(q: string, s: string): boolean {
  let i = 0;
  for (const c of s) if (c === q[i]) i++;
  return i === q.length && q.length > 1;
}

/** Entries grouped in palette order; within a group, best matches first, then registry order. */
export function filterGroups(
  entries: readonly PaletteEntry[],
  query: string,
): [PaletteGroup, PaletteEntry[]][] {
  const scored = entries
    .map((e, i) => ({ e, i, s: score(e, query) }))
    .filter((x): x is { e: PaletteEntry; i: number; s: number } => x.s !== undefined);
  return PALETTE_GROUPS.map((g): [PaletteGroup, PaletteEntry[]] => [
    g,
    scored
      .filter((x) => x.e.group === g)
      .sort((a, b) => a.s - b.s || a.i - b.i)
      .map((x) => x.e),
  ]).filter(([, list]) => list.length > 0);
}

/** The single best match overall, for Enter in the search box. */
export function bestMatch(entries: readonly PaletteEntry[], query: string): PaletteEntry | undefined {
  let best: PaletteEntry | undefined;
  let bestS = Number.POSITIVE_INFINITY;
  for (const e of entries) {
    const s = score(e, query);
    if (s !== undefined && s < bestS) {
      best = e;
      bestS = s;
    }
  }
  return best;
}

export const DRAG_MIME = "application/x-gradwire-kind";
