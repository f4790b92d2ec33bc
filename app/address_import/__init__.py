"""Address-list import: uploads and pastes to a checked, de-duplicated list plus a report of the rest.

Plain Python, no Flask and no database: the web pages call `import_upload` or `import_paste`, show the
`ImportResult`, and save its recipients in one transaction.
"""

from app.address_import.export import invalid_rows_csv, safe_cell
from app.address_import.importer import import_paste, import_upload
from app.address_import.limits import UploadLimits
from app.address_import.types import (
    ColumnMap,
    DuplicateRow,
    ImportResult,
    InvalidRow,
    MergeField,
    RecipientFileError,
    SuppressedRow,
)
from app.recipient import Recipient

__all__ = [
    "ColumnMap",
    "DuplicateRow",
    "ImportResult",
    "InvalidRow",
    "MergeField",
    "Recipient",
    "RecipientFileError",
    "SuppressedRow",
    "UploadLimits",
    "import_paste",
    "import_upload",
    "invalid_rows_csv",
    "safe_cell",
]
