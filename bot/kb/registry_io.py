"""Reading the registry files of a knowledge folder (``platforms.yaml``, ``needs.yaml``).

Kept beside the knowledge base loader, outside the user-facing ``bot/nlu``
package: the paths come from the settings (the knowledge folder), never from a
message. :mod:`bot.nlu.registry` validates what this returns.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_list(path: Path, key: str) -> list[object]:
    """The list under ``key`` of a YAML mapping file.

    Raises:
        ValueError: If the file cannot be read, is not YAML, or has no such list.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ValueError(f"expected a mapping with a '{key}' list")
    return list(data[key])
