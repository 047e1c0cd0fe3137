/**
 * The graph file's zod schemas. The loader validates with exactly these, and the published JSON Schema
 * (docs/graph.schema.json) is generated from them, so the documentation cannot drift from the validator.
 */
import { z } from "zod";
import { paramsSchema } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import type { NodeKind } from "../nodes/types.ts";
import { ID_PATTERN, isReservedId, RESERVED_ID_MESSAGE } from "./types.ts";

export const FORMAT = "gradwire.graph";
export const CURRENT_VERSION = 2;

const id = (what: string) =>
  z
    .string()
    .regex(ID_PATTERN, {
      error: "must start with a letter or _ and hold only letters, digits, _ and - (at most 64)",
    })
    .refine((s) => !isReservedId(s), { error: (issue) => `'${String(issue.input)}' ${RESERVED_ID_MESSAGE}` })
    .describe(what);

export const positionSchema = z
  .strictObject({ x: z.number(), y: z.number() })
  .describe("where the node sits on the canvas");

export const edgeSchema = z
  .strictObject({
    id: id("unique edge id"),
    source: id("the node the data comes from"),
    sourcePort: z.string().min(1).describe("the source node's output port, usually 'out'"),
    target: id("the node the data goes to"),
    targetPort: z.string().min(1).describe("the target node's input port, named like PyTorch's argument"),
  })
  .describe("data flows from source.sourcePort to target.targetPort");

/** The most epochs one run may take (settings.epochs and the CLI's --epochs alike). */
export const MAX_EPOCHS = 10_000_000;

export const settingsSchema = z
  .strictObject({
    epochs: z.number().int().min(0).max(MAX_EPOCHS).describe("how many epochs a training run takes"),
  })
  .describe("run settings");

const nodeFields = {
  id: id("unique node id"),
  name: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("display name, also the tensor's and the Python variable's name"),
  position: positionSchema.optional(),
};

const kindSchemas = new WeakMap<NodeKind, z.ZodObject>();

/** A node of one kind, with that kind's params; built once per kind (loading checks every node with it). */
export function kindNodeSchema(kind: NodeKind): z.ZodObject {
  let schema = kindSchemas.get(kind);
  if (!schema) {
    schema = z
      .strictObject({
        ...nodeFields,
        type: z.literal(kind.type),
        params: paramsSchema(kind).optional().describe("params that differ from the defaults"),
      })
      .describe(kind.description);
    kindSchemas.set(kind, schema);
  }
  return schema;
}

/** A node before its kind is known: what every node has. */
export const anyNodeSchema = z.strictObject({
  ...nodeFields,
  type: z.string().min(1).describe("the node kind (its PyTorch name)"),
  params: z.record(z.string(), z.unknown()).optional(),
});

const header = {
  format: z.literal(FORMAT).describe("always 'gradwire.graph'"),
  version: z.literal(CURRENT_VERSION).describe("the format version"),
  title: z.string().max(200).optional(),
  description: z.string().max(20_000).optional(),
  settings: settingsSchema.optional(),
  objective: id("the node eval backpropagates from (default: the optimizer's loss)").optional(),
  edges: z.array(edgeSchema),
};

/** The whole file with nodes checked structurally only (kinds are checked node by node, by kindNodeSchema). */
export const graphFileShape = z.strictObject({ ...header, nodes: z.array(anyNodeSchema) });

export type GraphFile = z.infer<typeof graphFileShape>;

/** The full schema, each node type with its own params: what docs/graph.schema.json is generated from. */
export function graphFileSchema(registry: Registry): z.ZodObject {
  const kinds = registry.list().map((k) => kindNodeSchema(k)) as unknown as [
    z.ZodObject,
    z.ZodObject,
    ...z.ZodObject[],
  ];
  return z
    .strictObject({ ...header, nodes: z.array(z.discriminatedUnion("type", kinds)) })
    .describe("A gradwire graph: tensors, models, losses and optimizers wired together");
}

export function graphJsonSchema(registry: Registry): Record<string, unknown> {
  const schema = z.toJSONSchema(graphFileSchema(registry), {
    target: "draft-2020-12",
    reused: "ref",
  }) as Record<string, unknown>;
  return { ...schema, title: "gradwire graph file", $id: "gradwire.graph.schema.json" };
}
