/** What the custom node and edge components reach for: the editor and the analysis of the graph. */
import { createContext, useContext } from "solid-js";
import type { Analysis } from "../state/analysis.ts";
import type { Editor } from "../state/editor.ts";

export interface CanvasContextValue {
  editor: Editor;
  analysis: Analysis;
}

export const CanvasContext = createContext<CanvasContextValue>();

export function useCanvas(): CanvasContextValue {
  const c = useContext(CanvasContext);
  if (!c) throw new Error("canvas components must be rendered inside <Canvas>");
  return c;
}
