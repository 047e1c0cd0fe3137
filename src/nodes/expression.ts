/**
 * Math expressions for custom-function nodes: parsed by jsep into a syntax tree (nothing is ever eval'd),
 * checked against a small vocabulary, then evaluated with runtime ops (so they broadcast, keep dtypes and work
 * on any backend) or printed as PyTorch code.
 */
import jsep from "jsep";
import { ops, type Tensor } from "../runtime/index.ts";
import { pyFloat } from "./python.ts";

// `^` means power here (people write x^2), not XOR; `**` already is, right-associative as in Python.
jsep.removeBinaryOp("^");
jsep.addBinaryOp("^", 11, true);

type Value = Tensor | number;

export type Expr =
  | { kind: "num"; value: number }
  | { kind: "var"; name: string }
  | { kind: "neg"; arg: Expr }
  | { kind: "bin"; op: BinOp; left: Expr; right: Expr }
  | { kind: "call"; fn: string; args: Expr[] };

type BinOp = "+" | "-" | "*" | "/" | "**" | "<" | ">" | "<=" | ">=" | "==" | "!=";

const BIN: Record<BinOp, { run: (a: Value, b: Value) => Tensor; py: string }> = {
  "+": { run: ops.add, py: "+" },
  "-": { run: ops.sub, py: "-" },
  "*": { run: ops.mul, py: "*" },
  "/": { run: ops.div, py: "/" },
  "**": { run: ops.pow, py: "**" },
  "<": { run: ops.lt, py: "<" },
  ">": { run: ops.gt, py: ">" },
  "<=": { run: ops.le, py: "<=" },
  ">=": { run: ops.ge, py: ">=" },
  "==": { run: ops.eq, py: "==" },
  "!=": { run: ops.ne, py: "!=" },
};

const t = (v: Value): Tensor => {
  if (typeof v === "number")
    throw new ExprError("a function of the variables is needed here, not a constant");
  return v;
};

interface Fn {
  arity: number;
  run: (a: Value[]) => Tensor;
  py: (a: string[]) => string;
}

const FNS: Record<string, Fn> = {
  exp: { arity: 1, run: ([a]) => ops.exp(t(a)), py: ([a]) => `torch.exp(${a})` },
  log: { arity: 1, run: ([a]) => ops.log(t(a)), py: ([a]) => `torch.log(${a})` },
  log1p: { arity: 1, run: ([a]) => ops.log1p(t(a)), py: ([a]) => `torch.log1p(${a})` },
  sqrt: { arity: 1, run: ([a]) => ops.sqrt(t(a)), py: ([a]) => `torch.sqrt(${a})` },
  abs: { arity: 1, run: ([a]) => ops.abs(t(a)), py: ([a]) => `torch.abs(${a})` },
  sign: { arity: 1, run: ([a]) => ops.sign(t(a)), py: ([a]) => `torch.sign(${a})` },
  sigmoid: { arity: 1, run: ([a]) => ops.sigmoid(t(a)), py: ([a]) => `torch.sigmoid(${a})` },
  tanh: { arity: 1, run: ([a]) => ops.tanh(t(a)), py: ([a]) => `torch.tanh(${a})` },
  relu: { arity: 1, run: ([a]) => ops.relu(t(a)), py: ([a]) => `torch.relu(${a})` },
  pow: { arity: 2, run: ([a, b]) => ops.pow(a, b), py: ([a, b]) => `torch.pow(${a}, ${b})` },
  maximum: {
    arity: 2,
    run: ([a, b]) => ops.maximum(t(a), t(b)),
    py: ([a, b]) => `torch.maximum(${a}, ${b})`,
  },
  minimum: {
    arity: 2,
    run: ([a, b]) => ops.minimum(t(a), t(b)),
    py: ([a, b]) => `torch.minimum(${a}, ${b})`,
  },
  clamp: {
    arity: 3,
    run: ([a, lo, hi]) => ops.clamp(t(a), lo as number, hi as number),
    py: ([a, lo, hi]) => `torch.clamp(${a}, ${lo}, ${hi})`,
  },
  where: {
    arity: 3,
    run: ([c, a, b]) => ops.where(t(c), a, b),
    py: ([c, a, b]) => `torch.where(${c}, ${a}, ${b})`,
  },
};

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export class ExprError extends Error {
  override name = "ExprError";
}

/** Deeper than this an expression is refused: evaluating and printing it recurse once per level. */
export const MAX_EXPR_DEPTH = 200;

const tooDeep = () =>
  new ExprError(
    `the expression is nested more than ${MAX_EXPR_DEPTH} levels deep (split it over several nodes)`,
  );

function convert(node: jsep.Expression, vars: readonly string[], depth = 0): Expr {
  if (depth > MAX_EXPR_DEPTH) throw tooDeep();
  const sub = (n: jsep.Expression) => convert(n, vars, depth + 1);
  switch (node.type) {
    case "Literal": {
      const v = (node as jsep.Literal).value;
      if (typeof v !== "number")
        throw new ExprError(`only numbers are allowed as constants, got ${(node as jsep.Literal).raw}`);
      return { kind: "num", value: v };
    }
    case "Identifier": {
      const name = (node as jsep.Identifier).name;
      if (vars.includes(name)) return { kind: "var", name };
      if (Object.hasOwn(CONSTANTS, name)) return { kind: "num", value: CONSTANTS[name] };
      throw new ExprError(`unknown name '${name}' (use ${vars.map((v) => `'${v}'`).join(", ")}, pi or e)`);
    }
    case "UnaryExpression": {
      const u = node as jsep.UnaryExpression;
      const arg = sub(u.argument);
      // -2 is a number (clamp's bounds must be numbers), not the negation of one.
      if (u.operator === "-")
        return arg.kind === "num" ? { kind: "num", value: -arg.value } : { kind: "neg", arg };
      if (u.operator === "+") return arg;
      throw new ExprError(`operator '${u.operator}' is not supported`);
    }
    case "BinaryExpression": {
      const b = node as jsep.BinaryExpression;
      const op = b.operator === "^" ? "**" : b.operator;
      if (!Object.hasOwn(BIN, op))
        throw new ExprError(`operator '${b.operator}' is not supported (use + - * / ** < > <= >= == !=)`);
      return { kind: "bin", op: op as BinOp, left: sub(b.left), right: sub(b.right) };
    }
    case "CallExpression": {
      const c = node as jsep.CallExpression;
      const callee = c.callee.type === "Identifier" ? (c.callee as jsep.Identifier).name : "";
      // Own names only: `constructor` or `valueOf` must not find Object.prototype's.
      const fn = Object.hasOwn(FNS, callee) ? FNS[callee] : undefined;
      if (!fn)
        throw new ExprError(`unknown function '${callee || "?"}' (known: ${Object.keys(FNS).join(", ")})`);
      if (c.arguments.length !== fn.arity)
        throw new ExprError(
          `${callee} takes ${fn.arity} argument${fn.arity > 1 ? "s" : ""}, got ${c.arguments.length}`,
        );
      const args = c.arguments.map(sub);
      if (callee === "clamp" && (args[1].kind !== "num" || args[2].kind !== "num"))
        throw new ExprError("clamp's bounds must be numbers");
      return { kind: "call", fn: callee, args };
    }
    case "ConditionalExpression": {
      const c = node as jsep.ConditionalExpression;
      return {
        kind: "call",
        fn: "where",
        args: [sub(c.test), sub(c.consequent), sub(c.alternate)],
      };
    }
    default:
      throw new ExprError(`${node.type} is not allowed in a math expression`);
  }
}

/** Parse and check an expression over the given variable names; throws ExprError with the reason. */
export function parseExpr(source: string, vars: readonly string[]): Expr {
  if (source.trim() === "") throw new ExprError("the expression is empty");
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (e) {
    // jsep recurses once per nesting level: only absurd nesting runs it out of stack.
    if (e instanceof RangeError) throw tooDeep();
    throw new ExprError(e instanceof Error ? e.message : String(e));
  }
  return convert(tree, vars);
}

/** Evaluate with runtime ops; variables are tensors (or numbers). */
export function evalExpr(e: Expr, env: Record<string, Value>): Value {
  switch (e.kind) {
    case "num":
      return e.value;
    case "var":
      return env[e.name];
    case "neg": {
      const a = evalExpr(e.arg, env);
      return typeof a === "number" ? -a : ops.neg(a);
    }
    case "bin": {
      const a = evalExpr(e.left, env);
      const b = evalExpr(e.right, env);
      if (typeof a === "number" && typeof b === "number") return constantFold(e.op, a, b);
      return BIN[e.op].run(a, b);
    }
    case "call":
      return FNS[e.fn].run(e.args.map((a) => evalExpr(a, env)));
  }
}

function constantFold(op: BinOp, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "**":
      return a ** b;
    default:
      throw new ExprError(`comparing two constants (${a} ${op} ${b}) is not meaningful here`);
  }
}

// Python's binding strength: comparisons < + - < * / < unary - < ** < atoms.
const PY_PREC: Record<BinOp, number> = {
  "<": 1,
  ">": 1,
  "<=": 1,
  ">=": 1,
  "==": 1,
  "!=": 1,
  "+": 2,
  "-": 2,
  "*": 3,
  "/": 3,
  "**": 5,
};
const UNARY_PREC = 4;
const ATOM = 6;

/**
 * PyTorch code for the expression, with the parentheses Python needs to read the same tree, and those around an
 * equal-precedence right operand kept too (a - (b - c), and a + (b + c), which floats do not reassociate).
 */
export function exprToPython(e: Expr, names: Record<string, string>): string {
  return printPython(e, names).code;
}

function printPython(e: Expr, names: Record<string, string>): { code: string; prec: number } {
  const wrap = (x: Expr, needs: (prec: number) => boolean) => {
    const p = printPython(x, names);
    return needs(p.prec) ? `(${p.code})` : p.code;
  };
  switch (e.kind) {
    case "num":
      if (e.value === Math.PI) return { code: "math.pi", prec: ATOM };
      if (e.value === Math.E) return { code: "math.e", prec: ATOM };
      return { code: pyFloat(e.value), prec: e.value < 0 || Object.is(e.value, -0) ? UNARY_PREC : ATOM };
    case "var":
      return { code: Object.hasOwn(names, e.name) ? names[e.name] : e.name, prec: ATOM };
    case "neg":
      return { code: `-${wrap(e.arg, (p) => p < UNARY_PREC)}`, prec: UNARY_PREC };
    case "bin": {
      const p = PY_PREC[e.op];
      if (e.op === "**") {
        // Right-associative, and binds tighter than a unary minus on its left (-x ** 2 is -(x ** 2)).
        const right =
          e.right.kind === "num" && Number.isInteger(e.right.value) && e.right.value >= 0
            ? String(e.right.value)
            : wrap(e.right, (q) => q < UNARY_PREC);
        return { code: `${wrap(e.left, (q) => q <= p)} ** ${right}`, prec: p };
      }
      // Comparisons do not chain here: a < b < c would mean (a < b) and (b < c) in Python.
      const left = wrap(e.left, (q) => (p === 1 ? q <= p : q < p));
      return { code: `${left} ${BIN[e.op].py} ${wrap(e.right, (q) => q <= p)}`, prec: p };
    }
    case "call":
      return { code: FNS[e.fn].py(e.args.map((a) => exprToPython(a, names))), prec: ATOM };
  }
}

/** The variables an expression reads. */
export function expressionVariables(e: Expr): Set<string> {
  switch (e.kind) {
    case "num":
      return new Set();
    case "var":
      return new Set([e.name]);
    case "neg":
      return expressionVariables(e.arg);
    case "bin":
      return new Set([...expressionVariables(e.left), ...expressionVariables(e.right)]);
    case "call":
      return new Set(e.args.flatMap((a) => [...expressionVariables(a)]));
  }
}

export const EXPRESSION_FUNCTIONS = Object.keys(FNS);
