"""The book's sales force by name: who holds which revenue, and who a scenario's leaver is.

A strategy team asks "what if *Anna* leaves?", not "what if salesperson 0
leaves?". :func:`sales_force` tabulates each of our salespeople's accounts
and revenue as the book gives them; :func:`resolve_salesperson` turns
``top_revenue``, ``most_accounts``, a salesperson id or an index into the
index of that person in their firm's sales force, checked against the book.
"""

from __future__ import annotations

import pandas as pd

from sim.whatif.book import Book

#: Leaver rules of ``leaver=``: the salesperson with most of our revenue, or most accounts.
RULES: tuple[str, ...] = ("top_revenue", "most_accounts")


class LeaverError(ValueError):
    """A salesperson id, index or rule that the book's sales force does not have."""


def our_annual_revenue(book: Book, haggle_discount: float) -> pd.Series:
    """Per account (index ``account_id``), our annual revenue as the book gives it.

    ``annual_volume × share_of_wallet × our price paid`` for our accounts
    (list price, less ``haggle_discount`` for adversarial buyers, F8), 0 for
    accounts whose current supplier is another firm.
    """
    a = book.accounts
    price = book.suppliers[0].price * (1.0 - haggle_discount * a["adversarial"].to_numpy())
    ours = (a["current_supplier"] == book.our_supplier).to_numpy()
    revenue = a["annual_volume"].to_numpy() * a["share_of_wallet"].to_numpy() * price * ours
    return pd.Series(revenue, index=a["account_id"].to_numpy(), name="our_annual_revenue")


def sales_force(book: Book, haggle_discount: float, supplier: int = 0) -> pd.DataFrame:
    """A supplier's salespeople in book order: id, accounts, annual revenue and their shares.

    Shares are of the supplier's accounts and revenue in the book (accounts
    without a named salesperson count in the totals, for nobody).
    """
    record = book.suppliers[supplier]
    a = book.accounts
    mine = a["current_supplier"] == record.id
    revenue = our_annual_revenue(book, haggle_discount).to_numpy() if supplier == 0 else (
        a["annual_volume"] * a["share_of_wallet"] * record.price).to_numpy() * mine.to_numpy()
    rows = []
    for index, person in enumerate(record.salespeople):
        held = (mine & (a["salesperson_id"] == person.id)).to_numpy()
        rows.append({"index": index, "salesperson_id": person.id, "accounts": int(held.sum()),
                     "annual_revenue": float(revenue[held].sum())})
    table = pd.DataFrame(rows)
    table["share_of_accounts"] = table["accounts"] / max(int(mine.sum()), 1)
    table["share_of_revenue"] = table["annual_revenue"] / max(float(revenue.sum()), 1e-12)
    return table


def resolve_salesperson(book: Book, which: str | int, haggle_discount: float,
                        supplier: int = 0) -> int:
    """Index in supplier ``supplier``'s sales force of ``which``.

    ``which`` is a rule of :data:`RULES`, a salesperson id of that supplier in
    the book, or an index (an int, or digits) within its sales force.
    """
    table = sales_force(book, haggle_discount, supplier)
    ids = table["salesperson_id"].tolist()
    firm = book.suppliers[supplier].id
    text = str(which).strip()
    if text == "top_revenue":
        return int(table["annual_revenue"].idxmax())
    if text == "most_accounts":
        return int(table["accounts"].idxmax())
    if text in ids:
        return ids.index(text)
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < len(ids):
            return index
        raise LeaverError(f"salesperson index {index}: {firm} has {len(ids)} salespeople "
                          f"(indices 0–{len(ids) - 1}: {ids})")
    raise LeaverError(f"unknown salesperson {text!r} of {firm}: expected one of {ids} or "
                      f"{list(RULES)}")
