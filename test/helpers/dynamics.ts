import type { Dynamics } from "../../src/model/explore.js";

/** A system-heap-like exporter and a non-coherent display on arm64: tests vary one field at a time. */
export const HEAP_TO_DISPLAY: Dynamics = {
  platform: "arm64",
  exporterName: "heap",
  importerName: "display",
  cachedMemory: true,
  cpuAttr: "cached",
  mapSync: "sync",
  unmapSync: "sync",
  mapOnce: false,
  begin: "all-attachments",
  end: "all-attachments",
  direction: "caller",
  initialDirty: false,
  ownDeviceCoherent: false,
  importerApiCoherent: false,
  importerSnoops: false,
  mapDirection: "BIDIRECTIONAL",
  slowImport: false,
  importFlush: false,
  cpuReader: "no",
};
