"""Run real `python -m node node run` daemons as subprocesses and read their status over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.factories import curator_key

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, data_dir: Path, extra: str = "") -> Path:
    """A node.toml trusting the test curator, HTTP on a free port."""
    path.write_text(
        f'[node]\nname = "{path.stem}"\nvenue = "test"\ndata_dir = "{data_dir}"\n'
        f'trust = ["{curator_key().public.to_line().split()[-1]}"]\n'
        '[http]\nhost = "127.0.0.1"\nport = 0\n'
        '[log]\nlevel = "debug"\n' + extra
    )
    return path


def mqtt_section(port: int, rate: float = 20_000.0) -> str:
    """An [mqtt] section for a local test broker with generous caps and fast reconnects."""
    return (f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nexhibition = "test"\nkeepalive_s = 5\n'
            f"rate_bytes_per_s = {rate}\nmax_frames_per_s = 500.0\nmax_bytes_per_s = 100000.0\n"
            "max_inbound_frames_per_s = 1000.0\nbackoff_max_s = 1.0\n"
            "[engine]\ntrickle_imin_s = 0.5\ntrickle_doublings = 2\nbeacon_interval_s = 5.0\n"
            "request_retry_max_s = 3.0\n")


class Daemon:
    """One node daemon process."""

    def __init__(self, config: Path, data_dir: Path) -> None:
        self.config = config
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{config.stem}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 20.0) -> Daemon:
        """Start and wait until /api/status answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "daemon.json").unlink(missing_ok=True)
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("JOURNAL_STREAM", None)
        self.process = subprocess.Popen([sys.executable, "-m", "node", "node", "run", "--config", str(self.config)],
                                        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daemon exited early ({self.process.returncode}):\n{self.log()}")
            try:
                info = json.loads((self.data_dir / "daemon.json").read_text())
                if info["pid"] == self.process.pid:
                    self.url = f"http://127.0.0.1:{info['http_port']}"
                    self.status()
                    return self
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"daemon did not come up:\n{self.log()}")

    def status(self) -> dict:
        """The daemon's /api/status."""
        with urllib.request.urlopen(self.url + "/api/status", timeout=5) as response:
            return json.loads(response.read())

    def metrics(self) -> str:
        """The daemon's /metrics."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as response:
            return response.read().decode()

    def wait_status(self, condition, timeout: float = 60.0, interval: float = 0.05) -> dict:
        """Poll /api/status until ``condition(status)`` holds; the last status."""
        deadline = time.monotonic() + timeout
        status = self.status()
        while not condition(status):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; last status {json.dumps(status)[:1500]}\n"
                                     f"{self.log()[-3000:]}")
            time.sleep(interval)
            status = self.status()
        return status

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the daemon and wait for it to exit; its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"daemon did not stop on signal {sig}:\n{self.log()[-3000:]}") from None

    def log(self) -> str:
        """Everything the daemon logged."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
