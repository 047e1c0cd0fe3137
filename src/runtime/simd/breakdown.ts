/**
 * Transcendentals as float32 breakdowns, each written once and generated into every CPU form: the scalar
 * JavaScript the plain loops call (compiled at load), the WebAssembly the SIMD JIT emits (jit.ts), and the
 * AssemblyScript of the vector machine (assembly/breakdowns.generated.ts, written by `npm run build:simd`). Every
 * operation is one float32 operation in each form, so the three agree bit for bit.
 *
 * A breakdown is a list of pieces tried in order: the first whose condition holds gives the value. Scalar code
 * branches (only that piece is computed); vector code computes every piece and selects lane by lane.
 */

/** A register (a step's name, or `x`, the input) or a float32 constant. */
export type Operand = string | number;

export type Step =
  | { readonly k: "abs"; readonly a: Operand }
  | { readonly k: "add" | "sub" | "mul" | "div"; readonly a: Operand; readonly b: Operand }
  /** b < a ? b : a (WebAssembly's pmin: one instruction, and not NaN-propagating, where min is several). */
  | { readonly k: "pmin"; readonly a: Operand; readonly b: Operand }
  /** a rounded to an integer, ties to even, by adding and removing 1.5 * 2^23 (|a| < 2^22). */
  | { readonly k: "rint"; readonly a: Operand }
  /** a * 2^n for an integral n: exact (n in [0, 127] in the CPU forms; WGSL's ldexp takes exp's [-150, 128]). */
  | { readonly k: "scale2"; readonly a: Operand; readonly n: Operand }
  /** 1 - a * a in float64 (exact for a float32 a), rounded once: what a fused multiply-add gives. */
  | { readonly k: "oneMinusSquare"; readonly a: Operand };

export type Cond =
  | { readonly k: "lt" | "ge"; readonly a: Operand; readonly b: Operand }
  /** x is NaN or +-0. */
  | { readonly k: "nanOrZero"; readonly a: Operand };

export interface Piece {
  /** Omitted for the last piece (otherwise). */
  readonly when?: Cond;
  readonly steps: readonly (readonly [string, Step])[];
  readonly result: Operand;
  /** The result takes x's sign (it is non-negative): copysign(result, x). */
  readonly signOfX?: boolean;
}

export interface Breakdown {
  readonly name: string;
  readonly pieces: readonly Piece[];
}

const f = Math.fround;

/** Horner's rule in float32, two roundings per step: ((c[0] z + c[1]) z + c[2]) ... (WebAssembly SIMD has no fma). */
function horner(prefix: string, z: Operand, c: readonly number[]): [string, Step][] {
  const out: [string, Step][] = [];
  let acc: Operand = f(c[0]);
  c.slice(1).forEach((ci, i) => {
    out.push([`${prefix}m${i}`, { k: "mul", a: acc, b: z }]);
    out.push([`${prefix}${i}`, { k: "add", a: `${prefix}m${i}`, b: f(ci) }]);
    acc = `${prefix}${i}`;
  });
  return out;
}

/**
 * tanh in float32. Below |x| = 0.55: x + x^3 P(x^2), P a Chebyshev fit of (tanh(x)/x - 1)/x^2 made against
 * 40-digit values. Above: 1 - 2 / (exp(2|x|) + 1), exp(t) = 2^k exp(r) with |r| <= ln2/2 and a degree-7
 * Taylor polynomial; from |x| = 10 on, tanh(x) rounds to +-1. Within 2 float32 ulps of the correctly rounded
 * tanh, 1 on 94% of inputs (tests/runtime/fused.test.ts measures it); PyTorch's float32 tanh (Sleef) is within 1.
 */
const P = [
  5.1732235707851626e-5, -0.00021175224002058633, 0.0005802865584754968, -0.001453693253040107,
  0.0035918340216260026, -0.00886321085753791, 0.021869487346023404, -0.05396825393915064,
  0.13333333333305902, -0.3333333333333364,
];
const EXP_TAYLOR = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1];
// ln 2 split so k * LN2_HI is exact for the k < 2^12 here: LN2_HI has 12 significant bits.
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.428606765330187e-6;

/** exp(t) into `ek`: 2^k exp(r), k = rint(t log2 e), r = t - k ln 2 in two parts, exp(r) by EXP_TAYLOR. */
function expSteps(t: Operand): [string, Step][] {
  return [
    ["tl", { k: "mul", a: t, b: f(Math.LOG2E) }],
    ["kf", { k: "rint", a: "tl" }],
    ["khi", { k: "mul", a: "kf", b: LN2_HI }],
    ["r0", { k: "sub", a: t, b: "khi" }],
    ["klo", { k: "mul", a: "kf", b: f(LN2_LO) }],
    ["r", { k: "sub", a: "r0", b: "klo" }],
    ...horner("e", "r", EXP_TAYLOR),
    ["ek", { k: "scale2", a: "e6", n: "kf" }],
  ];
}

export const TANH: Breakdown = {
  name: "tanh",
  pieces: [
    { when: { k: "nanOrZero", a: "x" }, steps: [], result: "x" },
    { when: { k: "ge", a: "a", b: 10 }, steps: [], result: 1, signOfX: true },
    {
      when: { k: "lt", a: "a", b: 0.55 },
      steps: [
        ["z", { k: "mul", a: "x", b: "x" }],
        ...horner("p", "z", P),
        ["zp", { k: "mul", a: "z", b: "p8" }],
        ["xzp", { k: "mul", a: "x", b: "zp" }],
        ["small", { k: "add", a: "x", b: "xzp" }],
      ],
      result: "small",
    },
    {
      steps: [
        // Vector lanes past 10 are replaced, but pmin keeps 2^k in range meanwhile.
        ["a10", { k: "pmin", a: "a", b: 10 }],
        ["t", { k: "mul", a: 2, b: "a10" }],
        ...expSteps("t"),
        ["ek1", { k: "add", a: "ek", b: 1 }],
        ["q", { k: "div", a: 2, b: "ek1" }],
        ["large", { k: "sub", a: 1, b: "q" }],
      ],
      result: "large",
      signOfX: true,
    },
  ],
};

/**
 * exp in float32, for the WebGPU prelude's gw_exp (builtins are not correctly rounded: SwiftShader's is up to
 * 16 ulps off): exp(x) = 2^k exp(r), k = rint(x log2 e), r = x - k ln 2 in two parts (Cody-Waite), exp(r) by
 * the same degree-7 Taylor polynomial as tanh's. Overflows to +inf from fround(ln FLT_MAX) on, 0 below
 * ln(2^-150). The CPU's float32 exp is Math.exp rounded once to float32 (correctly rounded but for rare double
 * roundings), which no float32 breakdown can equal bit for bit, so the CPU forms keep Math.exp.
 */
export const EXP: Breakdown = {
  name: "exp",
  pieces: [
    { when: { k: "nanOrZero", a: "x" }, steps: [["one", { k: "add", a: "x", b: 1 }]], result: "one" },
    { when: { k: "ge", a: "x", b: 88.72283935546875 }, steps: [], result: Number.POSITIVE_INFINITY },
    { when: { k: "lt", a: "x", b: -103.97208404541016 }, steps: [], result: 0 },
    {
      steps: [...expSteps("x")],
      result: "ek",
    },
  ],
};

/** tanh's derivative from its output y (here x): 1 - y * y rounded once, as torch's tanh_backward computes it. */
export const DTANH: Breakdown = {
  name: "dtanh",
  pieces: [{ steps: [["d", { k: "oneMinusSquare", a: "x" }]], result: "d" }],
};

/** Registers every piece may read: `a` = |x| is computed first, for the conditions (where any reads it). */
const PRELUDE: [string, Step] = ["a", { k: "abs", a: "x" }];
function readsA(b: Breakdown): boolean {
  const cond = (c: Cond | undefined) => !!c && (c.a === "a" || ("b" in c && c.b === "a"));
  return b.pieces.some(
    (p) => p.result === "a" || cond(p.when) || p.steps.some(([, st]) => Object.values(st).includes("a")),
  );
}

// ---- scalar JavaScript ---------------------------------------------------------------------------------------
const jsOperand = (o: Operand) => (typeof o === "number" ? String(f(o)) : o);
const ROUNDER = 12582912;

function jsStep([name, s]: readonly [string, Step]): string {
  const a = jsOperand(s.a);
  switch (s.k) {
    case "abs":
      return `const ${name} = Math.abs(${a});`;
    case "add":
      return `const ${name} = Math.fround(${a} + ${jsOperand(s.b)});`;
    case "sub":
      return `const ${name} = Math.fround(${a} - ${jsOperand(s.b)});`;
    case "mul":
      return `const ${name} = Math.fround(${a} * ${jsOperand(s.b)});`;
    case "div":
      return `const ${name} = Math.fround(${a} / ${jsOperand(s.b)});`;
    case "pmin":
      return `const ${name} = ${jsOperand(s.b)} < ${a} ? ${jsOperand(s.b)} : ${a};`;
    case "rint":
      return `const ${name} = Math.fround(${a} + ${ROUNDER}) - ${ROUNDER};`;
    case "scale2":
      return `const ${name} = Math.fround(${a} * POW2[${jsOperand(s.n)}]);`;
    case "oneMinusSquare":
      return `const ${name} = Math.fround(1 - ${a} * ${a});`;
  }
}

function jsCond(c: Cond): string {
  if (c.k === "nanOrZero") return `(Number.isNaN(${c.a}) || ${c.a} === 0)`;
  return `${jsOperand(c.a)} ${c.k === "lt" ? "<" : ">="} ${jsOperand(c.b)}`;
}

/** 2^k for k in [0, 127] (exact); `2 ** k` is a slow call on some machines. */
const POW2 = Float64Array.from({ length: 128 }, (_, k) => 2 ** k);

/** The scalar function: float32 in, float32 out, branching to the one piece that applies. */
export function scalarOf(b: Breakdown): (x: number) => number {
  const lines = readsA(b) ? [jsStep(PRELUDE)] : [];
  for (const p of b.pieces) {
    const body = [...p.steps.map(jsStep)];
    const r = jsOperand(p.result);
    body.push(p.signOfX ? `return x > 0 ? ${r} : -${r};` : `return ${r};`);
    lines.push(p.when ? `if (${jsCond(p.when)}) { ${body.join(" ")} }` : body.join(" "));
  }
  return new Function("POW2", `"use strict"; return function ${b.name}F32(x) { ${lines.join("\n")} };`)(POW2);
}

/**
 * tanh for float32 results in float32 arithmetic, for the plain loops: Math.tanh is a call into C++ that costs
 * about 20 ns; this inlines into the calling loop. Float64 results keep Math.tanh.
 */
export const tanhF32: (x: number) => number = scalarOf(TANH);
/** tanh's derivative from its output, for float32 results. */
export const dtanhF32: (y: number) => number = scalarOf(DTANH);

// ---- WGSL ---------------------------------------------------------------------------------------------------
/** A float32 constant as a WGSL literal (exactly the float32 value; WGSL parses literals to the nearest f32). */
function wgslOperand(o: Operand): string {
  if (typeof o !== "number") return o;
  if (o === Number.POSITIVE_INFINITY) return "gw_bits_inf()";
  const s = String(f(o));
  return /[.e]/.test(s) ? s.replace(/^(-?\d+)e/, "$1.0e") : `${s}.0`;
}

function wgslStep([name, s]: readonly [string, Step]): string {
  const a = wgslOperand(s.a);
  switch (s.k) {
    case "abs":
      return `let ${name} = abs(${a});`;
    case "add":
    case "sub":
    case "mul":
    case "div":
      return `let ${name} = ${a} ${{ add: "+", sub: "-", mul: "*", div: "/" }[s.k]} ${wgslOperand(s.b)};`;
    case "pmin":
      return `let ${name} = select(${a}, ${wgslOperand(s.b)}, ${wgslOperand(s.b)} < ${a});`;
    case "rint":
      // round() is rint (ties to even). Not the (a + 1.5 2^23) - 1.5 2^23 of the CPU forms: SwiftShader's
      // compiler folds that sum away (it returns a unrounded), and exp's reduction then falls apart.
      return `let ${name} = round(${a});`;
    case "scale2":
      return `let ${name} = ldexp(${a}, i32(${wgslOperand(s.n)}));`;
    case "oneMinusSquare":
      // Not fma(): WGSL lets fma round twice, and SwiftShader does.
      throw new Error("internal: oneMinusSquare has no exact WGSL form");
  }
}

function wgslCond(c: Cond): string {
  if (c.k === "nanOrZero") return `gw_isnan(${c.a}) || ${c.a} == 0.0`;
  return `${wgslOperand(c.a)} ${c.k === "lt" ? "<" : ">="} ${wgslOperand(c.b)}`;
}

/**
 * The breakdown as a WGSL function `name(x: f32) -> f32` for the WebGPU prelude (gpu/wgsl.ts): the same
 * float32 operations, each rounded once (WGSL's f32 +, -, *, / and ldexp are exact-rounding on SwiftShader and
 * hardware alike, and none is contracted into a fused multiply-add), so the GPU's tanh is the CPU's bit for bit
 * wherever the device rounds as IEEE (tests/gpu/transcendentals.test.ts checks it).
 *
 * Like the vector form, it computes every piece and selects (last piece first, so the first condition that
 * holds wins) rather than branching: a GPU runs an invocation group's divergent branches one after the other
 * anyway, and each early return costs a lane mask. On SwiftShader this form runs the MLP benchmark ~20% faster
 * than the branching one (bench/GPU-RESULTS.md, eighth session). A piece's value where its condition fails is
 * discarded, so out-of-range intermediates there (ldexp of a huge k) do not matter.
 */
export function wgslFunction(b: Breakdown, name: string): string {
  const lines = readsA(b) ? [`  ${wgslStep(PRELUDE)}`] : [];
  const last = b.pieces.length - 1;
  const pieceValue = (p: Piece): string => {
    lines.push(...p.steps.map((s) => `  ${wgslStep(s)}`));
    const r = wgslOperand(p.result);
    return p.signOfX ? `select(-${r}, ${r}, x > 0.0)` : r;
  };
  lines.push(`  var v = ${pieceValue(b.pieces[last])};`);
  for (let i = last - 1; i >= 0; i--) {
    const p = b.pieces[i];
    const val = pieceValue(p);
    lines.push(`  v = select(v, ${val}, ${wgslCond(p.when!)});`);
  }
  return [`fn ${name}(x: f32) -> f32 {`, ...lines, "  return v;", "}"].join("\n");
}

// ---- vectors ------------------------------------------------------------------------------------------------
/**
 * The vector form as a list of instructions over named v128 registers, for the JIT (bytes) and AssemblyScript
 * (text) to spell: every piece computed, then selected lane by lane from the last piece to the first.
 */
export type VInstr =
  | { readonly op: "f32x4.abs"; readonly out: string; readonly a: Operand }
  | {
      readonly op:
        | "f32x4.add"
        | "f32x4.sub"
        | "f32x4.mul"
        | "f32x4.div"
        | "f32x4.pmin"
        | "f32x4.lt"
        | "f32x4.ge"
        | "f32x4.eq"
        | "f32x4.ne"
        | "v128.and"
        | "v128.or"
        | "i32x4.sub"
        | "i32x4.add";
      readonly out: string;
      readonly a: Operand;
      readonly b: Operand;
    }
  /** (a as int32 lanes) << 23 */
  | { readonly op: "i32x4.shl23"; readonly out: string; readonly a: Operand }
  /** 1 - a * a per lane in float64 (two lanes at a time), rounded once to float32. */
  | { readonly op: "oneMinusSquare64"; readonly out: string; readonly a: Operand }
  /** mask ? a : b, bit by bit */
  | {
      readonly op: "v128.bitselect";
      readonly out: string;
      readonly a: Operand;
      readonly b: Operand;
      readonly mask: string;
    };

/** An int32 constant operand (a number is a float32 splat). */
export const int = (v: number): string => `#${v}`;
export const isInt = (o: Operand): o is string => typeof o === "string" && o.startsWith("#");

function vStep([name, s]: readonly [string, Step], out: VInstr[]): void {
  switch (s.k) {
    case "abs":
      out.push({ op: "f32x4.abs", out: name, a: s.a });
      return;
    case "oneMinusSquare":
      out.push({ op: "oneMinusSquare64", out: name, a: s.a });
      return;
    case "rint":
      out.push({ op: "f32x4.add", out: `${name}_shifted`, a: s.a, b: ROUNDER });
      out.push({ op: "f32x4.sub", out: name, a: `${name}_shifted`, b: ROUNDER });
      return;
    case "scale2": {
      // 2^n from n's bits: n = (n + 1.5 * 2^23) - 1.5 * 2^23 as ints, then (n + 127) << 23.
      const n = s.n as string;
      out.push({ op: "f32x4.add", out: `${name}_nshift`, a: n, b: ROUNDER });
      out.push({ op: "i32x4.sub", out: `${name}_ni`, a: `${name}_nshift`, b: ROUNDER });
      out.push({ op: "i32x4.add", out: `${name}_nb`, a: `${name}_ni`, b: int(127) });
      out.push({ op: "i32x4.shl23", out: `${name}_p2`, a: `${name}_nb` });
      out.push({ op: "f32x4.mul", out: name, a: s.a, b: `${name}_p2` });
      return;
    }
    default:
      out.push({ op: `f32x4.${s.k}`, out: name, a: s.a, b: s.b });
  }
}

/** The breakdown's vector instructions, reading `x` and leaving the value in the returned register. */
export function vectorOf(b: Breakdown): { instrs: VInstr[]; result: string } {
  const out: VInstr[] = [];
  if (readsA(b)) vStep(PRELUDE, out);
  if (b.pieces.some((p) => p.signOfX)) out.push({ op: "v128.and", out: "signbit", a: "x", b: -0 });
  const value = (p: Piece, i: number): string => {
    for (const s of p.steps) vStep(s, out);
    if (typeof p.result === "string" && !p.signOfX) return p.result;
    const v = `piece${i}`;
    out.push(
      p.signOfX
        ? { op: "v128.or", out: v, a: p.result, b: "signbit" }
        : { op: "f32x4.add", out: v, a: p.result, b: 0 },
    );
    return v;
  };
  const last = b.pieces.length - 1;
  let res = value(b.pieces[last], last);
  for (let i = last - 1; i >= 0; i--) {
    const p = b.pieces[i];
    const v = value(p, i);
    const mask = `mask${i}`;
    const c = p.when!;
    if (c.k === "nanOrZero") {
      out.push({ op: "f32x4.ne", out: `${mask}_nan`, a: c.a, b: c.a });
      out.push({ op: "f32x4.eq", out: `${mask}_zero`, a: "a", b: 0 });
      out.push({ op: "v128.or", out: mask, a: `${mask}_nan`, b: `${mask}_zero` });
    } else out.push({ op: `f32x4.${c.k}`, out: mask, a: c.a, b: c.b });
    const sel = `sel${i}`;
    out.push({ op: "v128.bitselect", out: sel, a: v, b: res, mask });
    res = sel;
  }
  return { instrs: out, result: res };
}

/** The vector form as an AssemblyScript function `<name>Vec(x: v128): v128`. */
export function assemblyScriptOf(b: Breakdown): string {
  const { instrs, result } = vectorOf(b);
  const lit = (o: Operand): string =>
    typeof o === "number"
      ? `f32x4.splat(${Object.is(o, -0) ? "-0.0" : String(f(o))})`
      : isInt(o)
        ? `i32x4.splat(${o.slice(1)})`
        : o;
  const lines = instrs.map((i) => {
    switch (i.op) {
      case "f32x4.abs":
        return `  const ${i.out} = f32x4.abs(${lit(i.a)});`;
      case "i32x4.shl23":
        return `  const ${i.out} = i32x4.shl(${lit(i.a)}, 23);`;
      case "oneMinusSquare64": {
        const [a, o] = [lit(i.a), i.out];
        return [
          `  const ${o}_lo = f64x2.promote_low_f32x4(${a});`,
          `  const ${o}_hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(${a}, ${a}, 2, 3, 0, 1));`,
          `  const ${o}_dl = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.splat(1), f64x2.mul(${o}_lo, ${o}_lo)));`,
          `  const ${o}_dh = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.splat(1), f64x2.mul(${o}_hi, ${o}_hi)));`,
          `  const ${o} = v128.shuffle<f32>(${o}_dl, ${o}_dh, 0, 1, 4, 5);`,
        ].join("\n");
      }
      case "v128.bitselect":
        return `  const ${i.out} = v128.bitselect(${lit(i.a)}, ${lit(i.b)}, ${i.mask});`;
      case "i32x4.sub":
        // The float constant's bits as int lanes.
        return `  const ${i.out} = i32x4.sub(${lit(i.a)}, ${typeof i.b === "number" ? `f32x4.splat(${f(i.b)})` : lit(i.b)});`;
      default:
        return `  const ${i.out} = ${i.op}(${lit(i.a)}, ${lit(i.b)});`;
    }
  });
  return `@inline export function ${b.name}Vec(x: v128): v128 {\n${lines.join("\n")}\n  return ${result};\n}\n`;
}

/** The AssemblyScript file the vector machine imports (npm run build:simd writes it; a test checks it). */
export function breakdownsModule(): string {
  return `// Generated by scripts/build-simd.mjs from src/runtime/simd/breakdown.ts: do not edit.
// The float32 breakdowns of the transcendentals, as the vector machine computes them four lanes at a time.

${assemblyScriptOf(TANH)}
${assemblyScriptOf(DTANH)}`;
}
