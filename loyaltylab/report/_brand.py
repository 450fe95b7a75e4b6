"""Branding of the deliverables: the client's name, logo and accent colour.

A :class:`Brand` is given to :class:`~loyaltylab.report.Report` (``brand=``) or read from a
small TOML file (``loyaltylab report --brand brand.toml``)::

    client = "Example Retail Ltd"
    logo = "logo.png"          # PNG or JPEG, relative to the TOML file
    accent = "#7A1F5C"         # hex colour of headings, rules and chart accents
    currency = "EUR"           # optional: money columns of the workbook show it

The HTML report, the deck and the workbook all use it.
"""

from __future__ import annotations

import contextvars
import html
import re
import struct
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Mapping

from loyaltylab.exceptions import SourceError

__all__ = ["Brand", "DEFAULT_ACCENT", "load_brand", "as_brand", "deliverable_options"]

DEFAULT_ACCENT = "#0072B2"
"""The house accent (Okabe-Ito blue) used when no brand is given."""

_KEYS = ("client", "logo", "accent", "currency")
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_MAX_LOGO_BYTES = 2_000_000
_MAX_LOGO_PIXELS = 4000
_MIN_LOGO_PIXELS = 16
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean_text(value: Any, *, what: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceError(f"{where}: {what} must be text, e.g. {what} = \"Example Ltd\"; "
                          f"found a {type(value).__name__}")
    text = _CONTROL.sub(" ", value).strip()
    if len(text) > 120:
        raise SourceError(f"{where}: {what} is {len(text)} characters long; keep it under "
                          f"120 (it is printed on the title slide)")
    return text or None


def _accent(value: Any, *, where: str) -> str:
    if value is None:
        return DEFAULT_ACCENT
    m = _HEX.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        shown = _CONTROL.sub("?", repr(value))[:40]
        raise SourceError(f"{where}: accent {shown} is not a hex colour; write it as "
                          f"\"#RRGGBB\", e.g. accent = \"#0072B2\"")
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


def _image_size(data: bytes) -> tuple[str, int, int] | None:
    """(kind, width, height) of a PNG or JPEG from its header, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return "png", w, h
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2:i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return "jpeg", w, h
            i += 2 + length
        return None
    return None


def _logo(value: Any, *, where: str, base: Path | None) -> tuple[Path | None, bytes | None]:
    if value is None:
        return None, None
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise SourceError(f"{where}: logo must be the path of a PNG or JPEG file, e.g. "
                          f"logo = \"logo.png\"")
    path = Path(str(value).strip()).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise SourceError(f"{where}: logo file {path.name!r} not found (looked in "
                          f"{path.parent.name or '.'}); give its path relative to the brand "
                          f"file or an absolute path")
    size = path.stat().st_size
    if size > _MAX_LOGO_BYTES:
        raise SourceError(f"{where}: logo {path.name!r} is {size / 1e6:.1f} MB; use an image "
                          f"under {_MAX_LOGO_BYTES / 1e6:.0f} MB (a logo of a few hundred "
                          f"pixels is enough)")
    data = path.read_bytes()
    info = _image_size(data)
    if info is None:
        raise SourceError(f"{where}: logo {path.name!r} is not a PNG or JPEG image; save it "
                          f"as .png or .jpg")
    _, w, h = info
    if max(w, h) > _MAX_LOGO_PIXELS or min(w, h) < _MIN_LOGO_PIXELS:
        raise SourceError(f"{where}: logo {path.name!r} is {w} x {h} pixels; use an image "
                          f"between {_MIN_LOGO_PIXELS} and {_MAX_LOGO_PIXELS} pixels a side")
    return path, data


@dataclass(frozen=True)
class Brand:
    """The client's name, logo and accent colour for the report, deck and workbook.

    Parameters
    ----------
    client : str, optional
        The client's name (title slide, report header, workbook README).
    logo : str or Path, optional
        A PNG or JPEG file, at most 2 MB and 4000 pixels a side.
    accent : str
        A hex colour, ``"#RRGGBB"`` (or ``"#RGB"``); default the house blue.
    currency : str, optional
        Currency code or symbol shown in the workbook's money columns (``"EUR"``, ``"€"``).

    Raises
    ------
    loyaltylab.exceptions.SourceError
        A colour that is not hex, a logo that is missing, too large or not PNG/JPEG.

    Examples
    --------
    >>> Brand(client="Example Retail", accent="7a1f5c").accent
    '#7A1F5C'
    >>> Brand(accent="teal")
    Traceback (most recent call last):
    ...
    loyaltylab.exceptions.SourceError: brand: accent 'teal' is not a hex colour; write it \
as "#RRGGBB", e.g. accent = "#0072B2"
    """

    client: str | None = None
    logo: Path | None = None
    accent: str = DEFAULT_ACCENT
    currency: str | None = None
    logo_bytes: bytes | None = field(default=None, repr=False)
    where: str = field(default="brand", repr=False, compare=False)

    def __post_init__(self) -> None:
        where = self.where
        object.__setattr__(self, "client", _clean_text(self.client, what="client",
                                                       where=where))
        object.__setattr__(self, "currency", _clean_text(self.currency, what="currency",
                                                         where=where))
        object.__setattr__(self, "accent", _accent(self.accent, where=where))
        if self.logo is not None and self.logo_bytes is None:
            path, data = _logo(self.logo, where=where, base=None)
            object.__setattr__(self, "logo", path)
            object.__setattr__(self, "logo_bytes", data)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        """The accent as (red, green, blue), 0-255."""
        h = self.accent.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    @property
    def logo_kind(self) -> str | None:
        """``"png"`` or ``"jpeg"``, or None without a logo."""
        info = _image_size(self.logo_bytes) if self.logo_bytes else None
        return info[0] if info else None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "brand",
                     base: str | Path | None = None) -> Brand:
        """A brand from a dict of ``client``, ``logo``, ``accent``, ``currency``."""
        unknown = sorted(set(values) - set(_KEYS))
        if unknown:
            shown = ", ".join(_CONTROL.sub("?", repr(k))[:40] for k in unknown)
            raise SourceError(f"{where}: unknown key(s) {shown}; a brand has "
                              f"{', '.join(_KEYS)}")
        path, data = _logo(values.get("logo"), where=where,
                           base=Path(base) if base is not None else None)
        return cls(client=values.get("client"), logo=path, logo_bytes=data,
                   accent=values.get("accent", DEFAULT_ACCENT),
                   currency=values.get("currency"), where=where)

    def html_style(self) -> str:
        """A style element setting the accent colour (the report's ``--accent``)."""
        return f"<style>:root {{ --accent: {self.accent}; }}</style>"

    def html_header(self) -> str:
        """The header line with the logo (embedded) and the client's name, or ''."""
        import base64

        parts = []
        if self.logo_bytes:
            data = base64.b64encode(self.logo_bytes).decode("ascii")
            alt = html.escape(self.client or "logo")
            parts.append(f'<img class="brand-logo" src="data:image/{self.logo_kind};base64,'
                         f'{data}" alt="{alt}" style="max-height:3rem;max-width:12rem;'
                         f'float:right">')
        if self.client:
            parts.append(f'<p class="brand-client" style="color:var(--accent);'
                         f'font-weight:600;margin:0">Prepared for {html.escape(self.client)}'
                         f"</p>")
        return "".join(parts)


def load_brand(path: str | Path) -> Brand:
    """Read a brand TOML file (keys ``client``, ``logo``, ``accent``, ``currency``).

    Errors name the file and the key: ``brand.toml: accent 'teal' is not a hex colour;
    write it as "#RRGGBB", e.g. accent = "#0072B2"``.

    Parameters
    ----------
    path : str or Path
        The brand TOML file.

    Returns
    -------
    Brand
        The client's name, logo, accent colour and currency as read.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "brand.toml"
    >>> _ = p.write_text('client = "Example Retail"\\naccent = "#7A1F5C"\\n')
    >>> load_brand(p).client
    'Example Retail'
    """
    import tomllib

    path = Path(path)
    where = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{where}: cannot read the brand file ({exc.strerror or exc}); "
                          f"check the path") from None
    try:
        values = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"{where}: not a valid TOML brand file ({exc}); write lines like "
                          f"client = \"Example Ltd\"") from None
    return Brand.from_mapping(values, where=where, base=path.parent)


def as_brand(value: Any) -> Brand | None:
    """None, a :class:`Brand`, a dict or the path of a TOML file -> a Brand or None."""
    if value is None or isinstance(value, Brand):
        return value
    if isinstance(value, Mapping):
        return Brand.from_mapping(value)
    if isinstance(value, (str, Path)):
        return load_brand(value)
    raise TypeError(f"brand must be a Brand, a dict or the path of a brand TOML file, got "
                    f"{type(value).__name__}")




def defaults() -> dict[str, Any]:
    """The brand and deck template set by :func:`deliverable_options` around this call."""
    return _DEFAULTS.get()


@contextmanager
def deliverable_options(*, brand: Any = None,
                        template: str | Path | None = None) -> Iterator[None]:
    """Give every :class:`~loyaltylab.report.Report` made inside the block this brand and
    deck template (unless it is given its own): how ``loyaltylab report --brand FILE
    --template FILE`` reaches the report the pipeline builds.

    Parameters
    ----------
    brand : Brand, dict, str or Path, optional
        The brand (as :func:`load_brand` reads it).
    template : str or Path, optional
        A PowerPoint file whose slide master the deck uses.

    Yields
    ------
    None
        Inside the block, new reports take these options.

    Examples
    --------
    >>> from loyaltylab.report import Report
    >>> with deliverable_options(brand={"client": "Example Retail"}):
    ...     Report("Loyalty report").brand.client
    'Example Retail'
    >>> Report("Loyalty report").brand is None
    True
    """
    if template is not None:
        template = Path(template)
        if not template.is_file():
            raise SourceError(f"deck template {template.name!r} not found; give the path of "
                              f"a .pptx file")
    token = _DEFAULTS.set({"brand": as_brand(brand), "template": template})
    try:
        yield
    finally:
        _DEFAULTS.reset(token)


_DEFAULTS = contextvars.ContextVar("loyaltylab_deliverables",
                                   default=types.MappingProxyType({}))
