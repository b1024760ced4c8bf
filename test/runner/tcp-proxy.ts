/** A loopback TCP proxy that a test can take down and bring back on the same port: a network outage without losing the emulator's state. */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let server: Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  const up = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  const down = async () => {
    const closing = new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    for (const socket of sockets) socket.destroy();
    await closing;
    server = undefined;
  };
  await up();
  return { get port() { return port; }, up, down, close: down };
}
