/**
 * A CSV file as a data set: parsed with papaparse, header detected, columns chosen for the features and the
 * target, categorical columns one-hot encoded (features) or turned into class indices (target), and numeric
 * features optionally standardised. Every step is mirrored by `CSV_PYTHON` in exported scripts (Python's csv
 * module, float64, the same order of operations), so a script rebuilds the same tensors. Bad input names the
 * file, the row and the column.
 */
import Papa from "papaparse";

export class CsvError extends Error {
  override name = "CsvError";
}

/** What Python's float() and JavaScript's Number() both read the same way, and nothing else. */
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const INDEX = /^\s*\d+\s*$/;

/** Whether a cell is a number gradwire (and the exported script) reads. */
export const isNumberCell = (cell: string): boolean => NUMBER.test(cell);

export interface CsvTable {
  /** For messages: the file's path or name. */
  file: string;
  /** The data rows (header excluded), each with its 1-based line in the file. */
  rows: string[][];
  lines: number[];
  /** Column names: the header's, or "column N". */
  columns: string[];
  header: boolean;
}

/** Header detection: the first row is a header when one of its cells is not a number where the next row has one. */
function looksLikeHeader(first: string[], second: string[] | undefined): boolean {
  if (!second) return first.some((c) => !NUMBER.test(c));
  return first.some((c, i) => !NUMBER.test(c) && second[i] !== undefined && NUMBER.test(second[i]));
}

/** Progress of a long parse: the fraction of the text read so far. */
export type ParseProgress = (fraction: number) => void;

/** Text read per step when progress is reported (papaparse parses a string in chunks of this many characters). */
export const PROGRESS_CHUNK_CHARS = 4 << 20;

export function parseCsv(
  text: string,
  file: string,
  header: "auto" | "yes" | "no",
  onProgress?: ParseProgress,
  chunkChars = PROGRESS_CHUNK_CHARS,
): CsvTable {
  const all: string[][] = [];
  const lines: number[] = [];
  let index = 0;
  const take = (rows: string[][]) => {
    for (const row of rows) {
      index++;
      // A blank line: papaparse reads [""], Python's csv module [] — both skipped.
      if (row.length === 0 || (row.length === 1 && row[0] === "")) continue;
      all.push(row);
      lines.push(index);
    }
  };
  if (onProgress && text.length > chunkChars) {
    // Chunked parsing gives the same rows (papaparse carries a row cut by a chunk's end into the next chunk);
    // it runs synchronously, so the caller (a Web Worker) reports between chunks.
    const config = {
      skipEmptyLines: false,
      chunkSize: chunkChars,
      chunk: (r: Papa.ParseResult<string[]>) => {
        take(r.data);
        onProgress(Math.min(1, r.meta.cursor / text.length));
      },
    };
    // papaparse streams a string in chunks as well (synchronously); its typings admit `chunk` for files only.
    Papa.parse<string[]>(text, config as Papa.ParseConfig<string[]>);
  } else take(Papa.parse<string[]>(text, { skipEmptyLines: false }).data);
  if (all.length === 0) throw new CsvError(`${file}: the file has no rows`);
  const hasHeader = header === "auto" ? looksLikeHeader(all[0], all[1]) : header === "yes";
  const width = all[0].length;
  all.forEach((row, i) => {
    if (row.length !== width)
      throw new CsvError(
        `${file}: row ${lines[i]} has ${row.length} fields, expected ${width} (as in row ${lines[0]})`,
      );
  });
  const columns = hasHeader
    ? all[0].map((c, i) => c.trim() || `column ${i}`)
    : all[0].map((_, i) => `column ${i}`);
  return {
    file,
    rows: hasHeader ? all.slice(1) : all,
    lines: hasHeader ? lines.slice(1) : lines,
    columns,
    header: hasHeader,
  };
}

export interface CsvOptions {
  /** Feature columns by index, in order; null: every column but the target. */
  features: number[] | null;
  /** The target column; null: the last column. */
  target: number | null;
  /** Feature columns to one-hot encode. */
  categorical: number[];
  targetType: "number" | "class_index";
  standardize: boolean;
  /** Saved statistics of the numeric features (null: computed from this file). */
  mean: number[] | null;
  std: number[] | null;
}

export interface CsvDataset {
  /** Row-major (rows, features), float64 (typed, so a Web Worker hands it over without copying). */
  X: Float64Array;
  features: number;
  y: Float64Array;
  /** The statistics used for standardising (empty when not standardised). */
  mean: number[];
  std: number[];
  /** Class names of a class-index target, in index order (empty for numbers or integer labels). */
  classes: string[];
}

function columnOf(t: CsvTable, c: number, what: string): number {
  if (!Number.isInteger(c) || c < 0 || c >= t.columns.length)
    throw new CsvError(
      `${t.file}: ${what} column ${c} does not exist (the file has ${t.columns.length} columns)`,
    );
  return c;
}

function cell(t: CsvTable, r: number, c: number): string {
  const v = t.rows[r][c];
  if (v.trim() === "")
    throw new CsvError(`${t.file}: row ${t.lines[r]}, column '${t.columns[c]}': missing value`);
  return v;
}

function numberAt(t: CsvTable, r: number, c: number): number {
  const v = cell(t, r, c);
  if (!NUMBER.test(v))
    throw new CsvError(`${t.file}: row ${t.lines[r]}, column '${t.columns[c]}': '${v}' is not a number`);
  return Number(v);
}

/** A column's distinct values, sorted by code point (Python's sorted()). */
function categoriesOf(t: CsvTable, c: number): string[] {
  const seen = new Set<string>();
  for (let r = 0; r < t.rows.length; r++) seen.add(cell(t, r, c));
  return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function buildDataset(t: CsvTable, o: CsvOptions): CsvDataset {
  const target = columnOf(t, o.target ?? t.columns.length - 1, "target");
  const features = (o.features ?? t.columns.map((_, i) => i).filter((i) => i !== target)).map((c) =>
    columnOf(t, c, "feature"),
  );
  if (features.length === 0) throw new CsvError(`${t.file}: no feature columns are selected`);
  const n = t.rows.length;
  const categorical = new Set(o.categorical);
  // Numeric feature columns first as float64 columns, standardised when asked.
  const numeric = features.filter((c) => !categorical.has(c));
  const values = numeric.map((c) => Array.from({ length: n }, (_, r) => numberAt(t, r, c)));
  let mean: number[] = [];
  let std: number[] = [];
  if (o.standardize) {
    const saved = o.mean && o.std && o.mean.length === numeric.length && o.std.length === numeric.length;
    mean = saved ? [...(o.mean as number[])] : values.map((col) => col.reduce((s, v) => s + v, 0) / n);
    std = saved
      ? [...(o.std as number[])]
      : values.map((col, k) => {
          let q = 0;
          for (const v of col) q += (v - mean[k]) * (v - mean[k]);
          const s = Math.sqrt(q / n);
          return s === 0 ? 1 : s;
        });
    values.forEach((col, k) => {
      for (let r = 0; r < n; r++) col[r] = (col[r] - mean[k]) / std[k];
    });
  }
  const cats = new Map(features.filter((c) => categorical.has(c)).map((c) => [c, categoriesOf(t, c)]));
  const width = features.reduce((w, c) => w + (cats.get(c)?.length ?? 1), 0);
  const X = new Float64Array(n * width);
  let at = 0;
  for (let r = 0; r < n; r++)
    for (const c of features) {
      const names = cats.get(c);
      if (names) {
        const v = cell(t, r, c);
        for (const name of names) X[at++] = name === v ? 1 : 0;
      } else X[at++] = values[numeric.indexOf(c)][r];
    }
  const y = new Float64Array(n);
  let classes: string[] = [];
  if (o.targetType === "number") for (let r = 0; r < n; r++) y[r] = numberAt(t, r, target);
  else if (t.rows.every((_, r) => INDEX.test(cell(t, r, target))))
    for (let r = 0; r < n; r++) y[r] = Number(t.rows[r][target]);
  else {
    classes = categoriesOf(t, target);
    const index = new Map(classes.map((name, i) => [name, i]));
    for (let r = 0; r < n; r++) y[r] = index.get(t.rows[r][target]) ?? -1;
  }
  return { X, features: width, y, mean, std, classes };
}

/** The same steps in Python, for exported scripts: load_csv(text, ...) -> (X rows, y), float64. */
export function csvPython(name: string): string[] {
  return [
    `def ${name}(text, header, features, target, categorical, target_type, standardize, mean, std):`,
    '    """gradwire\'s CSV data set: the same parsing, columns, one-hot encoding and standardisation, in float64."""',
    `    index = re.compile(r"${INDEX.source}")`,
    "    rows = [r for r in csv.reader(io.StringIO(text)) if r and r != ['']]",
    "    if header:",
    "        rows = rows[1:]",
    "    n = len(rows)",
    "    if target is None:",
    "        target = len(rows[0]) - 1",
    "    if features is None:",
    "        features = [c for c in range(len(rows[0])) if c != target]",
    "    numeric = [c for c in features if c not in categorical]",
    "    values = [[float(r[c]) for r in rows] for c in numeric]",
    "    if standardize:",
    "        if mean is None or std is None or len(mean) != len(numeric) or len(std) != len(numeric):",
    "            mean, std = [], []",
    "            for col in values:",
    "                s = 0.0",
    "                for v in col:",
    "                    s += v",
    "                m = s / n",
    "                q = 0.0",
    "                for v in col:",
    "                    q += (v - m) * (v - m)",
    "                d = math.sqrt(q / n)",
    "                mean.append(m)",
    "                std.append(d if d != 0 else 1.0)",
    "        values = [[(v - mean[k]) / std[k] for v in col] for k, col in enumerate(values)]",
    "    cats = {c: sorted(set(r[c] for r in rows)) for c in features if c in categorical}",
    "    X = []",
    "    for i, r in enumerate(rows):",
    "        row = []",
    "        for c in features:",
    "            if c in cats:",
    "                row += [1.0 if name == r[c] else 0.0 for name in cats[c]]",
    "            else:",
    "                row.append(values[numeric.index(c)][i])",
    "        X.append(row)",
    "    if target_type == 'number':",
    "        y = [float(r[target]) for r in rows]",
    "    elif all(index.fullmatch(r[target]) for r in rows):",
    "        y = [int(r[target]) for r in rows]",
    "    else:",
    "        classes = sorted(set(r[target] for r in rows))",
    "        y = [classes.index(r[target]) for r in rows]",
    "    return X, y",
  ];
}
