"""Customer files: CSV, Excel, Parquet or JSON lines, read into onboarding rows.

Used by ``newo-nb onboard FILE`` and by the app's file upload. Every cell is read as text
(a phone number stays ``+1 512...``, not a float), blank cells count as absent, and each
row keeps a label the person can find in the file: ``row 7`` is row 7 of the spreadsheet
(the header is row 1), ``line 7`` is line 7 of a JSON lines file.

A file that cannot be read at all raises :class:`CustomerFileError` saying why and what
to do. A single JSON line that is not a JSON object is a bad row, reported like a bad field,
and the other rows still run.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["SUFFIXES", "CustomerFile", "CustomerFileError", "read_customer_file"]

# The suffixes understood, and what each is.
SUFFIXES = {".csv": "CSV", ".xlsx": "Excel", ".xlsm": "Excel", ".parquet": "Parquet",
            ".jsonl": "JSON lines", ".ndjson": "JSON lines"}
_FIELDS_HINT = ("columns name, email, source (required), phone_number, country_code, "
                "referral, external_customer_id, query_params, source_type")


class CustomerFileError(ValueError):
    """The file as a whole cannot be used (missing, unknown format, unreadable, empty)."""


@dataclass
class CustomerFile:
    """The rows of a customer file, ready for ``onboard_many``.

    ``rows[i]`` is the i-th customer row (a dict of its non-blank cells), ``labels[i]``
    where it is in the file; ``unreadable`` holds rows that are not records at all, as
    problem records (row, external_customer_id, field, value, problem) with their label
    in ``label``.
    """

    name: str
    kind: str
    rows: list[dict[str, Any]]
    labels: list[str]
    unreadable: list[dict[str, Any]] = field(default_factory=list)

    def label(self, row: int) -> str:
        """Where row ``row`` (0-based, as in ``batch.invalid``) is in the file."""
        return self.labels[row] if 0 <= row < len(self.labels) else f"row index {row}"


def read_customer_file(source: str | os.PathLike[str] | bytes, *,
                       name: str | None = None) -> CustomerFile:
    """Read a customer file from a path, or from ``bytes`` (an upload) named ``name``."""
    if isinstance(source, bytes):
        display = name or "upload"
        data: Any = io.BytesIO(source)
    else:
        path = Path(source)
        display = name or str(path)
        if not path.is_file():
            raise CustomerFileError(f"{display} does not exist (or is not a file): give the "
                                    "path of a CSV, Excel, Parquet or JSON lines file.")
        data = path
    suffix = Path(display).suffix.lower()
    kind = SUFFIXES.get(suffix)
    if kind is None:
        raise CustomerFileError(
            f"{display}: cannot tell its format from {suffix or 'no suffix'!s}; name it "
            f"{', '.join(SUFFIXES)} (CSV, Excel, Parquet or JSON lines).")
    try:
        read = _read_json_lines(data, display) if kind == "JSON lines" else _read_table(
            data, display, kind)
    except CustomerFileError:
        raise
    except ImportError as missing:
        raise CustomerFileError(
            f"{display}: reading {kind} needs {missing.name or missing}; install it "
            "(pip install 'newo-nb[parquet]' for Parquet).") from None
    except Exception as exc:  # pandas/pyarrow/openpyxl each raise their own kinds
        raise CustomerFileError(f"{display} is not a readable {kind} file ({exc}). Save it "
                                f"again as {kind}, or as CSV with {_FIELDS_HINT}.") from None
    if not read.rows and not read.unreadable:
        raise CustomerFileError(f"{display} holds no customers: give one row per business "
                                f"with {_FIELDS_HINT}.")
    return read


def _read_table(data: Any, display: str, kind: str) -> CustomerFile:
    if kind == "CSV":
        # Every cell as text; only an empty cell is missing ("NA" may be a business name).
        frame = pd.read_csv(data, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig", skipinitialspace=True)
        first = 2  # the header is row 1
    elif kind == "Excel":
        frame = pd.read_excel(data, dtype=str, engine="openpyxl")
        first = 2
    else:
        frame = pd.read_parquet(data)
        first = 0  # Parquet has no header row: rows are counted from 0, as pandas shows them
    frame.columns = [str(column).strip() for column in frame.columns]
    rows = [{str(k): v for k, v in record.items() if not _missing(v)}
            for record in frame.to_dict(orient="records")]
    return CustomerFile(display, kind, [_as_text(r) for r in rows],
                        [f"row {i + first}" for i in range(len(rows))])


def _read_json_lines(data: Any, display: str) -> CustomerFile:
    raw = data.read() if isinstance(data, io.BytesIO) else Path(data).read_bytes()
    text = raw.decode("utf-8-sig")
    rows: list[dict[str, Any]] = []
    labels: list[str] = []
    unreadable: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as bad:
            unreadable.append(_unreadable(number, line, f"is not JSON ({bad.msg}); write one "
                                          "JSON object per line"))
            continue
        if not isinstance(record, dict):
            unreadable.append(_unreadable(number, line, "is not a JSON object; write one "
                                          '{"name": ..., "email": ..., "source": ...} per line'))
            continue
        rows.append({str(k): v for k, v in record.items() if v is not None})
        labels.append(f"line {number}")
    return CustomerFile(display, "JSON lines", rows, labels, unreadable)


def _unreadable(number: int, line: str, problem: str) -> dict[str, Any]:
    shown = line if len(line) <= 60 else line[:57] + "..."
    return {"label": f"line {number}", "external_customer_id": None, "field": "<line>",
            "value": shown, "problem": problem}


def _as_text(record: dict[str, Any]) -> dict[str, Any]:
    # Parquet keeps its column types: a phone number stored as an integer would lose its
    # "+"; Customer validation gets text and says what is wrong with it.
    return {k: v if isinstance(v, str | dict | list) else str(v) for k, v in record.items()}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, dicts: present
        return False
