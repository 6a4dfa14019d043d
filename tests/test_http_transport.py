"""The core's keep-alive transport speaks HTTP/1.1 as httpx's own does, reusing connections.

Each test serves raw HTTP from an asyncio server on 127.0.0.1 that answers as a script says, so
the answers that matter (a closed connection, a chunked body, a dropped answer) are exact.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest
from ordersync.errors import RetriableError
from ordersync.http import KeepAliveTransport, PlatformHttp

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
Serve = Callable[[Answer], Awaitable["Server"]]


def ok(body: bytes = b'{"ok":true}', *, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n%s\r\n%s" % (len(body), extra, body))


@dataclass
class Server:
    """Answers each request with ``answer(request_bytes, writer)``; False closes the connection."""

    answer: Answer
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + (await reader.readexactly(length) if length else b"")
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> Server:
        server = Server(answer)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(listening)
        server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
        return server

    yield start
    for listening in servers:
        listening.close()


async def answer_ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


async def test_requests_one_after_another_share_one_connection(serve: Serve) -> None:
    server = await serve(answer_ok)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        for _ in range(3):
            response = await client.post("/graphql.json", json={"query": "{ shop { id } }"})
            assert response.json() == {"ok": True}
    assert server.connections == 1
    assert len(server.requests) == 3
    assert server.requests[0].endswith(b'{"query":"{ shop { id } }"}')


async def test_concurrent_requests_each_get_a_connection_and_keep_it(serve: Serve) -> None:
    async def slow_ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        writer.write(ok())
        return True

    server = await serve(slow_ok)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        for _ in range(2):
            answers = await asyncio.gather(*(client.get("/") for _ in range(4)))
            assert [a.status_code for a in answers] == [200] * 4
    assert server.connections == 4


async def test_a_connection_the_server_closed_while_idle_is_not_reused(serve: Serve) -> None:
    async def ok_then_close(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())
        await writer.drain()
        return False  # closed without saying so: the client learns it from the socket

    server = await serve(ok_then_close)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        assert (await client.get("/")).status_code == 200
        await asyncio.sleep(0.05)
        assert (await client.get("/")).status_code == 200
    assert server.connections == 2


async def test_an_answer_that_says_connection_close_ends_the_connection(serve: Serve) -> None:
    async def ok_close(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(extra=b"connection: close\r\n"))
        return True

    server = await serve(ok_close)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/")).status_code == 200
    assert server.connections == 2


async def test_a_chunked_and_gzipped_answer_is_read_whole(serve: Serve) -> None:
    import gzip

    payload = json.dumps({"data": ["x" * 100] * 50}).encode()
    packed = gzip.compress(payload)

    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        for start in range(0, len(packed), 100):
            piece = packed[start:start + 100]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    server = await serve(chunked)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        response = await client.get("/")
        assert response.content == payload
        assert (await client.get("/")).content == payload
    assert server.connections == 1


async def test_an_answer_slower_than_the_read_timeout_raises_read_timeout(serve: Serve) -> None:
    async def too_slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if len(server.requests) == 1:
            await asyncio.sleep(0.5)
        writer.write(ok())
        return True

    server = await serve(too_slow)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url,
                                 timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/")
        # The timed-out connection may still get the late answer: it is never reused.
        assert (await client.get("/")).status_code == 200
    assert server.connections == 2


@pytest.mark.parametrize("cut", [b"", b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{\"da"])
async def test_a_connection_dropped_before_the_answer_ends_raises_remote_protocol_error(
    serve: Serve, cut: bytes,
) -> None:
    async def drop(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(cut)
        await writer.drain()
        return False

    server = await serve(drop)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


async def test_a_refused_connection_raises_connect_error() -> None:
    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listening = await asyncio.start_server(nothing, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_requests_beyond_max_connections_wait_for_one_then_time_out(serve: Serve) -> None:
    release = asyncio.Event()

    async def held(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        writer.write(ok())
        return True

    server = await serve(held)
    transport = KeepAliveTransport(max_connections=1)
    async with httpx.AsyncClient(transport=transport, base_url=server.url,
                                 timeout=httpx.Timeout(5, pool=0.05)) as client:
        first = asyncio.create_task(client.get("/"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/")
        release.set()
        assert (await first).status_code == 200
        assert (await client.get("/")).status_code == 200
    assert server.connections == 1


async def test_platform_http_retries_over_it_and_keeps_one_connection(serve: Serve) -> None:
    async def busy_once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if len(server.requests) == 1:
            writer.write(b"HTTP/1.1 503 Busy\r\nretry-after: 0\r\ncontent-length: 4\r\n\r\nbusy")
        else:
            writer.write(ok())
        return True

    server = await serve(busy_once)
    http = PlatformHttp("acme", server.url, headers={"X-Token": "t"})
    try:
        assert isinstance(http.client._transport, KeepAliveTransport)
        response = await http.request("POST", "/orders", operation="create order", json={"a": 1})
        assert response.json() == {"ok": True}
    finally:
        await http.aclose()
    assert server.connections == 1
    assert all(b"x-token: t" in r.lower() for r in server.requests)


async def test_a_create_whose_connection_dropped_raises_retriable_at_once(serve: Serve) -> None:
    async def drop(request: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    server = await serve(drop)
    http = PlatformHttp("acme", server.url)
    try:
        with pytest.raises(RetriableError, match="RemoteProtocolError"):
            await http.request("POST", "/orders", operation="create order", idempotent=False)
    finally:
        await http.aclose()
    assert len(server.requests) == 1


def test_with_a_proxy_in_the_environment_httpx_keeps_its_own_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    http = PlatformHttp("acme", "https://acme.example")
    assert not isinstance(http.client._transport, KeepAliveTransport)


async def test_platform_http_keeps_a_cookie_the_platform_sets(serve: Serve) -> None:
    async def sets_cookie(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(extra=b"set-cookie: session=abc; Path=/\r\n"))
        return True

    server = await serve(sets_cookie)
    http = PlatformHttp("acme", server.url)
    try:
        await http.request("GET", "/a", operation="read a")
        await http.request("GET", "b", operation="read b")
    finally:
        await http.aclose()
    assert b"cookie: session=abc" not in server.requests[0].lower()
    assert b"cookie: session=abc" in server.requests[1].lower()
    assert server.requests[1].startswith(b"GET /b HTTP/1.1")


async def test_an_http_1_0_answer_read_to_its_end_and_its_connection_closed(serve: Serve) -> None:
    async def old_server(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end")
        return False

    server = await serve(old_server)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        assert (await client.get("/")).text == "until the end"
        assert (await client.get("/")).text == "until the end"
    assert server.connections == 2


async def test_informational_answers_are_skipped_and_chunk_extensions_and_trailers_read(
    serve: Serve,
) -> None:
    async def continued(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nx-trailer: t\r\n\r\n")
        return True

    server = await serve(continued)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        response = await client.get("/")
        assert (response.status_code, response.text) == (201, "hello!")
        assert response.reason_phrase == "Created"
        assert (await client.head("/")).status_code == 201  # a HEAD answer has no body to read
    assert server.connections == 1


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 OK\r\n\r\n",
    b"HTTP/2 200 OK\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nbad header\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
])
async def test_an_answer_that_breaks_the_protocol_raises_remote_protocol_error(
    serve: Serve, head: bytes,
) -> None:
    async def broken(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(head)
        return True

    server = await serve(broken)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url,
                                 timeout=2) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


async def test_a_header_value_with_a_line_break_is_never_sent(serve: Serve) -> None:
    server = await serve(answer_ok)
    async with httpx.AsyncClient(transport=KeepAliveTransport(), base_url=server.url) as client:
        with pytest.raises(httpx.LocalProtocolError) as refused:
            await client.get("/", headers={"X-Token": "secret\r\nX-Injected: 1"})
    assert "secret" not in str(refused.value)
    assert server.requests == []


async def test_a_body_of_unknown_length_goes_chunked() -> None:
    received: list[bytes] = []

    async def read_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        received.append(await reader.readuntil(b"0\r\n\r\n"))
        writer.write(ok())
        await writer.drain()
        writer.close()

    listening = await asyncio.start_server(read_chunked, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/"

    async def parts() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b""
        yield b"cde"

    try:
        async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
            assert (await client.post(url, content=parts())).status_code == 200
    finally:
        listening.close()
    assert received == [b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"]


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, and its key."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


async def test_https_is_verified_and_its_connection_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = Server(answer_ok)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    url = f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}/"
    try:
        async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(url)  # not signed by anyone the default trust store knows
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
            for _ in range(3):
                assert (await client.get(url)).json() == {"ok": True}
        await asyncio.sleep(0.05)  # the server reads the end of the connection
    finally:
        listening.close()
    assert (server.connections, len(server.requests)) == (1, 3)
