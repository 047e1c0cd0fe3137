/**
 * Params as text in the inspector: written the way Python writes them (None, True, [0.9, 0.999]) and read back
 * with a small parser, never eval, then checked against the kind's declaration (src/nodes' zod schema), so a
 * value that is not allowed is reported while typing and never reaches the document.
 */
import { paramSchema } from "../../nodes/params.ts";
import type { ParamDecl, ParamValue } from "../../nodes/types.ts";

export type Parsed = { ok: true; value: ParamValue } | { ok: false; error: string };

export function toText(v: ParamValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (Array.isArray(v)) return `[${v.map(toText).join(", ")}]`;
  return String(v);
}

/** A literal in Python or JSON spelling: numbers, True/False, None, nested lists. */
export function parseLiteral(text: string): Parsed {
  const src = text.trim();
  let i = 0;
  const fail = (msg: string): never => {
    throw new SyntaxError(msg);
  };
  const ws = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const value = (): ParamValue => {
    ws();
    if (src[i] === "[" || src[i] === "(") {
      const close = src[i] === "[" ? "]" : ")";
      i++;
      const out: ParamValue[] = [];
      ws();
      if (src[i] === close) {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (src[i] === ",") {
          i++;
          ws();
          if (src[i] === close) {
            i++;
            return out;
          }
          continue;
        }
        if (src[i] === close) {
          i++;
          return out;
        }
        fail(i >= src.length ? `missing '${close}'` : `unexpected '${src[i]}' at ${i + 1}`);
      }
    }
    const m =
      /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf(?:inity)?|nan|True|False|true|false|None|null)/i.exec(
        src.slice(i),
      );
    if (!m) return fail(i >= src.length ? "expected a value" : `unexpected '${src[i]}' at ${i + 1}`);
    i += m[0].length;
    const t = m[0];
    if (/^true$/i.test(t)) return true;
    if (/^false$/i.test(t)) return false;
    if (/^(none|null)$/i.test(t)) return null;
    if (/^[-+]?inf/i.test(t)) return t.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    if (/^nan$/i.test(t)) return Number.NaN;
    return Number(t);
  };
  try {
    if (!src) return { ok: false, error: "enter a value" };
    const v = value();
    ws();
    if (i < src.length) return { ok: false, error: `unexpected '${src[i]}' at ${i + 1}` };
    return { ok: true, value: v };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Read what the user typed for `decl` and check it; the error says what is wrong in the user's terms. */
export function fromText(decl: ParamDecl, text: string): Parsed {
  const t = text.trim();
  let parsed: Parsed;
  if (decl.type === "string") parsed = { ok: true, value: text };
  else if (decl.type === "enum") parsed = t === "None" ? { ok: true, value: null } : { ok: true, value: t };
  else if (t === "" && (decl.nullable || decl.default === null)) parsed = { ok: true, value: null };
  else parsed = parseLiteral(t);
  if (!parsed.ok) return parsed;
  let v = parsed.value;
  // A single number where a list is declared is what people type for one dimension: [3].
  if (decl.type === "numbers" && typeof v === "number") v = [v];
  if ((decl.type === "number" || decl.type === "numbers") && hasNonFinite(v))
    return { ok: false, error: "must be a finite number" };
  const r = paramSchema(decl).safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? `item ${issue.path.join(".")}: ` : "";
    return { ok: false, error: `${where}${friendly(issue.message, decl)}` };
  }
  return { ok: true, value: v };
}

function hasNonFinite(v: ParamValue): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  return Array.isArray(v) && v.some(hasNonFinite);
}

function friendly(message: string, decl: ParamDecl): string {
  if (/expected number, received/i.test(message) || /Invalid input: expected number/i.test(message))
    return decl.type === "numbers" ? "expected a list of numbers, like [1, 2]" : "expected a number";
  if (/expected int/i.test(message)) return "must be a whole number";
  if (/expected array/i.test(message)) return "expected a list, like [1, 2]";
  if (/expected boolean/i.test(message)) return "expected True or False";
  return message;
}
