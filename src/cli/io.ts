/** Where the CLI writes: process streams in the bin, string buffers in tests. */
export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: Out;
  stderr: Out;
}

/** Exit codes: 0 ok, 1 an invalid graph or a runtime error, 2 a usage error. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** An error that ends the command with exit code 1 after its message is printed. */
export class CliFailure extends Error {
  override name = "CliFailure";
}
