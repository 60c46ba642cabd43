# ruff: noqa: E501  (the YAML knowledge base below keeps its long lines)
"""One small knowledge base for the tests, written into a folder the test owns.

Two X topics: ``x.grok_training`` (English and French, web and Android steps)
and ``x.long_answer`` (steps long enough to need a thread on Bluesky), with
their sources, as the loader requires.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

TITLE = "Stop Grok training on your posts"
SOURCES = (
    "    sources:\n"
    '      - {url: "https://help.x.com/en/using-x/about-grok", title: "About Grok", publisher: "X", date: 2026-10-01, kind: official}\n'
)

LONG_STEPS = [
    f"Step {i}: open the menu called “Privacy and safety”, then the section about data "
    f"sharing and personalisation, and untick every box that mentions training ({i})."
    for i in range(1, 9)
]

KB_YAML = textwrap.dedent(
    """\
    platform: x
    name: X
    topics:
      - id: x.grok_training
        need: ai_training
        url: https://x.com/settings/grok_settings
        last_verified: 2026-11-01
        SOURCES
        en:
          title: TITLE
          summary: Untick the Grok data sharing box in your privacy settings.
          short: "Untick “Allow your public data … to be used for training” in Settings › Privacy and safety › Grok."
          examples: [how do I stop grok training, stop grok from training on my posts, grok opt out of training]
          steps:
            web: {steps: ["Open Settings and privacy.", "Privacy and safety › Grok & third-party collaborators.", "Untick the box."]}
            android: {steps: ["Tap your avatar › Settings and privacy.", "Privacy and safety › Grok.", "Untick the box."]}
        fr:
          title: Empêcher Grok de s'entraîner sur vos posts
          summary: Décochez la case de partage de données Grok.
          short: "Décochez « Autoriser l'utilisation de vos données publiques … pour l'entraînement » dans Paramètres › Confidentialité et sécurité › Grok."
          examples: [comment empêcher grok de s'entraîner, empêcher grok d'utiliser mes posts, désactiver l'entraînement de grok]
          steps:
            web: {steps: ["Ouvrez Paramètres et confidentialité.", "Confidentialité et sécurité › Grok.", "Décochez la case."]}
            android: {steps: ["Touchez votre avatar › Paramètres.", "Confidentialité › Grok.", "Décochez la case."]}
      - id: x.long_answer
        need: ai_training
        url: https://x.com/settings/account/personalization_and_data_sharing_with_a_very_long_path
        last_verified: 2026-11-01
        sources:
          - {url: "https://help.x.com/en/rules-and-policies/data-sharing-and-personalisation-very-long", title: "Data", publisher: "X", date: 2026-10-01, kind: official}
          - {url: "https://x.com/en/privacy", title: "Privacy", publisher: "X", date: null, kind: official}
        en:
          title: Turn off personalisation and data sharing
          summary: Several boxes to untick; the steps are long.
          short: "Untick every personalisation and data sharing box 🙅🏽‍♀️ in Settings › Privacy › Data sharing — résumé: all of them."
          examples: [turn off personalisation and data sharing, stop x sharing my data with partners, disable personalization and data sharing]
          steps:
            web: {steps: LONG_STEPS}
        fr:
          title: Désactiver la personnalisation et le partage de données
          summary: Plusieurs cases à décocher.
          examples: [désactiver la personnalisation et le partage de données, empêcher x de partager mes données, arrêter le partage de données avec les partenaires]
          steps:
            web: {steps: ["Ouvrez les paramètres.", "Décochez tout."]}
    """
).replace("LONG_STEPS", "[" + ", ".join(f'"{s}"' for s in LONG_STEPS) + "]")


def write_kb(directory: Path, *, title: str = TITLE, broken: bool = False) -> Path:
    """Write the test knowledge base into ``directory`` (its ``*.yaml`` files are replaced).

    Args:
        directory: Created if needed.
        title: The English title of ``x.grok_training`` (tests change it to see a
            reload take effect).
        broken: Leave out that topic's sources, so the loader refuses the file.

    Returns:
        ``directory``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    text = KB_YAML.replace("    SOURCES\n", "" if broken else SOURCES).replace("TITLE", title)
    (directory / "x.yaml").write_text(text, encoding="utf-8")
    return directory
