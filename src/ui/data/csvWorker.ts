/** A Web Worker that parses and checks a large CSV file off the main thread (see csvFile.ts). */
import type { ParamValues } from "../../nodes/index.ts";
import { registry } from "../../nodes/index.ts";
import { checkCsv } from "./csvFile.ts";

self.onmessage = (e: MessageEvent<{ text: string; params: ParamValues }>) => {
  self.postMessage(checkCsv(registry.get("csv")!, e.data.text, e.data.params));
};
