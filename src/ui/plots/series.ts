/**
 * Columnar, growable storage for streamed training records: one x column (epoch) and named y columns, in
 * Float64Arrays that double when full, so appending a batch never copies more than amortised O(1) per point.
 */

export class SeriesTable {
  private cap: number;
  private len = 0;
  x: Float64Array;
  readonly cols = new Map<string, Float64Array>();
  /** The columns by position (`colIndex`), for appending rows without a lookup per value. */
  private list: Float64Array[] = [];
  private index = new Map<string, number>();

  constructor(private readonly initial = 256) {
    this.cap = initial;
    this.x = new Float64Array(initial);
  }

  get length(): number {
    return this.len;
  }

  columns(): string[] {
    return [...this.cols.keys()];
  }

  col(name: string): Float64Array {
    let c = this.cols.get(name);
    if (!c) {
      // A column that appears late (a param added mid-run) is NaN before it existed: drawn as a gap.
      c = new Float64Array(this.cap).fill(Number.NaN);
      this.cols.set(name, c);
      this.index.set(name, this.list.length);
      this.list.push(c);
    }
    return c;
  }

  /** A column's position for `set`, made when first asked for; valid until `clear`. */
  colIndex(name: string): number {
    this.col(name);
    return this.index.get(name) as number;
  }

  private grow(need: number): void {
    if (need <= this.cap) return;
    let cap = this.cap;
    while (cap < need) cap *= 2;
    const nx = new Float64Array(cap);
    nx.set(this.x.subarray(0, this.len));
    this.x = nx;
    for (const [k, c] of this.cols) {
      // Only the filled rows are copied, and the new part is left as it is (every push writes each column's
      // row, NaN where the record has no value): a grow of a table of a million rows is one long task as it is,
      // and writing the new half would touch all of its memory at once rather than as the rows come.
      const nc = new Float64Array(cap);
      nc.set(c.subarray(0, this.len));
      this.cols.set(k, nc);
      this.list[this.index.get(k) as number] = nc;
    }
    this.cap = cap;
  }

  /**
   * Grow ahead of need once three quarters full; true when it grew. The training log grows at most one table per
   * batch of records this way, so its tables (which fill at the same pace) never all copy in the same task.
   */
  growEarly(): boolean {
    if (this.len * 4 < this.cap * 3) return false;
    this.grow(this.cap + 1);
    return true;
  }

  /** Append one row: x and the values of whichever columns it has (others are NaN for this row). */
  push(x: number, values: Record<string, number>): void {
    const i = this.addRow(x);
    for (const k in values) this.set(this.colIndex(k), i, values[k]);
  }

  /**
   * Append a row at x with every column NaN, and return its position for `set`: a batch of records then fills
   * its values straight into the columns, with no object per record (thousands of records a second).
   */
  addRow(x: number): number {
    this.grow(this.len + 1);
    const i = this.len++;
    this.x[i] = x;
    const list = this.list;
    for (let k = 0; k < list.length; k++) list[k][i] = Number.NaN;
    return i;
  }

  /** Write row `row` of the column at position `col` (from `colIndex`). */
  set(col: number, row: number, value: number): void {
    this.list[col][row] = value;
  }

  clear(): void {
    this.len = 0;
    this.cols.clear();
    this.list = [];
    this.index.clear();
    // Back to the first size: a table kept at a long run's capacity would make each column of the next run (a
    // model with dozens of plotted elements) that size at once, one long task of hundreds of milliseconds.
    this.cap = this.initial;
    this.x = new Float64Array(this.initial);
  }

  /** Views of the filled part, for drawing. */
  view(name: string): Float64Array {
    return this.col(name).subarray(0, this.len);
  }

  xView(): Float64Array {
    return this.x.subarray(0, this.len);
  }
}
