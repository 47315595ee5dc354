"""The studio's NL and EN catalogues: the same keys, each used, none missing, same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

from node.studio.render import load_messages

STUDIO = Path(__file__).resolve().parents[2] / "node" / "studio"


def used_keys() -> set[str]:
    keys: set[str] = set()
    for template in (STUDIO / "templates").glob("*.html"):
        keys |= set(re.findall(r"""\bt\(["']([a-z0-9_]*[a-z0-9])["']\s*[,)]""", template.read_text()))
        for prefix in re.findall(r"""\bt\(["']([a-z0-9_]+_)["']\s*~""", template.read_text()):
            keys |= {prefix + role for role in ("artist", "curator")}
    for module in STUDIO.glob("*.py"):
        text = module.read_text()
        keys |= set(re.findall(r'"((?:error|warn)_[a-z_]+)"', text))
        if 'f"error_no_{role}_key"' in text:
            keys |= {f"error_no_{role}_key" for role in ("artist", "curator")}
    return keys


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_match_and_cover_the_templates():
    messages = load_messages()
    assert set(messages["en"]) == set(messages["nl"])
    used = used_keys()
    assert used - set(messages["en"]) == set(), "messages missing from the catalogues"
    assert set(messages["en"]) - used == set(), "messages no page uses"
    for key, text in messages["en"].items():
        assert placeholders(text) == placeholders(messages["nl"][key]), key
    assert all(messages["nl"][k] != messages["en"][k] for k in ("nav_keys", "nav_publish", "home_heading"))
