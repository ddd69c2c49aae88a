"""The English catalogue: complete, and compiled from the current .po."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "src/linge/locale/en/LC_MESSAGES"


def entries() -> list[dict]:
    """(msgctxt, msgid, msgstr, fuzzy) of every entry in django.po, header left out."""
    found, entry, key = [], {}, None
    for line in (LOCALE / "django.po").read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if "msgid" in entry and entry["msgid"]:
                found.append(entry)
            entry, key = {}, None
        elif line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
            key, _, quoted = line.partition(" ")
            entry[key] = ast.literal_eval(quoted)
            if key.startswith("msgstr["):  # plural forms: translated when all are
                entry["msgstr"] = entry.get("msgstr", "x") and entry[key]
        elif line.startswith('"') and key:
            entry[key] += ast.literal_eval(line)
    return found


def test_every_entry_is_translated() -> None:
    missing = [e["msgid"] for e in entries() if not e.get("msgstr") or e.get("fuzzy")]
    assert not missing, f"{len(missing)} untranslated or fuzzy, e.g. {missing[:5]}"


def test_the_mo_file_is_compiled_from_the_po() -> None:
    with (LOCALE / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog  # noqa: SLF001 - the parsed table
    stale = []
    for e in entries():
        if not e.get("msgstr") or e.get("fuzzy"):
            continue  # msgfmt leaves these out; the other test names them
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            pairs = [((key, int(k[7:-1])), v) for k, v in e.items() if k.startswith("msgstr[")]
        else:
            pairs = [(key, e.get("msgstr"))]
        if any(catalog.get(k) != v for k, v in pairs):
            stale.append(e["msgid"])
    assert not stale, f"django.mo is older than django.po, e.g. {stale[:5]}"
