import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpConfig } from "../config/config.js";
import { InputError } from "../errors.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The HTTP port, held before anything slow starts; requests wait until a handler is attached. */
export interface BoundServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  attach(handler: Handler): void;
  close(): Promise<void>;
}

/**
 * Take the port first, so that a port in use (or one this process may not have) ends the start
 * at once, before rules are loaded and workers started, and before any mail is read.
 */
export async function bindHttp(http: HttpConfig): Promise<BoundServer> {
  let handler: Handler | undefined;
  const early: [IncomingMessage, ServerResponse][] = [];
  const server = createServer((req, res) => (handler ? handler(req, res) : early.push([req, res])));
  // Keep-alive connections from the forges must not hold a shutdown open.
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(http.port, http.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    throw listenError(err, http);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${http.host.includes(":") ? `[${http.host}]` : http.host}:${port}`,
    attach(h) {
      handler = h;
      for (const [req, res] of early.splice(0)) h(req, res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port that cannot be had is the operator's to fix: one line saying which, and where to change it. */
function listenError(err: unknown, http: HttpConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `port ${http.port} on ${http.host}`;
  const change = `set ${http.portSetting} to another port`;
  if (code === "EADDRINUSE") return new InputError("port-unavailable", `${where} is already in use; ${change}`);
  if (code === "EACCES") return new InputError("port-unavailable", `${where} needs privileges this process does not have; ${change} (above 1023)`);
  if (code === "EADDRNOTAVAIL") return new InputError("port-unavailable", `${http.host} is not an address of this machine; set ${http.hostSetting} to one`);
  return err;
}
