"""Finding the address and name columns by their headers, or taking the ones the user chose."""

from __future__ import annotations

import re
import unicodedata

from app.address_import.types import ColumnMap, RecipientFileError

# Headers compared with case, accents, spaces and punctuation removed: "E-mail", "Email Address", "EMAIL".
EMAIL_HEADERS = frozenset(
    {"email", "emailaddress", "mail", "mailaddress", "emailadresse", "adresseemail", "courriel", "correo"}
)
NAME_HEADERS = frozenset({"name", "fullname", "displayname", "recipientname", "contactname", "nom", "nombre"})


def simplify(header: str) -> str:
    """ "E-Mail Adresse" -> "emailadresse": the letters and digits of a header, lower case, no accents."""
    ascii_only = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_only.lower())


def locate_columns(headers: list[str], chosen: ColumnMap | None = None) -> tuple[int, int | None]:
    """Positions of the email column and of the name column (None: there is none).

    Without a choice, the first header known to mean "email" wins, then the first that contains
    "email" ("Work email"); the name column is optional. A header that occurs twice means its first column.
    """
    if chosen is not None:
        email = _position(headers, chosen.email)
        name = None if chosen.name is None else _position(headers, chosen.name)
        if name == email:
            raise RecipientFileError("The name column cannot also be the email column.")
        return email, name
    simple = [simplify(header) for header in headers]
    found = next((pos for pos, header in enumerate(simple) if header in EMAIL_HEADERS), None)
    if found is None:
        found = next((pos for pos, header in enumerate(simple) if "email" in header), None)
    if found is None:
        raise RecipientFileError(_no_email_column_message(headers))
    name = next((pos for pos, header in enumerate(simple) if header in NAME_HEADERS and pos != found), None)
    return found, name


def _position(headers: list[str], header: str) -> int:
    try:
        return headers.index(header)
    except ValueError:
        raise RecipientFileError(
            f"There is no column headed '{header}'. The columns are: {_listing(headers)}."
        ) from None


def _no_email_column_message(headers: list[str]) -> str:
    if any("@" in header for header in headers):
        return (
            "The first row looks like a recipient, not a header. Add a header row naming the columns "
            "(for example: email, name) and upload the file again."
        )
    return (
        f"No column is headed 'email'. The columns are: {_listing(headers)}. "
        "Choose the column that holds the addresses, or rename its header to 'email'."
    )


def _listing(headers: list[str]) -> str:
    return ", ".join(f"'{header}'" for header in headers)
