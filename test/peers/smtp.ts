import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface Received {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
  readonly messageId: string | undefined;
}

export interface SmtpPeer {
  readonly port: number;
  /** Messages the server accepted (answered 250), in order. */
  readonly received: Received[];
  /** Refuse every recipient with this reply code (550: permanent, 451: try later); undefined accepts. */
  refuse: number | undefined;
  /** Refuse the sender (MAIL FROM) with this reply code (553: not a sender this account may use). */
  refuseSender: number | undefined;
  /** Refuse the message once its data is in with this reply code (554: content rejected, 552: too large). */
  refuseData: number | undefined;
  /**
   * Called when DATA ends, before the server answers: return true to hold the answer (the
   * message is then not accepted; the client waits until it goes away).
   */
  hold: ((r: Received) => boolean) | undefined;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 and a free port: what the bot talks to in tests. With `auth`, AUTH PLAIN/LOGIN is required. */
export async function startSmtpPeer(auth?: { user: string; pass: string }): Promise<SmtpPeer> {
  const received: Received[] = [];
  const peer: Pick<SmtpPeer, "refuse" | "refuseSender" | "refuseData" | "hold"> = {
    refuse: undefined,
    refuseSender: undefined,
    refuseData: undefined,
    hold: undefined,
  };
  const server = new SMTPServer({
    secure: false,
    authOptional: !auth,
    allowInsecureAuth: true, // loopback only
    disabledCommands: auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.pass) return cb(null, { user: a.username });
      const err = new Error("authentication failed") as Error & { responseCode: number };
      err.responseCode = 535;
      cb(err);
    },
    logger: false,
    closeTimeout: 1000,
    onMailFrom(address, _session, cb) {
      if (peer.refuseSender) {
        const err = new Error(`sender ${address.address} refused`) as Error & { responseCode: number };
        err.responseCode = peer.refuseSender;
        return cb(err);
      }
      cb();
    },
    onRcptTo(address, _session, cb) {
      if (peer.refuse) {
        const err = new Error(`refused ${address.address}`) as Error & { responseCode: number };
        err.responseCode = peer.refuse;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const r: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((a) => a.address),
          raw,
          messageId: /^Message-ID:\s*<([^>]+)>/im.exec(raw)?.[1],
        };
        if (peer.hold?.(r)) return; // never answered: not delivered
        if (peer.refuseData) {
          const err = new Error("message refused") as Error & { responseCode: number };
          err.responseCode = peer.refuseData;
          return cb(err);
        }
        received.push(r);
        cb();
      });
    },
  });
  // A client killed mid-session (test/channels/mail-kill.test.ts) resets its connection, also an
  // idle pooled one; a real server notes that and serves the next client.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    get refuse() {
      return peer.refuse;
    },
    set refuse(v) {
      peer.refuse = v;
    },
    get refuseSender() {
      return peer.refuseSender;
    },
    set refuseSender(v) {
      peer.refuseSender = v;
    },
    get refuseData() {
      return peer.refuseData;
    },
    set refuseData(v) {
      peer.refuseData = v;
    },
    get hold() {
      return peer.hold;
    },
    set hold(v) {
      peer.hold = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
