import type { Node } from "web-tree-sitter";
import type { Fragment } from "../patch/c-source.js";

/**
 * Userspace dma-buf code (GStreamer, mesa, libcamera, compositors; C and C++): where buffers
 * come from, how the CPU touches them, how DMA_BUF_IOCTL_SYNC brackets that, and how imports
 * handle failure. Works on tree-sitter trees of whole functions in a hunk's post-image.
 */

export type SyncFlag = "READ" | "WRITE" | "RW";

export type UserspaceEvent =
  | { readonly kind: "fd-source"; readonly row: number; readonly source: FdSource; readonly text: string }
  | { readonly kind: "mmap"; readonly row: number; readonly variable: string; readonly text: string }
  | {
      readonly kind: "sync";
      readonly row: number;
      /** unknown: the flags come from a parameter (a wrapper); its callers are judged instead. */
      readonly phase: "START" | "END" | "unknown";
      readonly flags: SyncFlag | undefined;
      readonly checked: boolean;
      readonly retried: boolean;
      /** The variable the result is stored to (`ret = ioctl(...)`), if any. */
      readonly result: string | undefined;
      readonly text: string;
    }
  | { readonly kind: "access"; readonly row: number; readonly access: "read" | "write" | "unknown"; readonly variable: string; readonly text: string }
  | {
      readonly kind: "exit";
      readonly row: number;
      readonly text: string;
      readonly guardsSync: boolean;
      /** The conditions of the ifs the exit is under, to tell `ret = ioctl(SYNC); if (ret) return`. */
      readonly conditions: string;
    }
  | { readonly kind: "import"; readonly row: number; readonly api: ImportApi; readonly failure: ImportFailure; readonly text: string };

export type ImportFailure = "fallback" | "propagated" | "fatal" | "ignored" | "unknown";

export type FdSource = "dma-heap-system" | "dma-heap-cma" | "dma-heap" | "drm-prime" | "v4l2-expbuf" | "udmabuf";
export type ImportApi = "drm-prime" | "v4l2-qbuf" | "egl" | "vulkan" | "gbm";

/** A function of userspace code and the events in it, in source order. */
export interface UserspaceFunction {
  readonly name: string;
  /** Both the start and the end of the function are in the hunk: whole-function checks apply. */
  readonly complete: boolean;
  readonly events: readonly UserspaceEvent[];
  /** Row of the function's first line in the fragment. */
  readonly row: number;
  /**
   * Called functions, declared types and objects whose methods are called, with "sync" in their
   * names, that the visible code does not define (libcamera's DmaSyncer seen from
   * debayer_cpu.cpp): what they do cannot be read, so the name is all there is.
   */
  readonly syncNames: readonly string[];
  /** Short names of the functions it calls, for following SYNC helpers a level further. */
  readonly calls: readonly string[];
  /** Identifiers its body uses: calls, and functions taken as values (`ops->map = frame_map`). */
  readonly names: readonly string[];
}

/** A function that opens or closes a SYNC bracket for its caller, whatever its name. */
export interface SyncHelper {
  readonly phase: "START" | "END";
  readonly flags: SyncFlag | undefined;
}

/** The SYNC helpers of the visible code, every function name it defines, and those others use. */
export interface SyncHelpers {
  readonly byName: ReadonlyMap<string, SyncHelper>;
  readonly defined: ReadonlySet<string>;
  readonly referenced: ReadonlySet<string>;
}

const NO_HELPERS: SyncHelpers = { byName: new Map(), defined: new Set(), referenced: new Set() };

/** `buf->begin_cpu`, `DmaSyncer::sync`, `ns::fill<T>` → the name a definition carries. */
export function shortName(name: string): string {
  return /([A-Za-z_~]\w*)\s*(<.*>)?$/.exec(name.replace(/\s+/g, ""))?.[1] ?? name;
}

const SYNC_CALLS = new Set(["ioctl", "drmIoctl", "xioctl", "v4l2_ioctl"]);

/** `ioctl(...)`, and a wrapper reached through a pointer as GStreamer does: `obj->ioctl (fd, ...)`. */
function isIoctl(name: string): boolean {
  return SYNC_CALLS.has(name) || /(->|\.)(ioctl|xioctl)$/.test(name);
}
const RETRYING = new Set(["drmIoctl"]); // libdrm restarts on EINTR and EAGAIN itself
const COPY_CALLS = new Set(["memcpy", "memmove", "std::memcpy", "std::memmove", "g_memmove", "orc_memcpy"]);
const FILL_CALLS = new Set(["memset", "std::memset", "bzero", "explicit_bzero", "std::fill", "std::fill_n"]);
const NOT_ACCESS = new Set(["munmap", "close", "sizeof", "static_cast", "reinterpret_cast", "const_cast", "assert", "g_assert", "printf", "fprintf", "g_debug", "GST_DEBUG", "GST_LOG"]);

function walk(n: Node, visit: (n: Node) => boolean | void): void {
  if (visit(n) === false) return;
  for (const c of n.namedChildren) if (c) walk(c, visit);
}

function calleeName(call: Node): string {
  const fn = call.childForFieldName("function");
  // `::ioctl` in C++ is the libc call.
  return fn ? fn.text.replace(/\s+/g, "").replace(/^::/, "") : "";
}

function args(call: Node): Node[] {
  return call.childForFieldName("arguments")?.namedChildren.filter((a): a is Node => a !== null && a.type !== "comment") ?? [];
}

function identifiers(n: Node): Set<string> {
  const out = new Set<string>();
  walk(n, (x) => {
    if (x.type === "identifier") out.add(x.text);
  });
  return out;
}

function mentions(n: Node, vars: ReadonlySet<string>): string | undefined {
  for (const id of identifiers(n)) if (vars.has(id)) return id;
  return undefined;
}

function flagsOf(text: string): { phase: "START" | "END" | "unknown"; flags: SyncFlag | undefined } {
  // DMA_BUF_SYNC_START is 0: a flags value without END is a START, if it names any flag at all.
  // `start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END` names both: the phase is chosen at run time.
  const both = /\bDMA_BUF_SYNC_END\b/.test(text) && /\bDMA_BUF_SYNC_START\b/.test(text);
  const phase = both ? "unknown" : /\bDMA_BUF_SYNC_END\b/.test(text) ? "END" : /\bDMA_BUF_SYNC_\w+/.test(text) ? "START" : "unknown";
  const rw = /\bDMA_BUF_SYNC_RW\b/.test(text) || (/\bDMA_BUF_SYNC_READ\b/.test(text) && /\bDMA_BUF_SYNC_WRITE\b/.test(text));
  const flags = rw ? "RW" : /\bDMA_BUF_SYNC_READ\b/.test(text) ? "READ" : /\bDMA_BUF_SYNC_WRITE\b/.test(text) ? "WRITE" : undefined;
  return { phase, flags };
}

/** The declarator or left-hand side a value is stored to, with the value node. */
function stores(n: Node): { name: string; value: Node } | undefined {
  if (n.type === "init_declarator") {
    const value = n.childForFieldName("value");
    let d = n.childForFieldName("declarator");
    while (d && d.type !== "identifier") d = d.childForFieldName("declarator") ?? d.namedChildren.find((c) => c?.type === "identifier") ?? null;
    return d && value ? { name: d.text, value } : undefined;
  }
  if (n.type === "assignment_expression") {
    const left = n.childForFieldName("left");
    const value = n.childForFieldName("right");
    return left && value && left.type === "identifier" ? { name: left.text, value } : undefined;
  }
  return undefined;
}

function isChecked(call: Node): boolean {
  for (let p = call.parent; p; p = p.parent) {
    if (p.type === "expression_statement") return false;
    if (["if_statement", "while_statement", "do_statement", "for_statement", "return_statement", "init_declarator", "assignment_expression", "binary_expression", "conditional_expression"].includes(p.type)) {
      return true;
    }
  }
  return false;
}

function inRetryLoop(call: Node): boolean {
  for (let p = call.parent; p; p = p.parent) {
    if ((p.type === "while_statement" || p.type === "do_statement" || p.type === "for_statement") && /\bE(INTR|AGAIN)\b/.test(p.text)) return true;
    if (p.type === "function_definition") return false;
  }
  return false;
}

/** The statement run when the call's result says it failed, if the code tests it. */
function failureBranch(call: Node): Node | undefined {
  let child: Node = call;
  for (let p = call.parent; p; child = p, p = p.parent) {
    if (p.type === "if_statement") {
      const cond = p.childForFieldName("condition");
      if (cond && cond.startIndex <= call.startIndex && call.endIndex <= cond.endIndex) {
        // `if (!import(...))` and `if (import(...) < 0)`: the consequence is the failure path.
        const succeeds = /==\s*(0|VK_SUCCESS|EGL_TRUE)\b|!=\s*(EGL_NO_IMAGE\w*|NULL|nullptr|VK_NULL_HANDLE)\b/.test(cond.text);
        return (succeeds ? p.childForFieldName("alternative") : p.childForFieldName("consequence")) ?? undefined;
      }
      return undefined;
    }
    if (p.type === "expression_statement" || p.type === "compound_statement") break;
  }
  // `ret = import(...); if (ret ...)`: the next if testing the stored variable.
  const stored = call.parent?.type === "assignment_expression" ? call.parent.childForFieldName("left")?.text : call.parent?.type === "init_declarator" ? stores(call.parent)?.name : undefined;
  if (!stored) return undefined;
  let stmt: Node | null = call;
  while (stmt && stmt.parent && stmt.parent.type !== "compound_statement") stmt = stmt.parent;
  for (let s = stmt?.nextNamedSibling ?? null; s; s = s.nextNamedSibling) {
    if (s.type === "if_statement" && new RegExp(`\\b${stored}\\b`).test(s.childForFieldName("condition")?.text ?? "")) {
      const cond = s.childForFieldName("condition")!.text;
      const succeeds = /==\s*(0|VK_SUCCESS|EGL_TRUE)\b|!=\s*(EGL_NO_IMAGE\w*|NULL|nullptr|VK_NULL_HANDLE)\b/.test(cond);
      return (succeeds ? s.childForFieldName("alternative") : s.childForFieldName("consequence")) ?? undefined;
    }
  }
  return undefined;
}

/** Checking macros (`VK_CHECK_RESULT(vkAllocateMemory(...))`) test the result and return it. */
function inCheckingMacro(call: Node): boolean {
  const outer = call.parent?.type === "argument_list" ? call.parent.parent : undefined;
  return outer?.type === "call_expression" && /CHECK|TRY|RETURN/i.test(calleeName(outer));
}

const ENDS_PROCESS = /\b(abort|exit|_exit|g_error|g_assert_not_reached|assert|LOG\s*\([^)]*Fatal|qFatal|weston_log_fatal)\b/;

/**
 * What an import does when it fails: falls back in place, hands the failure to its caller
 * (returned, `goto` an error path, a checking macro), ends the process, or ignores it. Only
 * the last two leave no way to a fallback; the caller of a propagated failure has its own.
 */
function importFailure(call: Node): ImportFailure {
  if (inCheckingMacro(call)) return "propagated";
  for (let p = call.parent; p && p.type !== "function_definition"; p = p.parent) {
    if (p.type === "return_statement") return "propagated";
    if (p.type.endsWith("_statement") || p.type === "compound_statement") break;
  }
  const branch = failureBranch(call);
  if (!branch) return isChecked(call) ? "propagated" : "ignored";
  // A failure path the hunk cuts off (its closing brace is not shown) says nothing either way.
  if (branch.hasError || branch.lastChild?.isMissing) return "unknown";
  if (/fallback|copy|memcpy|shm|retry|sysmem|alloc|upload/i.test(branch.text)) return "fallback";
  if (ENDS_PROCESS.test(branch.text)) return "fatal";
  if (/\b(return|goto|throw|break|continue)\b/.test(branch.text)) return "propagated";
  return "ignored";
}

function importApi(name: string, call: Node, fnText: string): ImportApi | undefined {
  if (name === "drmPrimeFDToHandle") return "drm-prime";
  if (/^gbm_bo_import$/.test(name) && /GBM_BO_IMPORT_FD/.test(call.text)) return "gbm";
  if (isIoctl(name)) {
    if (/\bDRM_IOCTL_PRIME_FD_TO_HANDLE\b/.test(call.text)) return "drm-prime";
    if (/\bVIDIOC_QBUF\b/.test(call.text) && /\bV4L2_MEMORY_DMABUF\b/.test(fnText)) return "v4l2-qbuf";
  }
  if (/^egl(CreateImage|CreateImageKHR)$/.test(name) && /EGL_LINUX_DMA_BUF_EXT/.test(call.text)) return "egl";
  // vkCreateImage only describes the image; the fd is imported by vkAllocateMemory.
  if (name === "vkAllocateMemory" && /VkImportMemoryFdInfoKHR|IMPORT_MEMORY_FD_INFO/.test(fnText)) return "vulkan";
  return undefined;
}

function fdSource(name: string, call: Node): FdSource | undefined {
  if (name === "open" || name === "open64" || name === "openat") {
    const path = /"\/dev\/dma_heap\/([^"]*)"/.exec(call.text)?.[1];
    if (path !== undefined) return /^system$/.test(path) ? "dma-heap-system" : /cma|reserved|linux,cma/.test(path) ? "dma-heap-cma" : "dma-heap";
    if (/\/dev\/dma_heap/.test(call.text)) return "dma-heap";
  }
  // GBM and EGL exports are PRIME exports of the GPU driver's buffer.
  if (/^(drmPrimeHandleToFD|gbm_bo_get_fd|gbm_bo_get_fd_for_plane|eglExportDMABUFImageMESA)$/.test(name)) return "drm-prime";
  if (isIoctl(name)) {
    if (/\bDMA_HEAP_IOCTL_ALLOC\b/.test(call.text)) return "dma-heap";
    if (/\bDRM_IOCTL_PRIME_HANDLE_TO_FD\b/.test(call.text)) return "drm-prime";
    if (/\bVIDIOC_EXPBUF\b/.test(call.text)) return "v4l2-expbuf";
    if (/\bUDMABUF_CREATE\b/.test(call.text)) return "udmabuf";
  }
  return undefined;
}

/**
 * The flags a `struct dma_buf_sync` variable holds at a call: its initializer and assignments
 * before it, `=` replacing and `|=` adding. Flags added under a condition (GStreamer's map
 * adds READ and WRITE from the map mode) are chosen at run time: the phase is kept, not the flags.
 */
function syncFlagsOf(fn: Node, variable: string, beforeIndex: number): string | undefined {
  let text: string | undefined;
  let conditional = false;
  walk(fn, (n) => {
    if (n.startIndex >= beforeIndex) return false;
    if (n.type === "assignment_expression") {
      const left = n.childForFieldName("left")?.text.replace(/\s+/g, "") ?? "";
      if (left === `${variable}.flags` || left === `${variable}->flags`) {
        const right = n.childForFieldName("right")?.text ?? "";
        const adds = n.childForFieldName("operator")?.text === "|=";
        if (adds && n.parent?.parent?.type === "if_statement") conditional = true;
        text = adds ? `${text ?? ""} ${right}` : right;
        if (!adds) conditional = false;
      }
    }
    if (n.type === "init_declarator" && stores(n)?.name === variable && /DMA_BUF_SYNC_/.test(n.text)) {
      text = n.text;
      conditional = false;
    }
    return true;
  });
  if (text !== undefined && conditional) return text.replace(/\bDMA_BUF_SYNC_(READ|WRITE|RW)\b/g, "");
  return text;
}

/** Events of one function definition, in source order. */
function functionEvents(fn: Node, offset: number, helpers: SyncHelpers): UserspaceEvent[] {
  const events: UserspaceEvent[] = [];
  const mapped = new Set<string>();
  const fnText = fn.text;
  const self = shortName(functionName(fn));
  const row = (n: Node) => n.startPosition.row - offset;
  const resultOf = (n: Node) =>
    n.parent?.type === "assignment_expression" ? n.parent.childForFieldName("left")?.text : n.parent?.type === "init_declarator" ? stores(n.parent)?.name : undefined;
  walk(fn, (n) => {
    // A function inside another is its own (a hunk's heading wrapped around a later function).
    if (n !== fn && n.type === "function_definition") return false;
    if (n.type === "declaration") {
      // RAII: `DmaSyncer syncer(fd, ...)` runs the constructor, a START helper when it issues one.
      const type = n.childForFieldName("type")?.text;
      const helper = type ? helpers.byName.get(shortName(type)) : undefined;
      if (helper && helper.phase === "START" && shortName(type!) !== self) {
        events.push({ kind: "sync", row: row(n), phase: "START", flags: helper.flags, checked: true, retried: true, result: undefined, text: n.text });
      }
    }
    const store = stores(n);
    if (store) {
      let isMmap = false;
      walk(store.value, (v) => {
        if (v.type === "call_expression" && /^(mmap|mmap64)$/.test(calleeName(v)) && !mapsOtherFile(v, fn)) isMmap = true;
      });
      if (isMmap) {
        mapped.add(store.name);
        events.push({ kind: "mmap", row: row(n), variable: store.name, text: n.text });
      } else if (mentions(store.value, mapped) && !/\bmunmap\b/.test(store.value.text)) {
        mapped.add(store.name); // an alias into the mapping: `uint8_t *p = map + offset;`
      }
    }
    if (n.type === "return_statement" || n.type === "goto_statement" || (n.type === "call_expression" && /^(abort|exit|g_error)$/.test(calleeName(n)))) {
      // An early exit right under a failing SYNC START does not leave a region open.
      // `return ioctl(fd, DMA_BUF_IOCTL_SYNC, &end)` ends the region as it leaves.
      let guardsSync = /DMA_BUF_IOCTL_SYNC/.test(n.text);
      const conditions: string[] = [];
      for (let p = n.parent; p && p.type !== "function_definition"; p = p.parent) {
        const cond = p.type === "if_statement" ? (p.childForFieldName("condition")?.text ?? "") : "";
        if (/DMA_BUF_IOCTL_SYNC|DMA_BUF_SYNC_/.test(cond) || [...helpers.byName.keys()].some((h) => new RegExp(`\\b${h}\\s*\\(`).test(cond))) guardsSync = true;
        conditions.push(cond);
      }
      events.push({ kind: "exit", row: row(n), text: n.text.split("\n")[0]!, guardsSync, conditions: conditions.join(" ") });
    }
    if (n.type === "call_expression") {
      const name = calleeName(n);
      const a = args(n);
      const src = fdSource(name, n);
      if (src) events.push({ kind: "fd-source", row: row(n), source: src, text: n.text });
      const api = importApi(name, n, fnText);
      if (api) events.push({ kind: "import", row: row(n), api, failure: importFailure(n), text: n.text.split("\n")[0]! });
      // A call to a function of the file that opens or closes the bracket is that SYNC; the
      // helper judges its own ioctl's result.
      const helper = shortName(name) !== self ? helpers.byName.get(shortName(name)) : undefined;
      if (helper && !isIoctl(name)) {
        events.push({ kind: "sync", row: row(n), phase: helper.phase, flags: helper.flags, checked: true, retried: true, result: resultOf(n), text: n.text });
        return false;
      }
      const isSync = (isIoctl(name) && a.some((x) => x.text === "DMA_BUF_IOCTL_SYNC")) || (!isIoctl(name) && a.some((x) => /\bDMA_BUF_SYNC_(START|END)\b/.test(x.text)));
      if (isSync) {
        let flagText = a.map((x) => x.text).join(" ");
        if (!/DMA_BUF_SYNC_/.test(flagText)) {
          const variable = a[a.length - 1]?.text.replace(/^&/, "");
          if (variable) flagText = syncFlagsOf(fn, variable, n.startIndex) ?? "";
        }
        const { phase, flags } = flagsOf(flagText);
        // A wrapper (sync_buf(fd, flags)) is judged where it calls the ioctl, not at each caller.
        const direct = isIoctl(name);
        events.push({ kind: "sync", row: row(n), phase, flags, checked: !direct || isChecked(n), retried: !direct || RETRYING.has(name) || inRetryLoop(n), result: resultOf(n), text: n.text });
        return false;
      }
      if (COPY_CALLS.has(name) && a.length >= 2) {
        const dst = mentions(a[0]!, mapped);
        const src2 = mentions(a[1]!, mapped);
        if (dst) events.push({ kind: "access", row: row(n), access: "write", variable: dst, text: n.text });
        if (src2) events.push({ kind: "access", row: row(n), access: "read", variable: src2, text: n.text });
        return false;
      }
      if (FILL_CALLS.has(name) && a.length >= 1) {
        const dst = mentions(a[0]!, mapped);
        if (dst) events.push({ kind: "access", row: row(n), access: "write", variable: dst, text: n.text });
        return false;
      }
      // `static_cast<uint8_t *>(p)` may parse as a call: a cast is no access.
      if (!NOT_ACCESS.has(name.replace(/<.*>$/, "")) && !/^(mmap|mmap64)$/.test(name) && !isSync && !storesPointer(n)) {
        const v = a.map((x) => (isAddressValue(x) ? undefined : mentions(x, mapped))).find((x) => x !== undefined);
        if (v) events.push({ kind: "access", row: row(n), access: "unknown", variable: v, text: n.text });
      }
      return true;
    }
    if (n.type === "subscript_expression" || n.type === "pointer_expression" || n.type === "field_expression") {
      const v = derefTarget(n, mapped);
      if (v) {
        events.push({ kind: "access", row: row(n), access: writeTarget(n) ? "write" : "read", variable: v, text: n.text });
        return false;
      }
    }
    return true;
  });
  return events.sort((x, y) => x.row - y.row);
}

/**
 * An mmap of something that is no dma-buf: an fd the function opened from a file, memfd or shm
 * object (a shader, a cache), or a Wayland keymap (a memfd the compositor sends).
 */
function mapsOtherFile(call: Node, fn: Node): boolean {
  const fd = args(call)[4]?.text.replace(/\s+/g, "");
  if (/KEYMAP/.test(fn.text)) return true;
  if (!fd || !/^\w+$/.test(fd)) return false;
  const opened = new RegExp(`\\b${fd}\\s*=\\s*(open|open64|openat|memfd_create|shm_open|os_create_anonymous_file)\\s*\\(([^;]*)`).exec(fn.text);
  return !!opened && !/dma_heap/.test(opened[2] ?? "");
}

/** `maps_.emplace_back(address, len)`: the mapping kept for later use is handed on, not accessed. */
function storesPointer(call: Node): boolean {
  const fn = call.childForFieldName("function");
  const method = fn?.type === "field_expression" ? fn.childForFieldName("field")?.text : undefined;
  return !!method && /^(emplace|emplace_back|push_back|push_front|push|insert|append|add|assign|store|set\w*)$/.test(method);
}

/** `(long) ptr`, `(uintptr_t) ptr`: the address as a number, no access through it. */
function isAddressValue(arg: Node): boolean {
  return arg.type === "cast_expression" && /^\(\s*(unsigned\s+)?(long|u?intptr_t|size_t|u?int64_t|uint64_t|__u64)\s*\)/.test(arg.text);
}

/** The mapped pointer a dereference goes through: `p[i]`, `*p`, `p->field`. */
function derefTarget(x: Node, mapped: ReadonlySet<string>): string | undefined {
  if (x.type === "pointer_expression" && !x.text.startsWith("*")) return undefined; // &x is no access
  if (x.type === "field_expression" && !/->/.test(x.text)) return undefined;
  const target = x.childForFieldName("argument") ?? x.namedChildren[0];
  return target ? mentions(target, mapped) : undefined;
}

/** Whether a dereference is what an assignment or ++/-- writes to. */
function writeTarget(n: Node): boolean {
  let child = n;
  for (let p = n.parent; p; child = p, p = p.parent) {
    if (p.type === "assignment_expression") {
      const left = p.childForFieldName("left");
      return !!left && left.startIndex === child.startIndex && left.endIndex === child.endIndex;
    }
    if (p.type === "update_expression") return true;
    if (p.type.endsWith("_statement") || p.type === "init_declarator" || p.type === "call_expression") return false;
  }
  return false;
}

function functionName(fn: Node): string {
  let d = fn.childForFieldName("declarator");
  while (d && d.type !== "identifier" && d.type !== "field_identifier" && d.type !== "qualified_identifier") {
    d = d.childForFieldName("declarator") ?? null;
  }
  return d?.text ?? "?";
}

/**
 * Every function of a fragment that the hunk shows, with its events. Calls to the SYNC helpers
 * in `helpers` (see syncHelpers) count as the START or END they issue.
 */
export function userspaceFunctions(f: Fragment, helpers: SyncHelpers = NO_HELPERS): UserspaceFunction[] {
  const out: UserspaceFunction[] = [];
  walk(f.tree.rootNode, (n) => {
    if (n.type !== "function_definition") return true;
    const body = n.childForFieldName("body");
    // A macro used as a loop (`spa_list_for_each (...) {`) leaves an error inside a body that
    // still ends with its own brace: the function is whole.
    const complete = n.startPosition.row >= f.offset && !!body && body.lastChild?.type === "}" && !body.lastChild.isMissing;
    const syncNames = new Set<string>();
    const calls = new Set<string>();
    const names = new Set<string>();
    walk(n.childForFieldName("body") ?? n, (x) => {
      if (x.type === "identifier") names.add(x.text);
      return x.type !== "function_definition";
    });
    walk(n, (x) => {
      if (x !== n && x.type === "function_definition") return false;
      const named = x.type === "call_expression" ? shortName(calleeName(x)) : x.type === "type_identifier" ? x.text : undefined;
      if (x.type === "call_expression") calls.add(named!);
      // `dmaSyncers.clear()`: a method of an object named for syncing (its destructors END).
      const fnNode = x.type === "call_expression" ? x.childForFieldName("function") : null;
      const receiver = fnNode?.type === "field_expression" ? fnNode.childForFieldName("argument")?.text : undefined;
      for (const name of [named, receiver && /^\w+$/.test(receiver) ? receiver : undefined]) {
        if (name && /sync/i.test(name) && !/^(DMA_BUF_\w+|dma_buf_sync)$/.test(name) && !helpers.defined.has(name)) syncNames.add(name);
      }
      return true;
    });
    out.push({ name: functionName(n), complete, events: functionEvents(n, f.offset, helpers), row: n.startPosition.row - f.offset, syncNames: [...syncNames], calls: [...calls], names: [...names] });
    // Keep walking: a definition nested in this one is a function of its own.
    return true;
  });
  return out;
}

/**
 * Which functions open or close a SYNC bracket for their callers, by what they do: a complete
 * function whose SYNC calls are all START (or all END), directly or through one more level of
 * such helpers. One that issues both brackets itself is neutral to its callers.
 */
export function syncHelpers(fns: readonly UserspaceFunction[]): SyncHelpers {
  const defined = new Set(fns.map((f) => shortName(f.name)));
  let byName = new Map<string, SyncHelper>();
  for (let level = 0; level < 2; level++) {
    const next = new Map(byName);
    for (const fn of fns) {
      const name = shortName(fn.name);
      if (!fn.complete || next.has(name)) continue;
      const steps: SyncHelper[] = [
        ...fn.events.flatMap((e) => (e.kind === "sync" && e.phase !== "unknown" ? [{ phase: e.phase, flags: e.flags }] : [])),
        ...fn.calls.flatMap((c) => (c !== name && byName.has(c) ? [byName.get(c)!] : [])),
      ];
      if (steps.length === 0 || new Set(steps.map((x) => x.phase)).size !== 1) continue;
      const flags = new Set(steps.map((x) => x.flags));
      next.set(name, { phase: steps[0]!.phase, flags: flags.size === 1 ? steps[0]!.flags : undefined });
    }
    byName = next;
  }
  const referenced = new Set(fns.flatMap((f) => f.names.filter((x) => x !== shortName(f.name) && defined.has(x))));
  return { byName, defined, referenced };
}

/** The SYNC helpers of every fragment of one side of a file's diff. */
export function syncHelpersOf(fragments: Iterable<Fragment>): SyncHelpers {
  const fns: UserspaceFunction[] = [];
  for (const f of fragments) fns.push(...userspaceFunctions(f));
  return syncHelpers(fns);
}

export type UserspaceProblem =
  | "unbracketed-write"
  | "unbracketed-read"
  | "unbracketed-access"
  | "read-under-write-flag"
  | "write-under-read-flag"
  | "end-without-start"
  | "start-end-flags-differ"
  | "region-left-open"
  | "sync-unchecked"
  | "sync-removed"
  | "sync-flags-changed"
  | "import-no-fallback"
  | "import-unchecked";

export interface Problem {
  readonly problem: UserspaceProblem;
  readonly row: number;
  readonly detail: string;
  readonly function: string;
}

/**
 * What is wrong in a function, by walking its events in order: CPU access outside a
 * START..END region, flags that do not cover the access, regions left open on an early
 * exit, unchecked or unrestarted SYNC ioctls, imports whose failure ends the pipeline.
 */
export function checkFunction(fn: UserspaceFunction): Problem[] {
  const out: Problem[] = [];
  const push = (problem: UserspaceProblem, row: number, detail: string) => out.push({ problem, row, detail, function: fn.name });
  let region: { flags: SyncFlag | undefined; row: number; result: string | undefined } | undefined;
  let sawStart = false;
  let accessedOutside = false;
  const closesItself = fn.events.some((e) => e.kind === "sync" && e.phase === "END");
  for (const e of fn.events) {
    switch (e.kind) {
      case "sync":
        // drmIoctl() restarts on EINTR/EAGAIN; ignoring what is left (real errors) is common practice.
        // A result compared, logged, returned or retried is checked; only a discarded one is not.
        if (!e.retried && !e.checked) push("sync-unchecked", e.row, `DMA_BUF_IOCTL_SYNC ${e.phase === "unknown" ? "" : e.phase}${e.flags ? `|${e.flags}` : ""}`.trim());
        if (e.phase === "unknown") break;
        if (e.phase === "START") {
          region = { flags: e.flags, row: e.row, result: e.result };
          sawStart = true;
        } else {
          if (!region) {
            // An END alone (a destructor or unmap() paired with a START elsewhere) closes what
            // its partner opened; it is wrong only after CPU access the function itself made.
            if (fn.complete && !sawStart && accessedOutside) push("end-without-start", e.row, `DMA_BUF_SYNC_END${e.flags ? `|${e.flags}` : ""}`);
          } else if (region.flags && e.flags && region.flags !== e.flags) {
            push("start-end-flags-differ", e.row, `START|${region.flags} ends with END|${e.flags}`);
          }
          region = undefined;
        }
        break;
      case "access":
        if (!region) {
          accessedOutside = true;
          if (fn.complete) push(e.access === "write" ? "unbracketed-write" : e.access === "read" ? "unbracketed-read" : "unbracketed-access", e.row, e.variable);
        } else if (region.flags === "WRITE" && e.access === "read") push("read-under-write-flag", e.row, e.variable);
        else if (region.flags === "READ" && e.access === "write") push("write-under-read-flag", e.row, e.variable);
        break;
      case "exit":
        // Only a function that ends its own bracket can skip the END; one that starts and
        // returns (a map() paired with an unmap()) hands the open bracket to its caller.
        // `ret = ioctl(SYNC START); if (ret) return ret;`: the START failed, no region is open.
        const guarded = e.guardsSync || (region?.result !== undefined && new RegExp(`\\b${region.result}\\b`).test(e.conditions));
        if (region && !guarded && fn.complete && closesItself) push("region-left-open", e.row, `${e.text.trim()} with START|${region.flags ?? "?"} still open`);
        break;
      case "import":
        if (e.failure === "fatal") push("import-no-fallback", e.row, e.api);
        else if (e.failure === "ignored") push("import-unchecked", e.row, e.api);
        break;
      default:
        break;
    }
  }
  return out;
}

/** What a function's SYNC calls say, one entry per call: `START|WRITE`, `END`, `START|?`. */
function syncSteps(fn: UserspaceFunction): string[] {
  return fn.events.flatMap((e) => (e.kind === "sync" && e.phase !== "unknown" ? [`${e.phase}|${e.flags ?? "?"}`] : []));
}

/** The mapping a function's SYNC bracket covers, for the message: the mmap'ed variable or the fd. */
function mappingOf(fn: UserspaceFunction): string {
  const m = fn.events.find((e) => e.kind === "mmap" || e.kind === "access");
  if (m && (m.kind === "mmap" || m.kind === "access")) return m.variable;
  const sync = fn.events.find((e) => e.kind === "sync");
  const fd = sync ? /\(\s*([^,]+),\s*DMA_BUF_IOCTL_SYNC/.exec(sync.text)?.[1]?.trim() : undefined;
  return fd ?? "the dma-buf";
}

/**
 * What a change does to the bracketing of functions present before and after it: a SYNC START
 * or END that is gone, or whose READ/WRITE flags changed. Judged on the pair, so a diff that
 * only removes lines (`-ioctl(..., DMA_BUF_IOCTL_SYNC, ...)`) is seen as well as one that adds.
 * Rows are the old version's (`before`); the caller places them in the new file.
 */
export function compareFunctions(
  before: readonly UserspaceFunction[],
  after: readonly UserspaceFunction[],
  file: { readonly definedAfter: ReadonlySet<string>; readonly referencedBefore: ReadonlySet<string> } = {
    definedAfter: syncHelpers(after).defined,
    referencedBefore: syncHelpers(before).referenced,
  },
): Problem[] {
  const out: Problem[] = [];
  for (const old of before) {
    const now = after.find((f) => f.name === old.name);
    if (!now) {
      // A function removed whole takes its accesses with it, but a helper that only opened (or
      // only closed) the bracket for its callers, such as a map() hook, takes it from them: when
      // the old code used it, and the file lives on.
      const steps = syncSteps(old);
      const phases = new Set(steps.map((x) => x.split("|")[0]));
      const first = old.events.find((e) => e.kind === "sync" && e.phase !== "unknown");
      const helper = shortName(old.name);
      const used = file.referencedBefore.has(helper) && file.definedAfter.size > 0 && !file.definedAfter.has(helper);
      if (old.complete && first && phases.size === 1 && used && !old.events.some((e) => e.kind === "access")) {
        out.push({
          problem: "sync-removed",
          row: first.row,
          function: old.name,
          detail: `DMA_BUF_SYNC_${steps[0]!.replace("|?", "")} on ${mappingOf(old)}, with the whole function its callers relied on for it,`,
        });
      }
      continue;
    }
    // The bracketing moved into a helper the new version calls (`DmaSyncer`, `sync_for_cpu()`).
    if (now.syncNames.some((x) => !old.syncNames.includes(x))) continue;
    const was = syncSteps(old);
    const is = syncSteps(now);
    const olds = old.events.filter((e) => e.kind === "sync" && e.phase !== "unknown");
    const found = out.length;
    // One finding a function: a START and its END flipped together are one change.
    for (const phase of ["START", "END"] as const) {
      if (out.length > found) break;
      const w = was.filter((x) => x.startsWith(phase));
      const i = is.filter((x) => x.startsWith(phase));
      const at = olds.find((e) => e.kind === "sync" && e.phase === phase)?.row ?? old.row;
      if (i.length < w.length) {
        out.push({ problem: "sync-removed", row: at, function: old.name, detail: `DMA_BUF_SYNC_${w[w.length - 1]!.replace("|?", "")} on ${mappingOf(old)}` });
      } else if (i.length === w.length) {
        const changed = w.findIndex((x, k) => !x.endsWith("?") && !i[k]!.endsWith("?") && x !== i[k]);
        if (changed >= 0) {
          out.push({ problem: "sync-flags-changed", row: at, function: old.name, detail: `DMA_BUF_SYNC_${w[changed]} became DMA_BUF_SYNC_${i[changed]} on ${mappingOf(old)}` });
        }
      }
    }
  }
  return out;
}

/**
 * Rows of a hunk's new side that the change touches: added lines, and the line that follows
 * (or, at the end, precedes) a removal, so a hunk that only deletes still marks its function.
 */
export function changedRows(lines: readonly { readonly type: string }[], post: readonly unknown[]): Set<number> {
  const out = new Set<number>();
  let row = -1;
  let removed = false;
  for (const l of lines) {
    if (l.type === "-") {
      removed = true;
      continue;
    }
    row++;
    if (l.type === "+" || removed) out.add(row);
    removed = false;
  }
  if (removed && post.length > 0) out.add(post.length - 1);
  return out;
}
