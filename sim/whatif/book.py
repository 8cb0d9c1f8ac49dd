"""A strategy team's book of accounts and its market, read from files and checked cell by cell.

Two files describe the market the what-if starts from (``docs/whatif.md``):

- the **accounts CSV**, one row per buyer: ``account_id``, ``annual_volume``,
  needs (a ``needs_profile`` name or ``need_<department>`` weights summing to 1),
  ``stance``, ``current_supplier``, ``salesperson_id`` and, optionally,
  ``trust``, ``satisfaction``, ``share_of_wallet``, ``tenure_months`` and
  ``months_since_contact``;
- the **suppliers** YAML (a ``suppliers:`` list) or CSV: ``id``, ``strategy``,
  ``price``, capability per department and the salespeople's ids.

CSV files are read as spreadsheets export them: comma-, semicolon- or
tab-separated, decimal point or (in semicolon files) decimal comma, UTF-8
(with or without a byte-order mark) or Windows-1252; :attr:`Book.notes`
says what was detected. Other columns of the accounts file (``name``,
``key_account``, ``region``, …) are carried through to the report.

Any problem raises one :class:`BookError` naming the file, the row and the
column. Rows are numbered as a spreadsheet shows them: row 1 is the header,
row 2 the first account. In a suppliers YAML, row *k* is the *k*-th entry of
the ``suppliers`` list.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.config import DEPARTMENTS, STRATEGIES

STANCES: tuple[str, ...] = ("partnership", "adversarial")
NEEDS_TOLERANCE = 0.01  # |Σ_d w_d − 1| allowed in a row of need_<department> weights

#: Named needs profiles (M3): weights over the departments, each summing to 1.
NEEDS_PROFILES: dict[str, dict[str, float]] = {
    "product_only": {"product": 1.0},
    "narrow": {"product": 0.8, "service": 0.1, "logistics": 0.1},
    "balanced": {"product": 0.5, "service": 0.15, "installation_training": 0.1,
                 "logistics": 0.1, "finance": 0.05, "engineering": 0.1},
    "broad": {"sales": 0.05, "product": 0.3, "service": 0.2, "installation_training": 0.15,
              "logistics": 0.1, "finance": 0.1, "engineering": 0.1},
    "service_heavy": {"product": 0.35, "service": 0.35, "installation_training": 0.15,
                      "logistics": 0.1, "finance": 0.05},
}
NEED_COLUMNS: tuple[str, ...] = tuple(f"need_{d}" for d in DEPARTMENTS)
REQUIRED: tuple[str, ...] = (
    "account_id", "annual_volume", "stance", "current_supplier", "salesperson_id",
)
#: Optional starting state of the tie with the current supplier, and its default.
OPTIONAL: dict[str, float] = {
    "trust": 0.5,
    "satisfaction": 0.6,
    "share_of_wallet": 0.7,
    "tenure_months": 12,
    "months_since_contact": 0,
}
SUPPLIER_KEYS: tuple[str, ...] = ("id", "strategy", "price", "salespeople")
#: Accepted spellings of a ``key_account`` cell (case-insensitive; empty = no).
YES: frozenset[str] = frozenset({"yes", "y", "true", "1", "x", "ja", "oui", "si", "sí"})
NO: frozenset[str] = frozenset({"no", "n", "false", "0", "", "nein", "non"})
_MONEY = re.compile(r"^[-+]?\s*[$€£¥]|[$€£¥]\s*$|^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_EURO_NUMBER = re.compile(r"^[-+]?\d{1,3}(\.\d{3})*(,\d+)?$|^[-+]?\d+(,\d+)?$")


class BookError(ValueError):
    """A value in the accounts or suppliers file that the what-if cannot use."""

    def __init__(self, path: Path | str, row: int | None, column: str | None, problem: str):
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {problem}")


@dataclass(frozen=True)
class Salesperson:
    """A salesperson of the book: id and, if known, skill in [0, 1] (M2)."""

    id: str
    skill: float | None = None


@dataclass(frozen=True)
class SupplierRecord:
    """A supplier of the book (M1): its strategy, list price, capabilities and sales force."""

    id: str
    strategy: str
    price: float
    capability: dict[str, float]
    salespeople: tuple[Salesperson, ...]


@dataclass(frozen=True)
class Book:
    """A validated book: accounts (one typed row per buyer) and suppliers, ours first.

    ``accounts`` has the columns ``account_id``, ``annual_volume``,
    ``need_<department>`` for all departments (summing to 1), ``adversarial``
    (bool), ``current_supplier``, ``salesperson_id`` ("" = any of the
    supplier's salespeople) and the :data:`OPTIONAL` columns filled with defaults.
    """

    accounts: pd.DataFrame
    suppliers: tuple[SupplierRecord, ...]
    accounts_path: Path
    suppliers_path: Path
    notes: tuple[str, ...] = field(default=())  # how each file was read (encoding, separator)

    @property
    def our_supplier(self) -> str:
        """Id of the firm asking the question: supplier 0 of the model."""
        return self.suppliers[0].id

    @property
    def supplier_ids(self) -> list[str]:
        """Supplier ids in model order (column j of the tie arrays)."""
        return [s.id for s in self.suppliers]


def default_suppliers_path(accounts: Path) -> Path:
    """``suppliers.yaml`` (else ``suppliers.csv``) beside the accounts file."""
    csv = accounts.with_name("suppliers.csv")
    yml = accounts.with_name("suppliers.yaml")
    return csv if csv.exists() and not yml.exists() else yml


def load_book(
    accounts: Path | str, suppliers: Path | str | None = None, our_supplier: str | None = None
) -> Book:
    """Read and check both files; ``our_supplier`` (default: the first supplier) comes first."""
    accounts = Path(accounts)
    if not accounts.is_file():
        raise BookError(accounts, None, None, "no such accounts file")
    suppliers = Path(suppliers) if suppliers is not None else default_suppliers_path(accounts)
    if not suppliers.is_file():
        hint = "" if suppliers.suffix.lower() == ".csv" else (
            " (the suppliers file: by default suppliers.yaml beside the accounts file; "
            "give another with suppliers=FILE)")
        raise BookError(suppliers, None, None, f"no such suppliers file{hint}")
    notes: list[str] = []
    records = read_suppliers(suppliers, notes)
    ids = [r.id for r in records]
    if our_supplier is not None:
        if str(our_supplier) not in ids:
            raise BookError(suppliers, None, "id",
                            f"our_supplier={our_supplier!r} is not a supplier here: {ids}")
        k = ids.index(str(our_supplier))
        records = [records[k], *records[:k], *records[k + 1:]]
    table = read_accounts(accounts, records, notes)
    return Book(table, tuple(records), accounts, suppliers, tuple(notes))


# ---------------------------------------------------------------- cells


def _number(path: Path, row: int, column: str, cell: Any, lo: float = -math.inf,
            hi: float = math.inf, *, integer: bool = False, positive: bool = False,
            decimal_comma: bool = False) -> float:
    """A finite number in [lo, hi] (``positive``: > 0) from a cell, or a :class:`BookError`.

    With ``decimal_comma`` (a semicolon-separated export), ``1.234,5`` reads as 1234.5.
    A currency symbol or thousands separators (``$12,000``) are refused with a hint.
    """
    text = str(cell).strip() if cell is not None else ""
    if text == "":
        raise BookError(path, row, column, "empty: expected a number")
    if decimal_comma and _EURO_NUMBER.match(text):
        text = text.replace(".", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        hint = ""
        if _MONEY.search(text):
            digits = re.sub(r"[^\d.,\-]", "", text)
            plain = digits.replace(".", "") if decimal_comma else digits.replace(",", "")
            hint = (f": write plain numbers without currency symbol or thousands separators, "
                    f"e.g. {plain or '12000'} (name the currency with currency=…)")
        raise BookError(path, row, column, f"{text!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise BookError(path, row, column, f"{text!r} is not a finite number")
    if integer and value != int(value):
        raise BookError(path, row, column, f"{text!r} is not a whole number")
    if positive and value <= 0:
        what = "negative" if value < 0 else "zero"
        raise BookError(path, row, column, f"{text} is {what}: expected a number > 0")
    if value < lo:
        what = "negative" if lo == 0 else f"below {lo:g}"
        raise BookError(path, row, column, f"{text} is {what}: expected a number in "
                                           f"[{lo:g}, {hi:g}]")
    if value > hi:
        raise BookError(path, row, column, f"{text} is above {hi:g}: expected a number in "
                                           f"[{lo:g}, {hi:g}]")
    return value


def _decode(path: Path) -> tuple[str, str]:
    """The file's text and its encoding's name: UTF-8 (with or without BOM) or Windows-1252."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with BOM"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as err:
        raise BookError(path, None, None, "neither UTF-8 nor Windows-1252 text "
                                          f"(byte {data[err.start]:#04x} at {err.start})") from None


def _separator(header: str) -> str:
    """The most frequent of ``,``, ``;`` and tab in the header line (``,`` on a tie)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def _read_csv(path: Path, required: tuple[str, ...], notes: list[str] | None = None
              ) -> tuple[pd.DataFrame, bool]:
    """All cells as stripped strings, and whether numbers use a decimal comma.

    The index is the spreadsheet row (header = row 1). The encoding and the
    separator are detected (see the module doc) and noted in ``notes``.
    """
    if not path.is_file():
        raise BookError(path, None, None, "no such file")
    text, encoding = _decode(path)
    sep = _separator(text.split("\n", 1)[0])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError:
        raise BookError(path, 1, required[0],
                        f"the file is empty: expected a header with {list(required)}") from None
    except pd.errors.ParserError as err:
        raise BookError(path, None, None, f"not a readable CSV file ({SEPARATOR_NAMES[sep]}-"
                                          f"separated, {encoding}): {err}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip())
    frame.index = frame.index + 2
    frame = frame[(frame != "").any(axis=1)]  # blank lines
    for column in required:
        if column not in frame.columns:
            raise BookError(path, 1, column, f"missing column {column!r} in the header "
                                             f"(read as {SEPARATOR_NAMES[sep]}-separated)")
    if frame.empty:
        raise BookError(path, 2, required[0], "no rows below the header")
    decimal_comma = sep == ";" and bool(
        frame.apply(lambda col: col.str.fullmatch(r"[-+]?\d+,\d+")).to_numpy().any())
    frame.attrs["sep"] = sep
    if notes is not None:
        notes.append(f"{path.name}: {encoding}, {SEPARATOR_NAMES[sep]}-separated, "
                     f"decimal {'comma' if decimal_comma else 'point'}")
    return frame, decimal_comma


# ---------------------------------------------------------------- accounts


def read_accounts(path: Path, suppliers: list[SupplierRecord],
                  notes: list[str] | None = None) -> pd.DataFrame:
    """The accounts table, typed and checked against the suppliers (see module doc).

    ``key_account`` (when given) becomes a bool; other unknown columns are
    kept as text after the typed ones.
    """
    frame, comma = _read_csv(path, REQUIRED, notes)
    known = {*REQUIRED, *OPTIONAL, *NEED_COLUMNS, "needs_profile", "key_account"}
    extra = [c for c in frame.columns if c not in known and not c.startswith("need_")]
    has_profile = "needs_profile" in frame.columns
    weights = [c for c in frame.columns if c.startswith("need_")]
    if not has_profile and not weights:
        raise BookError(path, 1, "needs_profile",
                        "missing needs: give a needs_profile column or need_<department> "
                        f"columns ({', '.join(NEED_COLUMNS)})")
    for column in weights:
        if column not in NEED_COLUMNS:
            raise BookError(path, 1, column, f"unknown department: expected {list(NEED_COLUMNS)}")
    people = {p.id: s.id for s in suppliers for p in s.salespeople}
    firms = [s.id for s in suppliers]
    seen: dict[str, int] = {}
    rows = []
    for row, cells in frame.iterrows():
        account = cells["account_id"]
        if account == "":
            raise BookError(path, row, "account_id", "empty: every account needs an id")
        if account in seen:
            raise BookError(path, row, "account_id",
                            f"duplicate account id {account!r} (first in row {seen[account]})")
        seen[account] = row
        volume = _number(path, row, "annual_volume", cells["annual_volume"], positive=True,
                         decimal_comma=comma)
        needs = _needs(path, row, cells, has_profile, weights, comma)
        stance = cells["stance"].lower()
        if stance not in STANCES:
            raise BookError(path, row, "stance", f"{cells['stance']!r}: expected one of "
                                                 f"{list(STANCES)}")
        supplier = cells["current_supplier"]
        if supplier not in firms:
            raise BookError(path, row, "current_supplier",
                            f"unknown supplier {supplier!r}: the suppliers file has {firms}")
        person = cells["salesperson_id"]
        if person != "" and person not in people:
            raise BookError(path, row, "salesperson_id",
                            f"unknown salesperson {person!r}: {supplier!r} has "
                            f"{[p for p, firm in people.items() if firm == supplier]}")
        if person != "" and people[person] != supplier:
            raise BookError(path, row, "salesperson_id",
                            f"{person!r} sells for {people[person]!r}, not for the current "
                            f"supplier {supplier!r}")
        optional = {}
        for column, default in OPTIONAL.items():
            cell = cells.get(column, "")
            whole = column in ("tenure_months", "months_since_contact")
            optional[column] = default if cell == "" else _number(
                path, row, column, cell, 0.0, math.inf if whole else 1.0, integer=whole,
                decimal_comma=comma)
        if "key_account" in frame.columns:
            flag = cells["key_account"].lower()
            if flag not in YES | NO:
                raise BookError(path, row, "key_account", f"{cells['key_account']!r}: expected "
                                                          "yes/no (also true/false, 1/0, x/empty)")
            optional["key_account"] = flag in YES
        rows.append({"account_id": account, "annual_volume": volume, **needs,
                     "adversarial": stance == "adversarial", "current_supplier": supplier,
                     "salesperson_id": person, **optional,
                     **{c: cells[c] for c in extra}})
    table = pd.DataFrame(rows)
    return table.astype({"tenure_months": np.int64, "months_since_contact": np.int64})


def _needs(path: Path, row: int, cells: pd.Series, has_profile: bool,
           weights: list[str], comma: bool = False) -> dict[str, float]:
    """The row's ``need_<department>`` weights: from its profile, else its weight columns."""
    profile = cells["needs_profile"] if has_profile else ""
    if profile != "":
        if profile not in NEEDS_PROFILES:
            raise BookError(path, row, "needs_profile",
                            f"unknown profile {profile!r}: expected one of {list(NEEDS_PROFILES)}")
        return {f"need_{d}": NEEDS_PROFILES[profile].get(d, 0.0) for d in DEPARTMENTS}
    if not weights:
        raise BookError(path, row, "needs_profile", "empty, and no need_<department> columns")
    needs = {c: 0.0 for c in NEED_COLUMNS}
    for column in weights:
        if cells[column] != "":
            needs[column] = _number(path, row, column, cells[column], 0.0, 1.0,
                                    decimal_comma=comma)
    total = sum(needs.values())
    if abs(total - 1.0) > NEEDS_TOLERANCE:
        raise BookError(path, row, ", ".join(weights),
                        f"needs sum to {total:.4g}: expected 1 (± {NEEDS_TOLERANCE})")
    return {c: w / total for c, w in needs.items()}


# ---------------------------------------------------------------- suppliers


def read_suppliers(path: Path, notes: list[str] | None = None) -> list[SupplierRecord]:
    """The suppliers of a YAML (``suppliers:`` list) or CSV file, checked (see module doc)."""
    if path.suffix.lower() == ".csv":
        frame, comma = _read_csv(path, ("id", "strategy", "price", "salespeople"), notes)
        numeric = ["price", *(c for c in frame.columns if c.startswith("capability_"))]
        if comma:
            frame[numeric] = frame[numeric].apply(lambda col: col.str.replace(",", "."))
        # salespeople: "a;b" in a comma file; "a|b", "a b" or "a, b" in a semicolon file
        staff = r"\s*\|\s*|\s+|,(?!\d)" if frame.attrs["sep"] == ";" else r"\s*;\s*"
        entries = []
        for row, cells in frame.iterrows():
            entry: dict[str, Any] = {k: cells[k] for k in SUPPLIER_KEYS}
            entry["capability"] = {c.removeprefix("capability_"): cells[c] for c in frame.columns
                                   if c.startswith("capability_") and cells[c] != ""}
            entry["salespeople"] = [p for p in re.split(staff, cells["salespeople"]) if p.strip()]
            entries.append((row, entry))
    else:
        entries = list(enumerate(_yaml_entries(path), start=1))
    records: list[SupplierRecord] = []
    people: set[str] = set()
    for row, entry in entries:
        record = _supplier(path, row, entry, people)
        if record.id in {r.id for r in records}:
            raise BookError(path, row, "id", f"duplicate supplier id {record.id!r}")
        records.append(record)
    return records


def _yaml_entries(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BookError(path, None, None, "no such file")
    text, _ = _decode(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BookError(path, None, None, f"not a readable YAML file: {err}") from None
    entries = data.get("suppliers") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise BookError(path, None, "suppliers", "expected a non-empty list under 'suppliers:'")
    for row, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise BookError(path, row, None, "expected a mapping with keys "
                                             f"{list(SUPPLIER_KEYS)} and capability")
    return entries


def _supplier(path: Path, row: int, entry: dict[str, Any], people: set[str]) -> SupplierRecord:
    """One supplier entry checked; ``people`` collects salesperson ids (unique across firms)."""
    for key in SUPPLIER_KEYS:
        if key not in entry or entry[key] in (None, ""):
            raise BookError(path, row, key, f"missing {key!r}")
    sid = str(entry["id"]).strip()
    strategy = str(entry["strategy"]).strip()
    if strategy not in STRATEGIES:
        raise BookError(path, row, "strategy", f"{strategy!r}: expected one of {list(STRATEGIES)}")
    price = _number(path, row, "price", entry["price"], positive=True)
    capability = entry.get("capability") or {}
    if not isinstance(capability, dict):
        raise BookError(path, row, "capability", "expected a mapping department: value")
    checked = {}
    for dept, value in capability.items():
        if dept not in DEPARTMENTS:
            raise BookError(path, row, f"capability.{dept}",
                            f"unknown department: expected {list(DEPARTMENTS)}")
        checked[dept] = _number(path, row, f"capability.{dept}", value, 0.0, 1.0)
    staff = entry["salespeople"]
    if not isinstance(staff, list) or not staff:
        raise BookError(path, row, "salespeople", "expected a non-empty list of salesperson ids")
    sales = []
    for item in staff:
        pid, skill = (item.get("id"), item.get("skill")) if isinstance(item, dict) else (item,
                                                                                         None)
        if isinstance(item, str) and ":" in item:
            pid, skill = item.split(":", 1)
        pid = str(pid).strip() if pid is not None else ""
        if pid == "":
            raise BookError(path, row, "salespeople", "a salesperson without an id")
        if pid in people:
            raise BookError(path, row, "salespeople", f"duplicate salesperson id {pid!r}")
        people.add(pid)
        value = None if skill is None else _number(path, row, f"salespeople.{pid}.skill", skill,
                                                   0.0, 1.0)
        sales.append(Salesperson(pid, value))
    return SupplierRecord(sid, strategy, price, checked, tuple(sales))
