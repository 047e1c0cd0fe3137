/** The graph document: nodes and edges kept as records keyed by id, plus run settings and metadata. */
import type { ParamValues } from "../nodes/types.ts";
import type { Modules } from "./modules.ts";

export interface Position {
  x: number;
  y: number;
}

export interface GraphNode {
  /** Unique in the graph: letters, digits, _ and -, starting with a letter or _. */
  id: string;
  /** The node kind's PyTorch name (mse_loss, SGD, tensor...). */
  type: string;
  /** A display name (used for the tensor's name, messages and exported variable names). */
  name?: string;
  position: Position;
  /** Only the params that were set; the kind's defaults fill in the rest. */
  params: ParamValues;
}

/** Data flows from the source node's output port to the target node's input port. */
export interface GraphEdge {
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface RunSettings {
  /** How many epochs a training run takes. */
  epochs: number;
}

export interface GraphDoc {
  title?: string;
  description?: string;
  nodes: Record<string, GraphNode>;
  edges: Record<string, GraphEdge>;
  settings: RunSettings;
  /** The node whose output `eval` backpropagates from and training reports; defaults to the optimizer's loss. */
  objective?: string;
  /** Module definitions, by id: what `module` nodes (instances) stand for (src/graph/modules.ts). */
  modules?: Modules;
}

export const DEFAULT_SETTINGS: RunSettings = { epochs: 100 };

export const ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * An id that names a property every JavaScript object has (`__proto__`, `constructor`, `toString`...). Nodes and
 * edges are records keyed by id, where such a key would read or replace that property, so these ids are refused.
 */
export function isReservedId(id: string): boolean {
  return id in Object.prototype;
}

/** The node with this id, if there is one (an own property only, whatever text the id is). */
export function nodeById(doc: GraphDoc, id: string): GraphNode | undefined {
  return Object.hasOwn(doc.nodes, id) ? doc.nodes[id] : undefined;
}

export const RESERVED_ID_MESSAGE =
  "is reserved (names such as __proto__, constructor and toString belong to every object); choose another id";

export function emptyGraph(): GraphDoc {
  return { nodes: {}, edges: {}, settings: { ...DEFAULT_SETTINGS } };
}

/** The label a node shows and messages use: its name, else its id. */
export function nodeLabel(node: GraphNode): string {
  return node.name ?? node.id;
}

/** How a message refers to a node: `'loss' (mse_loss)`. */
export function describeNode(node: GraphNode): string {
  return `'${nodeLabel(node)}' (${node.type})`;
}
