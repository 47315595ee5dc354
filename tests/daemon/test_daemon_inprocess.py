"""A whole NodeDaemon in this process: standalone defaults, HTTP status/metrics, CLI status, shutdown."""

import asyncio
import json
import socket

from node.cli import main
from node.config import load_config
from node.daemon.notify import sd_notify, watchdog_interval
from node.daemon.runner import NodeDaemon
from node.transport.memory import MemoryBus, MemoryTransport
from tests.factories import curator_key, make_bundle


def config_for(tmp_path, name="n", extra=""):
    path = tmp_path / f"{name}.toml"
    curator = curator_key().public.to_line().split()[-1]
    path.write_text(f'[node]\ndata_dir = "{tmp_path / name}"\ntrust = ["{curator}"]\n'
                    '[http]\nhost = "127.0.0.1"\nport = 0\n' + extra)
    return load_config(path)


async def http_get(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode(), body.decode()


async def test_standalone_node_serves_status_and_metrics_and_stops_cleanly(tmp_path):
    daemon = NodeDaemon(config_for(tmp_path))
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 20)
    work_id = await daemon.ingest(make_bundle(3000, "local").to_bytes())
    head, body = await http_get(daemon.http_port, "/api/status")
    status = json.loads(body)
    assert "200 OK" in head
    assert status["works"]["complete"] == 1 and status["links"] == {} and status["engine"]["running"] is False
    assert status["node"]["node_id"] == daemon.node_info()["node_id"]
    _, metrics = await http_get(daemon.http_port, "/metrics")
    assert 'meshart_works{state="complete"} 1' in metrics
    assert "# TYPE meshart_frames_total counter" in metrics
    info = json.loads((tmp_path / "n" / "daemon.json").read_text())
    assert info["http_port"] == daemon.http_port
    assert ((tmp_path / "n" / "node.key").stat().st_mode & 0o777) == 0o600
    daemon.request_stop("test")
    await asyncio.wait_for(task, 20)
    assert not (tmp_path / "n" / "daemon.json").exists()
    # The store was closed and flushed: a new daemon on the same directory has the work.
    again = NodeDaemon(config_for(tmp_path))
    task = asyncio.create_task(again.run())
    await asyncio.wait_for(again.ready.wait(), 20)
    assert again.store.is_complete(work_id)
    assert again.identity.public.raw == daemon.identity.public.raw  # same node key
    again.request_stop("test")
    await asyncio.wait_for(task, 20)


async def test_two_in_process_nodes_on_a_memory_bus(tmp_path):
    bus = MemoryBus()
    engine = "[engine]\ntrickle_imin_s = 0.5\ntrickle_doublings = 2\n"
    a = NodeDaemon(config_for(tmp_path, "a", engine), [MemoryTransport("mem", bus, "a")])
    b = NodeDaemon(config_for(tmp_path, "b", engine), [MemoryTransport("mem", bus, "b")])
    tasks = [asyncio.create_task(d.run()) for d in (a, b)]
    for d in (a, b):
        await asyncio.wait_for(d.ready.wait(), 20)
    work_id = await a.ingest(make_bundle(5000, "bus").to_bytes())
    for _ in range(600):
        if b.store.is_complete(work_id):
            break
        await asyncio.sleep(0.05)
    status = b.status()
    assert status["works"]["complete"] == 1
    assert status["links"]["mem"]["frames_in"] > 0 and status["links"]["mem"]["transport"]["connected"]
    for d in (a, b):
        d.request_stop("test")
    await asyncio.wait_for(asyncio.gather(*tasks), 20)


async def test_cli_status_reads_the_running_daemon(tmp_path, capsys):
    daemon = NodeDaemon(config_for(tmp_path))
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 20)
    try:
        code = await asyncio.to_thread(main, ["node", "status", "--data-dir", str(tmp_path / "n")])
        out = capsys.readouterr().out
        assert code == 0
        assert "works: 0 complete, 0 partial" in out and "links: none" in out
        code = await asyncio.to_thread(main, ["node", "status", "--http", f"http://127.0.0.1:{daemon.http_port}",
                                              "--json"])
        assert json.loads(capsys.readouterr().out)["node"]["name"] == "Mesh Art Node"
    finally:
        daemon.request_stop("test")
        await asyncio.wait_for(task, 20)
    assert main(["node", "status", "--data-dir", str(tmp_path / "n")]) == 1
    assert "no running node found" in capsys.readouterr().err


def test_sd_notify_sends_datagrams(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert sd_notify("READY=1")
        assert server.recv(100) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not sd_notify("READY=1")
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 10.0
