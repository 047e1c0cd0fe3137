/** Every node kind, registered by family; import the registry from here. */
import { ACTIVATION_SAMPLES } from "./activation-samples.ts";
import { ACTIVATION_KINDS } from "./activations.ts";
import { CONV_KINDS } from "./conv.ts";
import { csvKind } from "./csv.ts";
import { DATA_KINDS } from "./data.ts";
import { DATASET_KINDS } from "./datasets.ts";
import { dataLoaderKind } from "./loader.ts";
import { LOSS_KINDS } from "./losses.ts";
import { METRIC_KINDS } from "./metrics.ts";
import { MODEL_KINDS } from "./model.ts";
import { NORM_KINDS } from "./norms.ts";
import { OPS_KINDS } from "./ops.ts";
import { OPTIMIZER_KINDS } from "./optimizers.ts";
import { Registry, withSamples } from "./registry.ts";
import { SCHEDULER_KINDS } from "./schedulers.ts";
import { TOOL_KINDS } from "./tools.ts";

export { csvData, followProvidedCsv, MAX_EMBEDDED_CHARS, provideCsv, rememberCsvData } from "./csv.ts";
export { EXPRESSION_FUNCTIONS, evalExpr, exprToPython, parseExpr } from "./expression.ts";
export { defaultParams, paramSchema, paramsSchema, readParams } from "./params.ts";
export * from "./python.ts";
export { defineKind, Registry } from "./registry.ts";
export { MAX_ELEMENTS } from "./shapes.ts";
export * from "./types.ts";

export const ALL_KINDS = [
  ...DATA_KINDS,
  ...DATASET_KINDS,
  csvKind,
  dataLoaderKind,
  ...MODEL_KINDS,
  ...CONV_KINDS,
  ...NORM_KINDS,
  ...OPS_KINDS,
  ...ACTIVATION_KINDS.map((k) => (k.samples ? k : withSamples(k, ACTIVATION_SAMPLES[k.type] ?? []))),
  ...LOSS_KINDS,
  ...OPTIMIZER_KINDS,
  ...SCHEDULER_KINDS,
  ...METRIC_KINDS,
  ...TOOL_KINDS,
];

/** The registry of every built-in node kind. */
export const registry = new Registry(ALL_KINDS);
