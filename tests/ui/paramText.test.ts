/** Params typed in the inspector, read without eval and checked against the real kinds' declarations. */
import { describe, expect, it } from "vitest";
import { registry } from "../../src/nodes/index.ts";
import type { ParamDecl } from "../../src/nodes/types.ts";
import { fromText, parseLiteral, toText } from "../../src/ui/inspector/paramText.ts";

const decl = (type: string, name: string): ParamDecl => {
  const d = registry.get(type)?.params.find((p) => p.name === name);
  if (!d) throw new Error(`${type} has no param ${name}`);
  return d;
};

describe("param text", () => {
  it("reads Python and JSON literals, never evaluating anything", () => {
    expect(parseLiteral("[[1, 2], [3, 4.5]]")).toEqual({
      ok: true,
      value: [
        [1, 2],
        [3, 4.5],
      ],
    });
    expect(parseLiteral("(0.9, 0.999)")).toEqual({ ok: true, value: [0.9, 0.999] });
    expect(parseLiteral("True")).toEqual({ ok: true, value: true });
    expect(parseLiteral("None")).toEqual({ ok: true, value: null });
    expect(parseLiteral("1e-3")).toEqual({ ok: true, value: 0.001 });
    expect(parseLiteral("[1, 2,]")).toEqual({ ok: true, value: [1, 2] });
    expect(parseLiteral("alert(1)").ok).toBe(false);
    expect(parseLiteral("[1, 2").ok).toBe(false);
    expect(parseLiteral("1 2").ok).toBe(false);
  });

  it("writes values back the way Python does", () => {
    expect(toText(null)).toBe("None");
    expect(toText(false)).toBe("False");
    expect(toText([0.9, 0.999])).toBe("[0.9, 0.999]");
    expect(
      toText([
        [1, 2],
        [3, 4],
      ]),
    ).toBe("[[1, 2], [3, 4]]");
  });

  it("checks a value against its declaration with a message in the user's terms", () => {
    expect(fromText(decl("SGD", "lr"), "0.05")).toEqual({ ok: true, value: 0.05 });
    const neg = fromText(decl("SGD", "lr"), "-1");
    expect(neg.ok).toBe(false);
    if (!neg.ok) expect(neg.error).toMatch(/≥ 0/);
    const word = fromText(decl("SGD", "lr"), "fast");
    expect(word.ok).toBe(false);
    const nan = fromText(decl("SGD", "lr"), "nan");
    expect(nan.ok).toBe(false);
    expect(fromText(decl("Adam", "betas"), "(0.8, 0.99)")).toEqual({ ok: true, value: [0.8, 0.99] });
    expect(fromText(decl("Adam", "betas"), "[0.8]").ok).toBe(false);
    expect(fromText(decl("tensor", "data"), "[[1, 2], [3, 4]]")).toEqual({
      ok: true,
      value: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(fromText(decl("randn", "size"), "3")).toEqual({ ok: true, value: [3] });
    expect(fromText(decl("randn", "size"), "[2.5]").ok).toBe(false);
    expect(fromText(decl("tensor", "dtype"), "None")).toEqual({ ok: true, value: null });
    expect(fromText(decl("mse_loss", "reduction"), "sum")).toEqual({ ok: true, value: "sum" });
    expect(fromText(decl("mse_loss", "reduction"), "average").ok).toBe(false);
  });
});
