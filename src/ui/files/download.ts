/** Saving a file from the browser: a Blob behind a temporary link, clicked. */
export function downloadText(filename: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A file name from a graph title: lower case, dashes, `.gradwire.json`. */
export function fileNameFor(title: string | undefined): string {
  const base = (title ?? "graph")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${base || "graph"}.gradwire.json`;
}
