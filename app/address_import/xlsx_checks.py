"""Checks of an .xlsx made before openpyxl parses it: an .xlsx is a zip, and a zip can inflate.

A 2 MB zip inflating to 2 GB of sheet XML, or a 0.5 MB one holding a 500 MB shared string, each held
a worker 30 s and gigabytes before a 500. `zipfile` never returns more of an entry than the size its
central directory declares (the CRC check fails past it), so checking the declared sizes bounds all
that parsing can inflate. A sheet's declared dimension sets how wide openpyxl pads its rows, so a
1.6 KB file declaring `A1:XFD1048576` is refused before a row is read.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Set

from openpyxl.packaging.manifest import Manifest
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_CORE,
    ARC_CUSTOM,
    ARC_ROOT_RELS,
    ARC_STYLE,
    ARC_THEME,
    ARC_WORKBOOK,
    SHARED_STRINGS,
    XLSM,
    XLSX,
    XLTM,
    XLTX,
)
from openpyxl.xml.functions import fromstring

from app.address_import.limits import MB, UploadLimits
from app.address_import.types import RecipientFileError

#: A workbook has a dozen parts; with images, comments and many sheets a few hundred.
MAX_PARTS = 1_000
#: Real sheets compress 5 to 20 times (50,000 rows of five columns saved by openpyxl: 10); bombs 1,000.
MAX_COMPRESSION_RATIO = 100
#: Parts smaller than this may compress as well as they like: they cannot inflate to much.
RATIO_CHECKED_FROM = MB
#: The parts openpyxl parses whole into a tree, by name; the workbook part named in [Content_Types].xml
#: and every relationships (.rels) part are too. The rest are streamed (the sheets, the shared strings
#: under their own limit), never read, or refused (chart sheets). 4.4 MB of workbook XML took 1.5 s and
#: 64 MB to load.
READ_WHOLE = frozenset(
    {ARC_CONTENT_TYPES, ARC_ROOT_RELS, ARC_WORKBOOK, ARC_STYLE, ARC_CORE, ARC_CUSTOM, ARC_THEME}
)
WORKBOOK_TYPES = frozenset({XLSX, XLSM, XLTX, XLTM})
MAX_READ_WHOLE = 4 * MB
END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
END_RECORD_SIZE = 22
MAX_ZIP_COMMENT = 0xFFFF


def check_archive(data: bytes, filename: str, limits: UploadLimits) -> None:
    """Refuse a zip whose parts, inflated or parsed, would not stay within `limits`.

    Raises `zipfile.BadZipFile` for a file that is no zip at all, and openpyxl's own errors for a
    malformed [Content_Types].xml (the caller words both).
    """
    declared = declared_part_count(data)
    if declared is not None and declared > MAX_PARTS:
        raise _too_many_parts(filename, declared)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _check_sizes(archive.infolist(), filename, limits)
        manifest = _check_parts_read_whole(archive, filename)
        if manifest is None:  # openpyxl refuses the file before reading anything else
            return
        for strings in _parts_of_types(archive, manifest, {SHARED_STRINGS}):
            if strings.file_size > limits.max_shared_strings_bytes:
                raise RecipientFileError(
                    f"The text of {filename} unpacks to {_mb(strings.file_size)} MB, more than the "
                    f"{_mb(limits.max_shared_strings_bytes)} MB an import reads. Delete the columns and "
                    "sheets your emails do not use, or save the list as CSV UTF-8, and upload that."
                )
        workbooks = [part.filename for part in _parts_of_types(archive, manifest, WORKBOOK_TYPES)]
        for workbook in workbooks or [ARC_WORKBOOK]:  # openpyxl's own fallback
            _refuse_chart_sheets(archive, workbook, filename)


def _check_sizes(parts: list[zipfile.ZipInfo], filename: str, limits: UploadLimits) -> None:
    if len(parts) > MAX_PARTS:
        raise _too_many_parts(filename, len(parts))
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_unpacked_bytes:
        raise RecipientFileError(
            f"{filename} unpacks to {_mb(unpacked)} MB, more than the {_mb(limits.max_unpacked_bytes)} MB "
            "an import reads. Save only the list (one sheet, no images) as .xlsx, or as CSV UTF-8, and "
            "upload that."
        )
    for part in parts:
        if (
            part.file_size >= RATIO_CHECKED_FROM
            and part.file_size > MAX_COMPRESSION_RATIO * part.compress_size
        ):
            raise RecipientFileError(
                f"{filename} is compressed far more than a spreadsheet can be (its part {part.filename} "
                f"inflates {part.file_size // max(part.compress_size, 1):,} times), so it is not read. Save "
                "the list again from your spreadsheet program, as .xlsx or as CSV UTF-8, and upload that."
            )


def _check_parts_read_whole(archive: zipfile.ZipFile, filename: str) -> Manifest | None:
    """Refuse a workbook whose parts parsed whole pass `MAX_READ_WHOLE`; return its manifest, if any.

    Those known by name are summed before the manifest, one of them, is parsed to find the workbook part.
    """
    parts = archive.infolist()
    read_whole = sum(
        part.file_size for part in parts if part.filename in READ_WHOLE or part.filename.endswith(".rels")
    )
    if read_whole > MAX_READ_WHOLE:
        raise _described_at_length(filename, read_whole)
    manifest = _manifest(archive)
    if manifest is not None:
        workbooks = _parts_of_types(archive, manifest, WORKBOOK_TYPES)
        read_whole += sum(part.file_size for part in workbooks if part.filename not in READ_WHOLE)
        if read_whole > MAX_READ_WHOLE:
            raise _described_at_length(filename, read_whole)
    return manifest


def declared_part_count(data: bytes) -> int | None:
    """The number of entries the zip's end record declares, read before `zipfile` builds an object for
    each of them (a 20 MB zip can list 400,000). None when there is no end record.
    """
    end = data.rfind(END_OF_CENTRAL_DIRECTORY, max(0, len(data) - END_RECORD_SIZE - MAX_ZIP_COMMENT))
    if end < 0 or end + END_RECORD_SIZE > len(data):
        return None
    return struct.unpack_from("<H", data, end + 10)[0]


def check_dimension(sheet: ReadOnlyWorksheet, filename: str, limits: UploadLimits) -> None:
    """Refuse a sheet that declares more rows or columns than an import reads."""
    rows, columns = sheet.max_row or 0, sheet.max_column or 0
    if rows > limits.max_file_rows or columns > limits.max_columns:
        raise RecipientFileError(
            f"The first sheet of {filename} declares {rows:,} rows and {columns:,} columns "
            f"({sheet.calculate_dimension()}); an import reads at most {limits.max_file_rows:,} rows and "
            f"{limits.max_columns:,} columns. Delete the empty rows and columns after your list (or copy the "
            "list into a new workbook), save and upload again."
        )


def _manifest(archive: zipfile.ZipFile) -> Manifest | None:
    try:
        # types-openpyxl's tree protocol does not accept ElementTree's own Element.
        return Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))  # type: ignore[arg-type]
    except KeyError:
        return None


def _parts_of_types(archive: zipfile.ZipFile, manifest: Manifest, types: Set[str]) -> list[zipfile.ZipInfo]:
    """The parts [Content_Types].xml gives one of `types`, as openpyxl finds them."""
    names = {override.PartName.lstrip("/") for override in manifest.Override if override.ContentType in types}
    return [part for part in archive.infolist() if part.filename in names]


def _refuse_chart_sheets(archive: zipfile.ZipFile, workbook: str, filename: str) -> None:
    """openpyxl parses a chart sheet whole, whatever its part is called: none is read here."""
    rels = get_rels_path(workbook)
    if rels in archive.namelist() and any("chartsheet" in rel.Type for rel in get_dependents(archive, rels)):
        raise RecipientFileError(
            f"{filename} has a chart sheet, which an import does not read. Copy the list into a new workbook "
            "(or save it as CSV UTF-8) and upload that."
        )


def _described_at_length(filename: str, size: int) -> RecipientFileError:
    return RecipientFileError(
        f"The parts of {filename} that describe the workbook (its styles, names and relationships) unpack "
        f"to {size / MB:,.1f} MB, more than the {MAX_READ_WHOLE / MB:,.0f} MB an import reads. Copy the list "
        "into a new workbook (or save it as CSV UTF-8) and upload that."
    )


def _too_many_parts(filename: str, count: int) -> RecipientFileError:
    return RecipientFileError(
        f"{filename} holds {count:,} parts, more than the {MAX_PARTS:,} a workbook has, so it is not read. "
        "Save the list as .xlsx from your spreadsheet program, or as CSV UTF-8, and upload that."
    )


def _mb(size: int) -> str:
    return f"{size / MB:,.0f}"
