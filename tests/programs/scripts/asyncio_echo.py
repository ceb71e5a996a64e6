# An asyncio TCP echo server on loopback with 100 concurrent clients, each
# sending 20 lines and checking every echo.
import asyncio


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    good = 0
    for i in range(20):
        msg = ("client %d line %d\n" % (n, i)).encode()
        writer.write(msg)
        await writer.drain()
        if await reader.readline() == msg:
            good += 1
    writer.close()
    await writer.wait_closed()
    return good


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        results = await asyncio.gather(*(client(port, n) for n in range(100)))
    print("clients:", len(results), "echoes:", sum(results))


asyncio.run(main())
