"""Creative Commons licences accepted in manifests, by canonical URI."""

from __future__ import annotations

LICENCES: dict[str, str] = {
    "https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC BY-SA 4.0",
    "https://creativecommons.org/licenses/by-nd/4.0/": "CC BY-ND 4.0",
    "https://creativecommons.org/licenses/by-nc/4.0/": "CC BY-NC 4.0",
    "https://creativecommons.org/licenses/by-nc-sa/4.0/": "CC BY-NC-SA 4.0",
    "https://creativecommons.org/licenses/by-nc-nd/4.0/": "CC BY-NC-ND 4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
    "https://creativecommons.org/publicdomain/mark/1.0/": "Public Domain Mark 1.0",
}

SHORT_NAMES = {name.lower().replace(" ", "-").replace(".0", ""): uri for uri, name in LICENCES.items()}


def normalise_licence(text: str) -> str:
    """Map a URI or short name (``cc-by-4``, ``CC BY 4.0``) to the canonical URI, or raise."""
    candidate = text.strip()
    if candidate.startswith("http://"):
        candidate = "https://" + candidate[len("http://") :]
    if candidate.startswith("https://") and not candidate.endswith("/"):
        candidate += "/"
    if candidate in LICENCES:
        return candidate
    key = candidate.lower().replace(" ", "-").replace(".0", "")
    if key in SHORT_NAMES:
        return SHORT_NAMES[key]
    raise ValueError(
        f"unknown licence {text!r}; use a canonical Creative Commons URI such as "
        "https://creativecommons.org/licenses/by-sa/4.0/"
    )


def licence_name(uri: str) -> str:
    """Human name of a canonical licence URI."""
    return LICENCES.get(uri, uri)
