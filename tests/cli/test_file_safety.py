"""Issue 17, item 9: key and daemon files never follow a planted symlink, and a private key
that others can read is refused with a one-line error and the fix (as ssh refuses it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from node.artwork.keys import SecretKey, load_secret, write_keypair
from node.cli import main
from node.config import ConfigError
from node.daemon.runner import NodeDaemon
from tests.reliability.inprocess import node_config, running

VICTIM_TEXT = "export PATH=/usr/bin\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file of the operator's that a planted symlink points at (think ~/.bashrc)."""
    path = tmp_path / "bashrc"
    path.write_text(VICTIM_TEXT)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("planted", ["key", "pub"])
def test_keys_new_refuses_a_planted_symlink_and_writes_nothing_through_it(tmp_path, victim, capsys, planted):
    out = tmp_path / "shared" / "ada.key"
    out.parent.mkdir()
    link = out if planted == "key" else out.with_name("ada.key.pub")
    link.symlink_to(tmp_path / "not-there-yet")  # dangling: Path.exists() says False
    status, _, err = run(capsys, "keys", "new", "--role", "artist", "--out", out)
    assert status == 1 and f"{link} exists; use --force" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "not-there-yet").exists() and link.is_symlink()
    assert not os.path.lexists(out.with_name("ada.key.pub") if planted == "key" else out)


def test_keys_new_force_replaces_symlinks_instead_of_writing_their_targets(tmp_path, victim, capsys):
    out = tmp_path / "ada.key"
    out.symlink_to(victim)
    out.with_name("ada.key.pub").symlink_to(victim)
    status, _, err = run(capsys, "keys", "new", "--role", "artist", "--out", out, "--force")
    assert status == 0, err
    assert victim.read_text() == VICTIM_TEXT
    assert not out.is_symlink() and out.stat().st_mode & 0o777 == 0o600
    assert load_secret(out, role="artist").public.to_line() == out.with_name("ada.key.pub").read_text().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ada.key", "ada.key.pub", "bashrc"]  # no temp left


async def test_the_daemon_file_replaces_planted_symlinks_and_never_writes_their_target(tmp_path, victim):
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    (data_dir / "daemon.tmp").symlink_to(victim)  # the old fixed temporary name
    (data_dir / "daemon.json").symlink_to(victim)
    daemon = NodeDaemon(node_config(tmp_path, "files", data_dir=data_dir))
    async with running(daemon):
        record = data_dir / "daemon.json"
        assert not record.is_symlink()
        assert json.loads(record.read_text())["http_port"] == daemon.http_port
    assert victim.read_text() == VICTIM_TEXT


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_private_key_others_can_read_is_refused_with_the_fix(tmp_path, capsys, mode):
    curator = tmp_path / "curator.key"
    write_keypair(SecretKey.generate("curator"), curator)
    artist = tmp_path / "ada.key"
    write_keypair(SecretKey.generate("artist"), artist)
    curator.chmod(mode)
    status, _, err = run(capsys, "keys", "endorse", "--curator", curator, "--artist", f"{artist}.pub",
                         "--name", "Ada", "--out", tmp_path / "ada.endorsement")
    assert status == 1 and len(err.splitlines()) == 1
    assert f"{curator} is readable by others (mode {mode:04o})" in err and f"chmod 600 {curator}" in err
    assert not (tmp_path / "ada.endorsement").exists()
    curator.chmod(0o600)
    assert run(capsys, "keys", "endorse", "--curator", curator, "--artist", f"{artist}.pub",
               "--name", "Ada", "--out", tmp_path / "ada.endorsement")[0] == 0


async def test_the_daemon_refuses_a_node_key_others_can_read(tmp_path):
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    config = node_config(tmp_path, "keyed", data_dir=data_dir)
    write_keypair(SecretKey.generate("node"), config.key_file)
    config.key_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others .* chmod 600"):
        await NodeDaemon(config).run()
