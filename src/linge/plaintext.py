"""Text from users, cleaned of what no one means to type."""

from __future__ import annotations

# Control characters other than newline and tab: a pasted NUL is refused by PostgreSQL,
# and most of the rest by Excel files (openpyxl raises on them).
# Also the invisible ones that change how text reads: bidi overrides and isolates
# (a reversed "gnp.exe"), zero-width spaces and joiners, the byte-order mark.
_INVISIBLE = [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF]
_CONTROLS = {code: None for code in [*range(32), 127, *_INVISIBLE] if chr(code) not in "\n\t"}


def strip_controls(text: str) -> str:
    return text.replace("\r\n", "\n").translate(_CONTROLS)


def small_int(text: str | None, maximum: int = 2**31 - 1) -> int | None:
    """A non-negative whole number written in ASCII digits, within `maximum`; else None.

    str.isdigit() is not enough: it accepts ² and ٣, which int() refuses or reads
    as something else, and a 30-digit id overflows the database's integers.
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    number = int(text)
    return number if number <= maximum else None


def bounded_int(text: str | None, default: int, lowest: int, highest: int) -> int:
    """A whole number from a query string, brought within [lowest, highest]; the
    default when there is none or it is not a number."""
    number = small_int(text)
    return default if number is None else max(lowest, min(number, highest))


# A cell a spreadsheet would read as a formula (CSV/formula injection): =, +, -, @, and
# tab or carriage return ahead of one. Text from residents must stay text in Excel.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sheet_text(value):
    """A value for a spreadsheet cell: text that would start a formula gets a leading '."""
    if isinstance(value, str):
        value = strip_controls(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value
