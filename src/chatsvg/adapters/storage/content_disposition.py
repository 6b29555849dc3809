"""The one `Content-Disposition` value of a stored drawing, whoever serves it: the API's own
/api/files route (local disk, or S3 behind the API) and S3's presigned response overrides."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

DEFAULT_FILENAME = "chatsvg.svg"


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """An RFC 6266 Content-Disposition value: a plain ASCII `filename` every client understands,
    plus an RFC 8187 (formerly RFC 5987) `filename*` carrying the exact UTF-8 name when it is not
    plain ASCII. Clients that know `filename*` (every current browser) use it."""
    disposition = "attachment" if attachment else "inline"
    # Control and format characters would allow header injection or a spoofed extension (a
    # right-to-left override); path separators would let a client save outside its folder.
    name = unicodedata.normalize("NFC", filename)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip().strip(".") or DEFAULT_FILENAME
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'["%;]', "_", ascii_name)
    # What dropping the non-ASCII characters left at the edges or doubled ("日本-1a2b.svg").
    ascii_name = re.sub(r"-{2,}", "-", ascii_name).strip(" -")
    stem, dot, extension = ascii_name.rpartition(".")
    if not re.search(r"[A-Za-z0-9]", stem if dot else extension):
        ascii_name = DEFAULT_FILENAME  # nothing readable survived, e.g. an all-CJK name
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
