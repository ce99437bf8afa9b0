import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ephemeralPortRange, freePorts } from "./private-stack";

// Why every process a test kills and starts again listens below the kernel's ephemeral range: while it is down, any
// outgoing connection on the machine may be given its port as local port, and it then cannot listen.
const open: (net.Server | net.Socket)[] = [];
afterEach(async () => {
  const all = open.splice(0);
  // Sockets first: a server's close waits for its connections.
  for (const s of all) if (s instanceof net.Socket) s.destroy();
  for (const s of all) if (s instanceof net.Server && s.listening) await new Promise((r) => s.close(r));
});

const listen = (port: number) =>
  new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = net.createServer();
    open.push(s);
    s.once("error", (err) => resolve(err));
    s.listen(port, "127.0.0.1", () => resolve(undefined));
  });

describe("ports of restarted processes", () => {
  it("a port an outgoing connection holds cannot be listened on (EADDRINUSE)", async () => {
    const server = net.createServer((socket) => open.push(socket));
    open.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    open.push(client);
    await new Promise<void>((r, j) => client.once("connect", r).once("error", j));
    const [low, high] = ephemeralPortRange();
    expect(client.localPort).toBeGreaterThanOrEqual(low);
    expect(client.localPort).toBeLessThanOrEqual(high);
    expect((await listen(client.localPort!))?.code).toBe("EADDRINUSE");
  });

  it("freePorts gives ports below the ephemeral range, free to listen on", async () => {
    const [low] = ephemeralPortRange();
    const ports = await freePorts(8);
    expect(new Set(ports).size).toBe(8);
    for (const p of ports) {
      expect(p).toBeLessThan(low);
      expect(await listen(p)).toBeUndefined();
    }
  });
});
