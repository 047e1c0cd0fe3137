/**
 * The graph file's zod schemas. The loader validates with exactly these, and the published JSON Schema
 * (docs/graph.schema.json) is generated from them, so the documentation cannot drift from the validator.
 */
import { z } from "zod";
import { paramsSchema } from "../nodes/params.ts";
import type { Registry } from "../nodes/registry.ts";
import type { NodeKind } from "../nodes/types.ts";
import { MODULE_TYPE, PATH_SEP } from "./modules.ts";
import { ID_PATTERN, isReservedId, RESERVED_ID_MESSAGE } from "./types.ts";

export const FORMAT = "gradwire.graph";
export const CURRENT_VERSION = 3;

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

const portName = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
      error: "must start with a letter or _ and hold only letters, digits and _ (at most 64)",
    })
    .describe(what);

/** A module instance: a node of type `module` naming its definition, with overrides of inner nodes' params. */
export const moduleNodeSchema = z
  .strictObject({
    ...nodeFields,
    type: z.literal(MODULE_TYPE),
    params: z
      .looseObject({ module: id("the module definition this node is an instance of") })
      .describe(
        "'module': the definition's id; any other key '<inner node id>.<param>' sets that param of the inner node in this instance only",
      ),
  })
  .describe("An instance of a module definition: its ports are the definition's inputs and outputs");

export const moduleSchema = z
  .strictObject({
    id: id("the module's name, unique among modules (also the exported nn.Module class)"),
    description: z.string().max(20_000).optional(),
    sequential: z
      .literal(true)
      .optional()
      .describe(
        "a Sequential (like torch.nn.Sequential): the inside is one chain of layers, exported as nn.Sequential",
      ),
    inputs: z
      .array(
        z.strictObject({
          name: portName("the input port's name"),
          targets: z
            .array(
              z.strictObject({
                node: id("an inner node"),
                port: z.string().min(1).describe("that node's input port"),
              }),
            )
            .describe("the inner inputs this port feeds"),
        }),
      )
      .describe("the module's input ports"),
    outputs: z
      .array(
        z.strictObject({
          name: portName("the output port's name"),
          node: id("the inner node the value comes from"),
          port: z.string().min(1).describe("that node's output port"),
        }),
      )
      .describe("the module's output ports"),
    nodes: z.array(anyNodeSchema),
    edges: z.array(edgeSchema),
  })
  .describe("a reusable module: a graph of its own with named input and output ports");

const header = {
  format: z.literal(FORMAT).describe("always 'gradwire.graph'"),
  version: z.literal(CURRENT_VERSION).describe("the format version"),
  title: z.string().max(200).optional(),
  description: z.string().max(20_000).optional(),
  settings: settingsSchema.optional(),
  objective: z
    .string()
    .superRefine((path, ctx) => {
      // A node id, or inside a module the instance path to one (block1/loss): every part is an id.
      for (const part of path.split(PATH_SEP)) {
        if (isReservedId(part)) ctx.addIssue({ code: "custom", message: `'${part}' ${RESERVED_ID_MESSAGE}` });
        else if (!ID_PATTERN.test(part))
          ctx.addIssue({
            code: "custom",
            message: "must start with a letter or _ and hold only letters, digits, _ and - (at most 64)",
          });
        else continue;
        return;
      }
    })
    .describe(
      "the node eval backpropagates from (default: the optimizer's loss); inside a module, its path: block1/loss",
    )
    .optional(),
  modules: z.array(moduleSchema).optional().describe("module definitions, used by nodes of type 'module'"),
  edges: z.array(edgeSchema),
};

/** The whole file with nodes checked structurally only (kinds are checked node by node, by kindNodeSchema). */
export const graphFileShape = z.strictObject({ ...header, nodes: z.array(anyNodeSchema) });

export type GraphFile = z.infer<typeof graphFileShape>;

/** The full schema, each node type with its own params: what docs/graph.schema.json is generated from. */
export function graphFileSchema(registry: Registry): z.ZodObject {
  const kinds = [...registry.list().map((k) => kindNodeSchema(k)), moduleNodeSchema] as unknown as [
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
