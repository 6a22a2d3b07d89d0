"""CSV files a spreadsheet can open safely (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (a tab or a
carriage return first is skipped by some, so they count too): ``=HYPERLINK(...)`` in a display
name anyone chooses would run on the operator's machine. Every CSV the service writes (the
admin's exports: :class:`SafeCSV`) prefixes such a cell with a single quote, whatever follows,
which spreadsheets read as "text". django-import-export's own escaping
(``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT``) removed one leading ``=`` only, and from JSON too.

A cell that starts with a quote gets one more, and a CSV import takes one leading quote off, so
an export imported again is the data it was (a name starting with ``-`` stays that name).
"""

import tablib
from import_export.formats import base_formats

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def cell_for_spreadsheet(value):
    """A cell as written to a CSV file: never a formula."""
    if value is None:
        return value
    text = str(value)
    if text.startswith((*FORMULA_STARTS, QUOTE)):
        return QUOTE + text
    return value


def cell_from_spreadsheet(value):
    """A CSV cell as read: the quote :func:`cell_for_spreadsheet` added taken off."""
    if isinstance(value, str) and value.startswith(QUOTE):
        return value[1:]
    return value


class SafeCSV(base_formats.CSV):
    """django-import-export's CSV format, written with :func:`cell_for_spreadsheet` and read with
    :func:`cell_from_spreadsheet`."""

    def export_data(self, dataset, **kwargs):
        safe = tablib.Dataset(
            *[[cell_for_spreadsheet(cell) for cell in row] for row in dataset],
            headers=[cell_for_spreadsheet(header) for header in dataset.headers or []] or None,
        )
        return safe.export(self.get_title(), **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        dataset = super().create_dataset(in_stream, **kwargs)
        return tablib.Dataset(
            *[[cell_from_spreadsheet(cell) for cell in row] for row in dataset], headers=dataset.headers
        )
