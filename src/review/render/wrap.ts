/** Wrap prose at a column the way a mail client would for a kernel list (72 by default). */
export function wrap(text: string, width = 72, indent = ""): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n/)) {
    const words = para.split(/\s+/).filter(Boolean);
    let line = indent;
    for (const w of words) {
      if (line.trim() !== "" && line.length + 1 + w.length > width) {
        out.push(line);
        line = indent + w;
      } else line = line.trim() === "" ? indent + w : `${line} ${w}`;
    }
    out.push(line.trim() === "" ? "" : line);
  }
  return out;
}
