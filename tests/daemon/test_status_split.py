"""/api/status is for every visitor: no paths, host names or process ids; the operator's document is local."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

from node.daemon.runner import NodeDaemon
from node.daemon.status import public_status
from tests.daemon.test_daemon_inprocess import config_for, http_get


async def test_public_status_names_no_path_host_or_pid_and_local_status_does(tmp_path: Path) -> None:
    daemon = NodeDaemon(config_for(tmp_path))
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 20)
    try:
        _, public = await http_get(daemon.http_port, "/api/status")
        head, local = await http_get(daemon.http_port, "/api/status/local")
    finally:
        daemon.request_stop("test")
        await asyncio.wait_for(task, 20)
    secrets = (str(tmp_path), socket.gethostname(), f'"pid": {os.getpid()}')
    assert not [s for s in secrets if s in public], public
    assert "200 OK" in head and all(s in local for s in secrets)
    assert json.loads(public)["store"] == {"writable": True, "error": None}


def test_public_view_is_an_allow_list() -> None:
    """A new field in the operator's document stays private until it is listed."""
    status = {"node": {"name": "n", "data_dir": "/var/lib/x", "pid": 7}, "links": {"radio": {
        "kind": "lora", "transport": {"connected": True, "device": "serial:/dev/ttyACM0", "last_error": "/dev/x",
                                      "radio": {"preset": "MEDIUM_FAST", "problems": ["p"], "node_id": "!1"}}}},
        "store": {"writable": True, "error": None, "path": "/var/lib/x/store.sqlite3"}, "new_secret": "s"}
    public = public_status(status)
    text = json.dumps(public)
    assert "/dev/" not in text and "/var/lib" not in text and "new_secret" not in text and '"pid"' not in text
    assert public["links"]["radio"]["transport"]["radio"] == {"preset": "MEDIUM_FAST"}
