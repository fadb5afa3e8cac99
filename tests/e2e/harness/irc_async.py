"""A raw IRC client on asyncio, for benchmarks that run many XMPP sessions in the same loop.

Like ngircd.RawIrcClient it speaks the protocol by hand (NICK/USER, PONG), but it hands
every line to `on_line` callbacks as it arrives instead of keeping them all, and its waits
are coroutines, each bounded."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Callable

HOST = "127.0.0.1"
LUSERS_RE = re.compile(r" 251 \S+ :There are (\d+) users")


class AsyncIrcClient:
    def __init__(self, port: int, nick: str, host: str = HOST):
        self.host, self.port, self.nick = host, port, nick
        self.on_line: list[Callable[[str], None]] = []
        self._waiters: list[tuple[Callable[[str], bool], asyncio.Future]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task | None = None
        self.closed: str | None = None

    async def connect(self, timeout: float = 20.0) -> AsyncIrcClient:
        self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
        self._task = asyncio.create_task(self._read_loop())
        registered = self.expect(lambda line: f" 001 {self.nick} " in line)
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.nick} 0 * :{self.nick}")
        await self.wait(registered, "registration (001)", timeout)
        return self

    async def _read_loop(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = await self._reader.read(262144)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\r\n")
                for raw in lines:
                    self._line(raw.decode("utf-8", "replace"))
            self.closed = "the IRC server closed the connection"
        except (OSError, asyncio.CancelledError) as err:
            self.closed = f"connection failed: {err!r}"
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(ConnectionError(f"{self.nick}: {self.closed}"))

    def _line(self, line: str) -> None:
        if line.startswith("PING "):
            self.send("PONG " + line[5:])
        for callback in self.on_line:
            callback(line)
        if self._waiters:
            keep = []
            for predicate, future in self._waiters:
                if future.done():
                    continue
                if predicate(line):
                    future.set_result(line)
                else:
                    keep.append((predicate, future))
            self._waiters = keep

    def send(self, line: str) -> None:
        if self.closed:
            raise ConnectionError(f"{self.nick}: {self.closed}")
        self._writer.write(line.encode() + b"\r\n")

    def send_many(self, lines: list[str]) -> None:
        if self.closed:
            raise ConnectionError(f"{self.nick}: {self.closed}")
        self._writer.write("".join(line + "\r\n" for line in lines).encode())

    async def drain(self) -> None:
        await self._writer.drain()

    def expect(self, predicate: Callable[[str], bool]) -> asyncio.Future:
        """A future for the next line matching `predicate`; register it before sending what
        provokes the line, then `wait()` on it."""
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future

    async def wait(self, future: asyncio.Future, what: str, timeout: float = 20.0) -> str:
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{self.nick}: no line matching {what} within {timeout:g}s") from None

    async def lusers(self, timeout: float = 10.0) -> int:
        """How many users the server counts now (LUSERS' 251 reply)."""
        reply = self.expect(lambda line: LUSERS_RE.search(line) is not None)
        self.send("LUSERS")
        return int(LUSERS_RE.search(await self.wait(reply, "a LUSERS reply (251)", timeout)).group(1))

    async def wait_users(self, count: int, timeout: float, what: str, interval: float = 0.05) -> float:
        """Poll LUSERS until the server counts at least `count` users; returns when (monotonic)."""
        deadline = time.monotonic() + timeout
        last = -1
        while True:
            last = await self.lusers()
            now = time.monotonic()
            if last >= count:
                return now
            if now >= deadline:
                raise TimeoutError(f"{self.nick}: {what}: the IRC server counts {last} users, not {count}, after {timeout:g}s")
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._writer is None:
            return
        try:
            if not self.closed:
                self.send("QUIT :bye")
                await asyncio.wait_for(self._writer.drain(), 2)
        except (OSError, ConnectionError, asyncio.TimeoutError):
            pass
        self._writer.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()
