"""A workspace where a curator and an artist have keys, an endorsement and a published PNG."""

from __future__ import annotations

import base64
import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from node.cli import main
from tests.artwork.images import noisy_png


@dataclass
class Run:
    """Result of one ``mesh-art`` invocation."""

    status: int
    out: str
    err: str


@dataclass
class Workspace:
    """Paths of the shared CLI test setup, plus every output seen (for secrecy checks)."""

    root: Path
    capsys: pytest.CaptureFixture[str] | None = None
    seen: list[str] = field(default_factory=list)
    setup_output: dict[str, str] = field(default_factory=dict)  # first argv word -> its stdout in setup

    def path(self, name: str) -> Path:
        return self.root / name

    def run(self, *argv: str | Path) -> Run:
        assert self.capsys is not None
        self.capsys.readouterr()
        status = main([str(a) for a in argv])
        captured = self.capsys.readouterr()
        self.seen += [captured.out, captured.err]
        return Run(status, captured.out, captured.err)

    def secrets(self) -> list[bytes]:
        """Every private key in the workspace, as base64 text and as raw seed bytes."""
        found = []
        for key_file in self.root.glob("*.key"):
            b64 = key_file.read_text().split()[2]
            found += [b64.encode(), base64.b64decode(b64)]
        return found


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """keys new (curator, artist) -> keys endorse -> publish a PNG with --budget, done once per module."""
    ws = Workspace(tmp_path_factory.mktemp("cli"))

    def call(*argv: str | Path) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([str(a) for a in argv])
        ws.seen.extend([out.getvalue(), err.getvalue()])
        ws.setup_output[str(argv[0])] = out.getvalue()
        assert status == 0, err.getvalue()

    call("keys", "new", "--role", "curator", "--out", ws.path("curator.key"))
    call("keys", "new", "--role", "artist", "--out", ws.path("ada.key"))
    call("keys", "endorse", "--curator", ws.path("curator.key"), "--artist", ws.path("ada.key.pub"),
         "--name", "Ada Lovelace", "--valid-until", "2099-12-31", "--out", ws.path("ada.endorsement"))
    ws.path("tiles.png").write_bytes(noisy_png())
    call("publish", ws.path("tiles.png"), "--key", ws.path("ada.key"), "--endorsement", ws.path("ada.endorsement"),
         "--title", "Tiles", "--title-nl", "Tegels", "--alt", "Noisy tiles over a colour gradient",
         "--alt-nl", "Ruisige tegels", "--license", "https://creativecommons.org/licenses/by-sa/4.0/",
         "--origin", "Mediamatic", "--budget", "24KiB", "--out", ws.path("tiles.meshart"))
    return ws


@pytest.fixture
def ws(published: Workspace, capsys: pytest.CaptureFixture[str]) -> Workspace:
    published.capsys = capsys
    return published
