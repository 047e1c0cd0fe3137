/** Run csvWorker.ts on one file's text: the parsed shape, or the error naming file, row and column. */
import type { ParamValues } from "../../nodes/index.ts";
import type { CsvLoad } from "./csvFile.ts";

export function parseInWorker(text: string, params: ParamValues): Promise<CsvLoad> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./csvWorker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<CsvLoad>) => {
      resolve(e.data);
      worker.terminate();
    };
    worker.onerror = (e) => {
      resolve({ ok: false, error: `the CSV parser stopped: ${e.message}` });
      worker.terminate();
    };
    worker.postMessage({ text, params });
  });
}
