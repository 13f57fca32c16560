import { describe, expect, it } from "vitest";
import { blankNonCode, substitute } from "../../../src/model/code/lex.js";

/** The blanked text with its runs of spaces squeezed, after checking nothing moved. */
function blanked(text: string, inComment = false): string {
  const out = blankNonCode(text, inComment);
  expect(out.length).toBe(text.length);
  expect(out.split("\n").length).toBe(text.split("\n").length);
  return out.replace(/ +/g, " ");
}

describe("C lexing for the model", () => {
  it("blanks a block comment over several lines and keeps the line breaks", () => {
    const text = "a = 1; /* sgt->nents =\n   ret; */ b = 2;";
    expect(blanked(text)).toBe("a = 1; \n b = 2;");
  });

  it("a // inside a string is no comment, and the code after the string stays", () => {
    expect(blanked('pr_info("see http://x"); sgt->nents = ret; // kept')).toBe('pr_info(" "); sgt->nents = ret; ');
  });

  it("text that starts inside a comment is comment up to its end", () => {
    expect(blanked(" * sgt->nents = ret;\n */ x = 1;", true)).toBe(" \n x = 1;");
  });

  it("substitutes parameters all at once and never a member name", () => {
    const b = new Map([
      ["dev", "attach->dev"],
      ["a", "b"],
    ]);
    expect(substitute("!dev_is_dma_coherent(dev) && a->dev", b)).toBe("!dev_is_dma_coherent((attach->dev)) && (b)->dev");
    // The value put in for `d` names `a`, which is bound too: it is not replaced again.
    expect(substitute("d + a", new Map([["d", "a->x"], ["a", "b"]]))).toBe("(a->x) + (b)");
    expect(substitute('f("dev", dev)', b)).toBe('f("dev", (attach->dev))');
  });
});
