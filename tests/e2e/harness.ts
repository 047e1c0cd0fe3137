/**
 * End-to-end harness: builds the app with Vite's programmatic API into a temporary folder, serves it with
 * `vite preview` on 127.0.0.1 (a free port), and drives Debian's /usr/bin/chromium through playwright-core.
 * The production build is what users get, and it avoids the dev server's on-demand dependency optimisation,
 * which can reload the page mid-test.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type ServedApp, serveApp } from "../helpers/served-app.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ARTEFACTS = join(ROOT, "test-results", "e2e");

export type App = ServedApp;

let shared: Promise<App> | null = null;

async function start(): Promise<App> {
  const served = await serveApp({
    root: ROOT,
    configFile: join(ROOT, "vite.config.ts"),
    config: { build: { sourcemap: false, minify: false } },
    prefix: "gradwire-e2e-",
  });
  mkdirSync(ARTEFACTS, { recursive: true });
  return served;
}

/** One build and one browser per test file. */
export function app(): Promise<App> {
  shared ??= start();
  return shared;
}

export async function closeApp(): Promise<void> {
  if (!shared) return;
  const a = await shared;
  shared = null;
  await a.close();
}

export interface Session {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A fresh browser context (its own localStorage), with page errors collected so tests can assert none. */
export async function openPage(
  a: App,
  opts: { width?: number; height?: number; path?: string } = {},
): Promise<Session> {
  const context = await a.browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 720 },
    acceptDownloads: true,
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: a.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(a.url + (opts.path ?? ""));
  await page.waitForSelector('[data-testid="app-ready"]', { state: "attached", timeout: 30_000 });
  return { context, page, errors };
}

export async function shot(page: Page, name: string): Promise<string> {
  const path = join(ARTEFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Inside a describe: open a fresh page for the suite (handed to `onOpen`), screenshot any test that fails,
 * and close the page when the suite ends.
 */
export function suitePage(onOpen: (a: App, s: Session) => void): void {
  let session: Session | undefined;
  beforeAll(async () => {
    const a = await app();
    session = await openPage(a);
    onOpen(a, session);
  });
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      if (session) await shot(session.page, `FAILED-${task.name.replace(/\W+/g, "-")}`);
    });
  });
  afterAll(async () => {
    await session?.context.close();
  });
}
