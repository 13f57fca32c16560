import { parseAddressHeader } from "mailparser";
import { describe, expect, it } from "vitest";
import { parseAddresses, quickAddresses } from "../../src/ingest/plain-addresses.js";

const shape = (list: readonly { address?: string; name?: string; group?: unknown }[]) => JSON.stringify(list.map((a) => ({ address: a.address, name: a.name, group: a.group })));

// Display names as list mail writes them, plain and odd: the quick reading must agree with
// mailparser on every one it takes, and leave the rest to it.
const NAMES = [
  "Jane Dev", "LKML", "Greg Kroah-Hartman", "David S. Miller", "O'Brien", "Christian König", "李 雷", "dri-devel",
  '"Koenig, Christian"', '"open list:DMA BUFFER SHARING FRAMEWORK"', '"Zhang, Jesse(Jie)"', '"a@b.org"', '"sumit.semwal@linaro.org"',
  '" Spaced "', '"Two  blanks"', '""', '"Dev \\"Q\\" Jane"', "Spaced   Name", "Jane (Dev)", "Jane <Dev>", "Jane;Dev", "Jane:Dev", "Trailing.",
  "=?UTF-8?Q?Christian_K=C3=B6nig?=", "=?utf-8?B?Q2hyaXN0aWFuIEvDtm5pZw==?=", "Christian =?iso-8859-1?Q?K=F6nig?=", '"=?UTF-8?Q?K=C3=B6nig=2C_C?="',
  "=?bogus?Q?x?=", "=?UTF-8?Q?broken", "a@b", "[list]", "x\\y",
];
const ADDRESSES = ["jane.dev@example.org", "Christian.Koenig@amd.com", "a+b=c@x-y.example", "a@xn--bcher-kva.example", "user@[127.0.0.1]", "a@b", "weird@@x", "sp ace@x.org", "a@b.org."];

function values(): string[] {
  const out: string[] = [];
  for (const name of NAMES) {
    for (const address of ADDRESSES) {
      out.push(`${name} <${address}>`, `${name}<${address}>`, `${name}  <${address} >`, `\t${name} <${address}>`);
    }
  }
  for (const address of ADDRESSES) out.push(address, `<${address}>`, ` ${address} `, `${address} (Jane)`);
  const lists: string[] = [];
  for (let i = 0; i < out.length; i += 7) {
    lists.push(`${out[i]}, ${out[(i * 3 + 1) % out.length]}`, `${out[i]},${out[(i * 5 + 2) % out.length]}, ${out[(i * 11 + 3) % out.length]}`, `${out[i]}, `, `, ${out[i]}`, `${out[i]},, x@y.org`);
  }
  // Lists of the plain forms, so that the quick reading's splitting is held to mailparser's too.
  for (let i = 0; i < NAMES.length; i++) {
    for (let j = 0; j < 3; j++) {
      const one = (k: number) => `${NAMES[(i + k) % NAMES.length]} <${ADDRESSES[(j + k) % 3]}>`;
      lists.push(`${one(0)}, ${one(1)}`, `${one(0)},${one(2)},  ${ADDRESSES[j]}, ${one(3)}`);
    }
  }
  return [...out, ...lists, "", "Group: a@b.org, c@d.org;", "undisclosed-recipients:;", '"unterminated <a@b.org>'];
}

describe("address headers without mailparser's tokenizer", () => {
  it("reads every value it takes exactly as mailparser does, and hands the rest to it", () => {
    let quick = 0;
    const differ: string[] = [];
    for (const v of values()) {
      const want = shape(parseAddressHeader([v]).value);
      const q = quickAddresses(v);
      if (q) {
        quick++;
        if (shape(q) !== want) differ.push(`quick ${JSON.stringify(v)}: ${shape(q)} != ${want}`);
      }
      if (shape(parseAddresses([v])) !== want) differ.push(`parseAddresses ${JSON.stringify(v)}: ${shape(parseAddresses([v]))} != ${want}`);
    }
    expect(differ).toEqual([]);
    // The common forms are read quickly.
    expect(quick).toBeGreaterThan(100);
  });

  it("takes the forms list mail is made of", () => {
    expect(quickAddresses('Jane Dev <jane@example.org>, "Koenig, Christian" <ck@amd.com>, bob@example.org')).toEqual([
      { address: "jane@example.org", name: "Jane Dev" },
      { address: "ck@amd.com", name: "Koenig, Christian" },
      { address: "bob@example.org", name: "" },
    ]);
    expect(quickAddresses("=?UTF-8?Q?Christian_K=C3=B6nig?= <ck@amd.com>")).toEqual([{ address: "ck@amd.com", name: "Christian König" }]);
    // An address where a name goes is mailparser's to judge (it drops such a name).
    expect(quickAddresses('"a@b.org" <a@b.org>')).toBeUndefined();
    expect(quickAddresses("Jane (Dev) <jane@example.org>")).toBeUndefined();
  });

  it("reads several values of one header in order", () => {
    const vs = ["Jane <jane@example.org>", '"Dev, J" <j@example.org>, =?UTF-8?Q?K=C3=B6nig?= <k@example.org>'];
    expect(shape(parseAddresses(vs))).toBe(shape(parseAddressHeader(vs).value));
    const mixed = ["Jane <jane@example.org>", "Jane (Dev) <jane@example.org>"];
    expect(shape(parseAddresses(mixed))).toBe(shape(parseAddressHeader(mixed).value));
  });
});
