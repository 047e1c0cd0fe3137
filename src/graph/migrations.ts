/**
 * Older file versions migrate one version at a time: migration N turns a version N file into version N + 1.
 * Version 0 is the draft format used before 1.0: edges written as {"from": "node.port", "to": "node.port"}
 * and the epoch count at the top level. Version 1 drew `randn`/`rand` from gradwire's own generator, in any
 * float dtype; version 2 draws them from PyTorch's generator (the same seed gives torch's values) in float32 or
 * float64, and adds the data nodes (data sets, csv files). Version 3 adds reusable modules: a `modules` section of
 * definitions and nodes of type `module` that are their instances (src/graph/modules.ts); no older file has
 * either, so the step only raises the version.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function splitEnd(v: Json, path: string): [string, string] {
  if (typeof v !== "string") throw new MigrationError(path, `expected "node.port", got ${JSON.stringify(v)}`);
  const i = v.lastIndexOf(".");
  if (i <= 0 || i === v.length - 1)
    throw new MigrationError(path, `expected "node.port", got ${JSON.stringify(v)}`);
  return [v.slice(0, i), v.slice(i + 1)];
}

const RANDOM_KINDS = new Set(["randn", "rand"]);
function typeName(v: Json): string {
  return v === null
    ? "null"
    : Array.isArray(v)
      ? "a list"
      : typeof v === "object"
        ? "an object"
        : `a ${typeof v}`;
}

/** 2 → 3: the modules section is new and optional, so a version 2 file is a version 3 file without modules. */
function addModulesSection(file: JsonObject): JsonObject {
  return { ...file, version: 3 };
}

const MIGRATIONS: Record<number, (file: JsonObject) => JsonObject> = {
  0: (file) => {
    const { epochs, edges, ...rest } = file;
    if (!Array.isArray(edges))
      throw new MigrationError(
        "edges",
        edges === undefined
          ? "missing (expected a list of edges)"
          : `expected a list of edges, got ${typeName(edges)}`,
      );
    const migrated = edges.map((e, i) => {
      if (e === null || typeof e !== "object" || Array.isArray(e))
        throw new MigrationError(`edges[${i}]`, "expected an object");
      const [source, sourcePort] = splitEnd(e.from, `edges[${i}].from`);
      const [target, targetPort] = splitEnd(e.to, `edges[${i}].to`);
      return { id: typeof e.id === "string" ? e.id : `e_${i + 1}`, source, sourcePort, target, targetPort };
    });
    return {
      ...rest,
      version: 1,
      ...(epochs !== undefined ? { settings: { epochs } } : {}),
      edges: migrated,
    };
  },
  // Torch's generator has no float16 path gradwire reproduces: float16 random tensors become float32 ones
  // (their values change anyway, from gradwire's old generator to torch's).
  1: (file) => {
    const nodes = Array.isArray(file.nodes) ? file.nodes : [];
    return {
      ...file,
      version: 2,
      nodes: nodes.map((n) => {
        if (n === null || typeof n !== "object" || Array.isArray(n) || !RANDOM_KINDS.has(n.type as string))
          return n;
        const params = n.params;
        if (
          params === null ||
          typeof params !== "object" ||
          Array.isArray(params) ||
          params.dtype !== "float16"
        )
          return n;
        return { ...n, params: { ...params, dtype: "float32" } };
      }),
    };
  },
  2: addModulesSection,
};

/** Migrate a parsed file from `from` up to `to`, step by step. */
export function migrate(file: JsonObject, from: number, to: number): JsonObject {
  let cur = file;
  for (let v = from; v < to; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new MigrationError("version", `no migration from version ${v} to ${v + 1}`);
    cur = step(cur);
  }
  return cur;
}
