/** Run csvWorker.ts on one file: progress as it goes, then its text, SHA-256 and parsed shape, or the error. */
import type { ParamValues } from "../../nodes/index.ts";
import type { CsvLoad } from "./csvFile.ts";

export type WorkerReply =
  | { type: "progress"; message: string; fraction: number }
  | { type: "done"; load: CsvLoad; text?: string; sha256?: string; bytes?: ArrayBuffer };

export interface WorkerRead {
  load: CsvLoad;
  text: string;
  sha256: string;
  /** The file's bytes, for the training worker (moved there, not copied). */
  bytes?: ArrayBuffer;
}

export function readInWorker(
  file: File,
  params: ParamValues,
  onProgress?: (message: string, fraction?: number) => void,
): Promise<WorkerRead> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./csvWorker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const m = e.data;
      if (m.type === "progress") {
        onProgress?.(m.message, m.fraction);
        return;
      }
      resolve({ load: m.load, text: m.text ?? "", sha256: m.sha256 ?? "", bytes: m.bytes });
      worker.terminate();
    };
    worker.onerror = (e) => {
      resolve({ load: { ok: false, error: `the CSV reader stopped: ${e.message}` }, text: "", sha256: "" });
      worker.terminate();
    };
    worker.postMessage({ file, params });
  });
}
