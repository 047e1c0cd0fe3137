/**
 * A Web Worker that reads, hashes, decodes, parses and checks a large CSV file off the main thread, reporting
 * progress as it goes (see csvFile.ts). The parsed columns come back as transferred buffers, not copies.
 */
import type { ParamValues } from "../../nodes/index.ts";
import { registry } from "../../nodes/index.ts";
import { checkCsv, sha256Hex } from "./csvFile.ts";
import type { WorkerReply } from "./csvWorkerClient.ts";

const post = (m: WorkerReply, transfer: Transferable[] = []) => self.postMessage(m, { transfer });

self.onmessage = async (e: MessageEvent<{ file: File; params: ParamValues }>) => {
  const { file, params } = e.data;
  const size = file.size.toLocaleString("en");
  try {
    post({ type: "progress", message: `Reading ${file.name} (${size} bytes)…`, fraction: 0 });
    const bytes = await file.arrayBuffer();
    post({ type: "progress", message: `Checking ${file.name}…`, fraction: 0 });
    const sha256 = await sha256Hex(bytes);
    const text = new TextDecoder().decode(bytes);
    const load = checkCsv(registry.get("csv")!, text, params, (f) =>
      post({ type: "progress", message: `Parsing ${file.name}: ${Math.floor(100 * f)}%`, fraction: f }),
    );
    // The bytes go on to the training worker, which decodes them itself (see provideCsv).
    post(
      { type: "done", load, text, sha256, bytes },
      load.ok ? [load.built.data.X.buffer, load.built.data.y.buffer, bytes] : [],
    );
  } catch (err) {
    post({
      type: "done",
      load: { ok: false, error: `${file.name}: ${err instanceof Error ? err.message : String(err)}` },
    });
  }
};
