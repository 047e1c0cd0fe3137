/**
 * A Vite root built into a temporary folder, served by `vite preview` on 127.0.0.1 (a free port), with
 * Debian's /usr/bin/chromium launched through playwright-core (never a downloaded browser). Shared by the
 * end-to-end tests, the WebGPU browser tests and the GPU benchmark.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { build, type InlineConfig, preview } from "vite";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--headless=new",
  // Headless Chromium exposes navigator.gpu on http://127.0.0.1 pages (SwiftShader where there is no GPU).
  "--enable-unsafe-webgpu",
  "--disable-gpu-sandbox",
];

export interface ServedApp {
  url: string;
  browser: Browser;
  /** Close the browser and the server, and remove the build. */
  close(): Promise<void>;
}

/**
 * Build and serve `root` and launch Chromium. `configFile` is the Vite config to use (false: none, then
 * `config` says everything); `config` is merged into the build (`build`, `worker`).
 */
export async function serveApp(opts: {
  root: string;
  configFile: string | false;
  config?: Pick<InlineConfig, "build" | "worker">;
  prefix?: string;
}): Promise<ServedApp> {
  const outDir = mkdtempSync(join(tmpdir(), opts.prefix ?? "gradwire-app-"));
  const common = { root: opts.root, configFile: opts.configFile, logLevel: "error" } as const;
  await build({
    ...common,
    worker: opts.config?.worker,
    build: { ...opts.config?.build, outDir, emptyOutDir: true },
  });
  const server = await preview({
    ...common,
    build: { outDir },
    preview: { host: "127.0.0.1", port: 0, strictPort: false, open: false },
  });
  const addr = server.httpServer.address();
  if (!addr || typeof addr === "string") throw new Error("the preview server has no port");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.httpServer.close(() => r()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
