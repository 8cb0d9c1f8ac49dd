"""A hand-written CRM export for the what-if tests (issue 17), as a strategy team has it.

60 accounts of a distributor and two competitors; our five reps, one of whom
(Jürgen) holds about 40% of our revenue; account names with umlauts, a
``key_account`` flag and a ``region`` column the model does not use. Written
as Excel writes it in Germany: semicolon-separated, decimal commas,
Windows-1252.
"""

from __future__ import annotations

from pathlib import Path

REPS = ("jürgen", "anna", "bruno", "chen", "dana")
NAMES = ("Müller", "Schäfer", "Bäckerei Groß", "Öko-Hof", "Weiß & Söhne", "Straßenbau Nord",
         "Löwen-Apotheke", "Käserei Süd", "Fahrräder Jäger", "Zahnärzte Köln")
SUPPLIERS_YAML = """\
suppliers:
  - id: wir
    strategy: {strategy}
    price: 1.0
    capability: {{product: 0.8, service: 0.6, logistics: 0.65}}
    salespeople: [jürgen, anna, bruno, chen, dana]
  - id: rivale
    strategy: company_wide
    price: 1.05
    salespeople: [r1, r2, r3]
  - id: billig
    strategy: lone_seller
    price: 0.92
    salespeople: [b1, b2]
"""
HEADER = ("account_id;name;annual_volume;needs_profile;stance;current_supplier;salesperson_id;"
          "trust;share_of_wallet;tenure_months;key_account;region")


def rows() -> list[str]:
    """The 60 accounts: 40 ours (Jürgen's 6 are the largest), 12 rivale's, 8 billig's."""
    out = []
    for k in range(60):
        if k < 40:
            supplier, rep = "wir", REPS[0] if k < 6 else REPS[1 + k % 4]
            volume = 420.0 + 10 * k if k < 6 else 60.0 + 7.5 * (k % 13)
        elif k < 52:
            supplier, rep, volume = "rivale", f"r{1 + k % 3}", 90.0 + 5 * (k % 7)
        else:
            supplier, rep, volume = "billig", "", 70.0 + 4 * (k % 5)
        name = f"{NAMES[k % len(NAMES)]} {k + 1}"
        profile = ("broad", "balanced", "narrow", "service_heavy")[k % 4]
        stance = "adversarial" if k % 5 == 3 else "partnership"
        trust = f"{0.45 + 0.01 * (k % 20):.2f}".replace(".", ",")
        wallet = f"{0.55 + 0.01 * (k % 30):.2f}".replace(".", ",")
        key = "ja" if k < 6 or k % 9 == 0 else "nein"
        region = ("Nord", "Süd", "West", "Ost")[k % 4]
        out.append(f"K{k + 1:03d};{name};{str(volume).replace('.', ',')};{profile};{stance};"
                   f"{supplier};{rep};{trust};{wallet};{24 + k % 36};{key};{region}")
    return out


def write_book(folder: Path, strategy: str = "lone_seller", text: str | None = None,
               encoding: str = "cp1252") -> Path:
    """Write ``accounts.csv`` (``text`` or the 60 rows) and ``suppliers.yaml``; the CSV's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "accounts.csv"
    content = text if text is not None else "\r\n".join([HEADER, *rows()]) + "\r\n"
    path.write_bytes(content.encode(encoding))
    (folder / "suppliers.yaml").write_text(SUPPLIERS_YAML.format(strategy=strategy),
                                           encoding="utf-8")
    return path
