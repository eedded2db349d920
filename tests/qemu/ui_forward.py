#!/usr/bin/env python3
"""ui_forward.py - carry TCP connections from the host into a network
namespace, so that a browser on the host reaches the fleet page of a
metalboot-netboot that listens only inside the rig's namespace.

  ui_forward.py inner SOCK HOST PORT   (run in the namespace: ip netns exec)
      listen on the Unix socket SOCK, connect each client to HOST:PORT
  ui_forward.py outer PORT SOCK        (run on the host)
      listen on 127.0.0.1:PORT, connect each client to SOCK

A Unix socket is a file, seen from both namespaces: the two halves meet
there. Bytes are copied both ways until either side closes.
"""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(connect, reader, writer):
    try:
        peer_reader, peer_writer = await connect()
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, peer_writer), pipe(peer_reader, writer))


async def main(argv):
    if len(argv) == 5 and argv[1] == "inner":
        sock, host, port = argv[2], argv[3], int(argv[4])
        server = await asyncio.start_unix_server(
            lambda r, w: handle(lambda: asyncio.open_connection(host, port), r, w),
            sock)
    elif len(argv) == 4 and argv[1] == "outer":
        port, sock = int(argv[2]), argv[3]
        server = await asyncio.start_server(
            lambda r, w: handle(lambda: asyncio.open_unix_connection(sock), r, w),
            "127.0.0.1", port)
    else:
        sys.exit(__doc__)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv))
    except KeyboardInterrupt:
        pass
