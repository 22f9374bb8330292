"""Reading a user's CSV file: the non-empty rows with their line numbers, one error line if not.

Readers of detection and truth files share this, so every CSV input fails the same way.
"""

from __future__ import annotations

import csv
import os

from common.errors import InputError


def read_csv_rows(path: str | os.PathLike, what: str) -> list[tuple[int, list[str]]]:
    """The non-empty rows of the CSV at ``path`` as ``(line number, cells)``, lines counted from 1.

    ``what`` names the file's kind in messages (``"detections"``, ``"truth"``).

    Raises:
        InputError: a missing file, a folder, or a file that is not UTF-8 CSV.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [(number, row) for number, row in enumerate(csv.reader(handle), start=1)
                    if row]
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a {what} file") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a {what} CSV ({error})") from None
