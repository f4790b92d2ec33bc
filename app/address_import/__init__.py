"""Recipients import: uploads and pastes to a checked, de-duplicated list plus a report of the rest.

Plain Python, no Flask and no database: the web pages call `import_upload` or `import_paste`, show the
`ImportResult`, and save its recipients in one transaction.
"""

from app.recipients.errors import RecipientFileError
from app.recipients.export import invalid_rows_csv, safe_cell
from app.recipients.importer import import_paste, import_upload
from app.recipients.limits import UploadLimits
from app.recipients.result import (
    ColumnMap,
    DuplicateRow,
    ImportResult,
    InvalidRow,
    MergeField,
    Recipient,
    SuppressedRow,
)

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
