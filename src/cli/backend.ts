/** Tell the user which backend runs, and why when it is not the one they asked for. */
import { type BackendChoice, type BackendName, resolveBackend } from "../runtime/scheduler-backend.ts";
import type { Io } from "./io.ts";

export async function noteBackend(name: BackendName, io: Io, what: "eval" | "train"): Promise<BackendChoice> {
  const choice = await resolveBackend(name);
  if (choice.fallback) io.stderr.write(`gradwire: ${choice.fallback}\n`);
  else if (what === "eval" && name !== "cpu")
    io.stderr.write(`gradwire: eval computes on the CPU; --backend ${name} applies to training\n`);
  return choice;
}
