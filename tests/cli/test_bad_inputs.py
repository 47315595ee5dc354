"""Every subcommand against a table of bad inputs: one line on stderr, never a traceback.

The real ``mesh-art`` entry point runs in a subprocess (``python -m node``), so what is checked is
exactly what an operator sees: the exit status, the lines on stderr, and no ``Traceback``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.artwork.keys import write_keypair
from tests.factories import artist_key, curator_key

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The bad inputs, and a few good ones the commands need to get as far as the bad one."""
    root = tmp_path_factory.mktemp("bad")
    write_keypair(curator_key(), root / "curator.key")
    write_keypair(artist_key(), root / "artist.key")
    (root / "binary.key").write_bytes(bytes(range(256)) * 4)
    (root / "binary.meshart").write_bytes(b"\x00\xff" * 500)
    (root / "a-directory").mkdir()
    (root / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    (root / "table.toml").write_text("[http]\nport = { a = 1 }\n")
    (root / "work.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (root / "not-a-kit").mkdir()
    return {
        "root": str(root), "cur": str(root / "curator.key"), "cur_pub": str(root / "curator.key.pub"),
        "art": str(root / "artist.key"), "art_pub": str(root / "artist.key.pub"),
        "binkey": str(root / "binary.key"), "binbundle": str(root / "binary.meshart"),
        "dir": str(root / "a-directory"), "missing": str(root / "missing" / "file"),
        "deep": str(root / "deep.toml"), "table": str(root / "table.toml"), "png": str(root / "work.png"),
        "nokit": str(root / "not-a-kit"), "zero": "/dev/zero",
        "ro": str(root / "binary.meshart"),  # "{ro}/x": an output under a file, unwritable even for root
        "nodir": str(root / "no-such-folder" / "out"),
    }


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A TCP port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


ID = "ab" * 32
# (name, argv with {placeholders}): each must fail with one line.
TABLE = [
    ("keys new: unwritable --out", "keys new --role artist --out {ro}/x.key"),
    ("keys endorse: binary artist key", "keys endorse --curator {cur} --artist {binkey} --name A --out {root}/e1"),
    ("keys endorse: wrong key kind", "keys endorse --curator {art} --artist {art_pub} --name A --out {root}/e2"),
    ("keys endorse: private key as artist", "keys endorse --curator {cur} --artist {art} --name A --out {root}/e3"),
    ("keys endorse: binary curator key", "keys endorse --curator {binkey} --artist {art_pub} --name A --out {root}/e4"),
    ("keys endorse: unwritable --out", "keys endorse --curator {cur} --artist {art_pub} --name A --out {ro}/e"),
    ("publish: missing file", "publish {missing} --key {art} --endorsement {missing} --title T --license CC0-1.0 "
     "--out {root}/w.meshart"),
    ("publish: directory", "publish {dir} --key {art} --endorsement {binbundle} --title T --license CC0-1.0 "
     "--out {root}/w.meshart"),
    ("publish: binary endorsement", "publish {png} --key {art} --endorsement {binbundle} --title T "
     "--license CC0-1.0 --out {root}/w.meshart"),
    ("verify: /dev/zero", "verify {zero} --trust {cur_pub}"),
    ("verify: directory", "verify {dir} --trust {cur_pub}"),
    ("verify: binary", "verify {binbundle} --trust {cur_pub}"),
    ("verify: wrong key kind", "verify {binbundle} --trust {art_pub}"),
    ("verify: binary trust key", "verify {binbundle} --trust {binkey}"),
    ("ingest: /dev/zero", "ingest {zero} --data-dir {root}/store --trust {cur_pub}"),
    ("ingest: data dir is a file", "ingest {binbundle} --data-dir {binbundle} --trust {cur_pub}"),
    ("works: missing data dir", "works --data-dir {missing}"),
    ("takedown: binary bundle", "takedown {binbundle} --curator {cur} --out {root}/t"),
    ("takedown: wrong key kind", f"takedown {ID} --curator {{art}} --out {{root}}/t"),
    ("takedown: unwritable --out", f"takedown {ID} --curator {{cur}} --out {{ro}}/t"),
    ("ingest-takedown: /dev/zero", "ingest-takedown {zero} --data-dir {root}/store --trust {cur_pub}"),
    ("ingest-takedown: binary", "ingest-takedown {binbundle} --data-dir {root}/store --trust {cur_pub}"),
    ("node run: deep TOML", "node run --config {deep}"),
    ("node run: table for a value", "node run --config {table}"),
    ("node run: config is a directory", "node run --config {dir}"),
    ("node run: busy port", "node run --data-dir {root}/node --http-host 127.0.0.1 --http-port {port}"),
    ("node status: nothing running", "node status --data-dir {dir}"),
    ("radio check: binary profile", "radio check {binbundle}"),
    ("radio check: not a kit", "radio check --kit {nokit}"),
    ("radio render: kit is /dev/zero", "radio render nemo --kit {zero}"),
    ("radio render: binary key file", "radio render nemo --psk-file {binkey}"),
    ("radio qr: unwritable --out", "radio qr nemo --psk-file {binkey} --out {ro}/q.svg"),
    ("radio apply: nothing listening", "radio apply nemo --psk-file {binkey} --host 127.0.0.1:1 --timeout 2"),
    ("radio export: nothing listening", "radio export --host 127.0.0.1:1 --timeout 2"),
    ("kit new: binary curator key", "kit new --curator {binkey} --out {root}/kit1"),
    ("kit new: wrong key kind", "kit new --curator {art_pub} --out {root}/kit2"),
    ("kit new: unwritable --out", "kit new --curator {cur_pub} --out {ro}/kit"),
    ("kit new: bad partner", "kit new --curator {cur_pub} --out {root}/kit3 --partner x,north,4.9"),
    ("kit show: not a kit", "kit show {nokit}"),
    ("sim run: --plot into an unusable folder", "sim run --scenario line:2 --hours 0.05 --plot {binbundle}/p"),
    ("sim run: binary scenario", "sim run --scenario {binbundle} --hours 0.05"),
    ("sim compare: directory scenario", "sim compare --scenario {dir} --hours 0.05"),
    ("sim radios: busy port", "sim radios --scenario line:2 --base-port {port}"),
    ("demo: busy port", "demo --data-dir {root}/demo --base-port {port}"),
]


def run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``mesh-art ARGV`` through the real entry point, crash log in the scratch folder."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MESH_ART_CLI_LOG": str(Path(argv[-1]).parent / "cli.log")}
    return subprocess.run([sys.executable, "-m", "node", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=TIMEOUT_S, env=env, check=False)


@pytest.mark.parametrize(("name", "template"), TABLE, ids=[name for name, _ in TABLE])
def test_bad_input_gives_one_line(files: dict[str, str], busy_port: int, name: str, template: str) -> None:
    argv = template.format(**files, port=busy_port).split()
    result = run_cli(argv)
    # `node run` and `demo` log to stderr (the journal under systemd): those records are the log, not the error.
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("ts=")]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mesh-art: "), lines[0]
    assert "unexpected" not in lines[0], lines[0]  # an expected failure is named, not a crash pointer


def test_broken_pipe_ends_quietly(files: dict[str, str]) -> None:
    """``mesh-art kit show KIT | head -c 10``: the reader goes away, the command ends without a word."""
    kit, partners = Path(files["root"]) / "pipe-kit", Path(files["root"]) / "partners.txt"
    # More than a pipe buffer (64 KiB) of output, so the writer really meets the closed pipe.
    partners.write_text("".join(f"p{i},52.{i:05d},4.9,Partner venue number {i}\n" for i in range(1500)))
    made = run_cli(["kit", "new", "--curator", files["cur_pub"], "--partners", str(partners), "--out", str(kit)])
    assert made.returncode == 0, made.stderr
    command = [sys.executable, "-m", "node", "kit", "show", str(kit)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10)
        proc.stdout.close()  # like `head -c 10`
        err = proc.stderr.read().decode()
        proc.wait(TIMEOUT_S)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err == "" and proc.returncode == 141


def test_an_unexpected_failure_points_to_the_log(files: dict[str, str], tmp_path: Path) -> None:
    """A crash shows one line naming the log; the log holds the traceback."""
    log = tmp_path / "cli.log"
    code = ("import sys\nfrom node.cli import keys\n"
            "def boom(args):\n    raise ZeroDivisionError('boom')\n"
            "keys.cmd_new = boom\nfrom node.cli import main\n"
            "sys.exit(main(['keys', 'new', '--role', 'artist', '--out', 'x']))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=TIMEOUT_S, env={**os.environ, "MESH_ART_CLI_LOG": str(log)}, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "unexpected ZeroDivisionError" in lines[0] and str(log) in lines[0]
    assert "Traceback" in log.read_text() and "boom" in log.read_text()
