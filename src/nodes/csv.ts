/**
 * The csv node: a CSV file as a data set (X, y). The graph stores the file's path (relative to the graph file)
 * and SHA-256, and can embed the text itself (`content`, up to MAX_EMBEDDED_CHARS); reading files is left to
 * the CLI and the editor (src/nodes/csv/store.ts), so loading a graph never reads or runs anything by itself.
 */
import { type DType, fromFlat } from "../runtime/index.ts";
import {
  type Built,
  type CsvSource,
  cacheKey,
  csvDataset,
  csvText,
  followProvidedCsv,
  provideCsv,
  rememberCsv,
} from "./csv/store.ts";
import { CsvError, type CsvOptions, csvPython, type ParseProgress } from "./csv/table.ts";
import { pyStr, pyValue } from "./python.ts";
import { floatDType } from "./random.ts";
import { defineKind, withSamples } from "./registry.ts";
import { meta } from "./shapes.ts";
import { InferError, type NodeKind, type ParamReader } from "./types.ts";

export { followProvidedCsv, provideCsv };

/** Files up to this many characters may be embedded in the graph (and are embedded in exported scripts). */
export const MAX_EMBEDDED_CHARS = 4_000_000;

function options(p: ParamReader): CsvOptions {
  return {
    features: p.numsOrNull("features"),
    target: p.numOrNull("target"),
    categorical: p.nums("categorical"),
    targetType: p.str("target_type") as CsvOptions["targetType"],
    standardize: p.bool("standardize"),
    mean: p.numsOrNull("mean"),
    std: p.numsOrNull("std"),
  };
}

const fileName = (p: ParamReader) => (p.str("path") !== "" ? p.str("path") : "the embedded CSV");

/** Hand a data set parsed elsewhere (the editor's worker) to this thread's cache, for the node's params. */
export function rememberCsvData(p: ParamReader, text: string, built: Built): void {
  rememberCsv(
    cacheKey(sourceOf(p), text),
    fileName(p),
    p.str("header") as "auto" | "yes" | "no",
    options(p),
    built,
  );
}

/** The node's data set, or an InferError saying what is wrong (not loaded, a bad cell...). */
const sourceOf = (p: ParamReader): CsvSource => ({
  content: p.str("content"),
  path: p.str("path"),
  sha256: p.str("sha256"),
});

export function csvData(p: ParamReader, onProgress?: ParseProgress) {
  const source = sourceOf(p);
  const text = csvText(source);
  if (text === undefined)
    throw new InferError(
      p.str("path") === ""
        ? "no CSV file: choose one (the file picker, or drop it on the canvas)"
        : `the CSV file '${p.str("path")}' is not loaded (the CLI reads it relative to the graph file; the editor asks for it)`,
    );
  try {
    return {
      text,
      ...csvDataset(
        text,
        fileName(p),
        p.str("header") as "auto" | "yes" | "no",
        options(p),
        onProgress,
        cacheKey(source, text),
      ),
    };
  } catch (e) {
    if (e instanceof CsvError) throw new InferError(e.message);
    throw e;
  }
}

const yDType = (p: ParamReader): DType =>
  p.str("target_type") === "class_index" ? "int64" : (p.str("dtype") as DType);

const columnList = (name: string, help: string) => ({
  name,
  type: "numbers" as const,
  integer: true,
  min: 0,
  default: null,
  nullable: true,
  help,
});

const csv: NodeKind = defineKind({
  type: "csv",
  family: "Data",
  description: "A CSV file as a data set: feature columns as X, a target column as y",
  inputs: [],
  outputs: [
    { name: "X", help: "the feature columns, one row per line (rows, features)" },
    { name: "y", help: "the target column: numbers, or class indices (int64)" },
  ],
  params: [
    {
      name: "path",
      type: "string",
      default: "",
      maxLength: 1000,
      help: "the file, relative to the graph file",
    },
    {
      name: "sha256",
      type: "string",
      default: "",
      maxLength: 64,
      help: "the file's SHA-256 when it was chosen: a changed file is refused",
    },
    {
      name: "content",
      type: "string",
      default: "",
      multiline: true,
      maxLength: MAX_EMBEDDED_CHARS,
      help: "the file's text, embedded in the graph (empty: read from path)",
    },
    {
      name: "header",
      type: "enum",
      options: ["auto", "yes", "no"],
      default: "auto",
      help: "whether the first row names the columns; auto: when it has text above numbers",
    },
    { ...columnList("features", "feature columns by index (0 is the first); None: all but the target") },
    {
      name: "target",
      type: "number",
      integer: true,
      min: 0,
      default: null,
      nullable: true,
      help: "the target column's index; None: the last column",
    },
    {
      ...columnList("categorical", "feature columns of categories, one-hot encoded"),
      default: [],
      nullable: false,
    },
    {
      name: "target_type",
      type: "enum",
      options: ["number", "class_index"],
      default: "number",
      help: "number: regression targets; class_index: labels as int64 class indices (names sorted)",
    },
    { ...floatDType, help: "element type of X (and of y for number targets)" },
    { name: "standardize", type: "boolean", default: false, help: "scale numeric features to mean 0, std 1" },
    {
      ...columnList("mean", "saved means of the numeric features (None: computed from the file)"),
      integer: false,
      min: undefined,
    },
    { ...columnList("std", "saved standard deviations (None: computed from the file)"), integer: false },
  ],
  infer({ params }) {
    const { data } = csvData(params);
    const n = data.y.length;
    return { X: meta([n, data.features], params.str("dtype") as DType), y: meta([n], yDType(params)) };
  },
  leaves(p, label) {
    const { data } = csvData(p);
    const X = fromFlat(data.X, [data.y.length, data.features], p.str("dtype") as DType);
    const y = fromFlat(data.y, [data.y.length], yDType(p));
    X.name = `${label}.X`;
    y.name = `${label}.y`;
    return { X, y };
  },
  evaluate: (c) => ({ X: c.leaves.X, y: c.leaves.y }),
  torch: () => [],
  torchSetup(c) {
    const p = c.params;
    const { text, header } = csvData(p);
    const fn = c.helper("load_csv", csvPython);
    const rows = c.name("csv_data");
    // Small files travel inside the script; larger ones are read from their path (next to the graph file).
    const source =
      text.length <= MAX_EMBEDDED_CHARS ? pyStr(text) : `open(${pyStr(p.str("path"))}, newline="").read()`;
    const args = [
      source,
      header ? "True" : "False",
      pyValue(p.numsOrNull("features")),
      pyValue(p.numOrNull("target")),
      pyValue(p.nums("categorical")),
      pyStr(p.str("target_type")),
      p.bool("standardize") ? "True" : "False",
      pyValue(p.numsOrNull("mean")),
      pyValue(p.numsOrNull("std")),
    ];
    const yLine =
      p.str("target_type") === "class_index"
        ? `${c.outputs.y} = torch.tensor(${rows}[1], dtype=torch.int64).to(${c.device})`
        : `${c.outputs.y} = torch.tensor(${rows}[1], dtype=torch.float64).to(torch.${p.str("dtype")}).to(${c.device})`;
    return [
      `${rows} = ${fn}(${args.join(", ")})`,
      `${c.outputs.X} = torch.tensor(${rows}[0], dtype=torch.float64).reshape(-1, ${csvData(p).data.features}).to(torch.${p.str("dtype")}).to(${c.device})`,
      yLine,
    ];
  },
});

export const csvKind: NodeKind = withSamples(csv, [
  {
    inputs: {},
    params: {
      content: "a,kind,b,label\n1.5,x,-2,0\n2.5,y,0.25,1\n-1,x,3,1\n",
      categorical: [1],
      target_type: "class_index",
    },
  },
]);
