/**
 * Python variable names for an exported script: made from the graph's node names, never clashing with a
 * keyword, a builtin the script might need, the modules it imports or the names the script itself uses.
 */

const KEYWORDS = `False None True and as assert async await break class continue def del elif else except
finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case
type`;

// Shadowing a builtin is legal but confusing, and breaks the generated code where it calls one (float, range).
const BUILTINS = `abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex
delattr dict dir divmod enumerate eval exec filter float format frozenset getattr globals hasattr hash help hex id
input int isinstance issubclass iter len list locals map max memoryview min next object oct open ord pow print
property range repr reversed round set setattr slice sorted staticmethod str sum super tuple type vars zip`;

/** What the script's own code refers to by name. */
const SCRIPT = `torch F nn math json sys base64 argparse parser args device epoch ctx self`;

const RESERVED = new Set([KEYWORDS, BUILTINS, SCRIPT].flatMap((s) => s.split(/\s+/)));

/** A Python identifier close to `text`: accents dropped, other characters as `_`. */
export function identifier(text: string): string {
  const ascii = text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  const id = ascii
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/_{2,}/g, "_")
    .replace(/^_+(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])_+$/g, "");
  if (id === "" || id === "_") return "";
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

/** Hands out distinct identifiers: a clash with a reserved or taken name gets `_`, then `_2`, `_3`... */
export class PythonNames {
  private readonly taken = new Set<string>();

  take(text: string, fallback = "value"): string {
    const stem = identifier(text) || identifier(fallback) || "value";
    let name = RESERVED.has(stem) ? `${stem}_` : stem;
    for (let i = 2; this.taken.has(name) || RESERVED.has(name); i++) name = `${stem}_${i}`;
    this.taken.add(name);
    return name;
  }
}
