/**
 * The editor end to end in real Chromium. One production build and one browser serve every suite, run in
 * order: editing, training, then every example. Screenshots of key states go to test-results/e2e/.
 */
import { afterAll } from "vitest";
import { closeApp } from "./harness.ts";
import "./editing.suite.ts";
import "./training.suite.ts";
import "./examples.suite.ts";
import "./data.suite.ts";

afterAll(async () => {
  await closeApp();
});
