"""A PDF written to an open file page by page, for documents too big to hold in memory.

pikepdf (qpdf) and pypdf build the whole document in memory before they write it; a site's
mail batch of a thousand letters is thousands of pages. Here each page, and every object it
uses, is written as soon as it is added and its source can be closed: only each object's file
offset and each page's object number stay in memory until the cross-reference table is written
at the end. The output is deterministic (same pages in, same bytes out), so a retried batch
writes the same file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO

import pikepdf

__all__ = ["PdfStreamWriter"]

#: Page attributes a page may inherit from its page tree (ISO 32000-1, 7.7.3.4): copied onto
#: the page, since the page leaves its tree.
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
CATALOG, PAGES = 1, 2  # object numbers reserved for the catalog and the page tree


class PdfStreamWriter:
    """Appends pages from other PDFs to a PDF being written to `out`; `close()` ends it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0
        self.digest = hashlib.md5(usedforsecurity=False)  # the file /ID: a hash of the content
        self.offsets: list[int] = [0, 0]  # offsets of objects 1.. (catalog, pages written last)
        self.kids: list[int] = []  # the header is written with the first page: until then,
        # nothing is (an abandoned writer leaves its file empty)

    @property
    def pages(self) -> int:
        return len(self.kids)

    def add_pages(self, pages: Iterable[pikepdf.Page]) -> None:
        """Write these pages (all from one source PDF) and what they use; the source may be
        closed afterwards. Objects the pages share are written once."""
        numbers: dict[tuple[int, int], int] = {}
        objects = [page.obj for page in pages]
        for obj in objects:  # resolved first: a page may be written early, as a link's target
            for key in INHERITED:
                if key not in obj and (value := _inherited(obj, key)) is not None:
                    obj[key] = value
        self._start()
        for obj in objects:
            self.kids.append(self._copy(obj, numbers))

    def close(self) -> None:
        """Write the page tree, the catalog, the cross-reference table and the trailer."""
        self._start()
        kids = b" ".join(b"%d 0 R" % n for n in self.kids)
        self._object(PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (self.pages, kids))
        self._object(CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES)
        file_id = self.digest.hexdigest().encode()
        xref = self.position
        rows = [b"%010d 00000 n \n" % offset for offset in self.offsets]
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(rows) + 1) + b"".join(rows))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R /ID [ <%s> <%s> ] >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(rows) + 1, CATALOG, file_id, file_id, xref)
        )
        self.out.flush()

    # ---- internals ----------------------------------------------------------------------------

    def _start(self) -> None:
        if not self.position:
            self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.position += len(data)

    def _object(self, number: int, body: bytes) -> None:
        self.offsets[number - 1] = self.position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _copy(self, obj: pikepdf.Object, numbers: dict[tuple[int, int], int]) -> int:
        """Write an indirect object and everything it refers to; its number in the output."""
        number = numbers.get(obj.objgen)
        if number is not None:
            return number
        pending = [obj]
        number = numbers[obj.objgen] = self._reserve()
        while pending:  # iterative: long chains of references never hit the recursion limit
            current = pending.pop()
            refs: list[pikepdf.Object] = []
            body = self._body(current, numbers, refs)
            self._object(numbers[current.objgen], body)
            pending.extend(refs)
        return number

    def _reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets)

    def _ref(
        self, obj: pikepdf.Object, numbers: dict[tuple[int, int], int], refs: list[pikepdf.Object]
    ) -> bytes:
        if obj._type_code == pikepdf.ObjectType.null:
            return b"null"  # a reference to a missing object reads as null (7.3.10)
        number = numbers.get(obj.objgen)
        if number is None:
            number = numbers[obj.objgen] = self._reserve()
            refs.append(obj)
        return b"%d 0 R" % number

    def _body(
        self, obj: pikepdf.Object, numbers: dict[tuple[int, int], int], refs: list[pikepdf.Object]
    ) -> bytes:
        """An indirect object's body, its references renumbered (new ones queued in refs)."""
        if obj._type_code == pikepdf.ObjectType.stream:
            raw = obj.read_raw_bytes()
            head = self._dict(obj.stream_dict, numbers, refs, skip=("/Length",))
            return b"%s\nstream\n%s\nendstream" % (head[:-2] + b"/Length %d >>" % len(raw), raw)
        return self._value(obj, numbers, refs, top=True)

    def _dict(
        self,
        obj: pikepdf.Object,
        numbers: dict[tuple[int, int], int],
        refs: list[pikepdf.Object],
        skip: tuple[str, ...] = (),
    ) -> bytes:
        page = obj.get("/Type") == pikepdf.Name.Page
        parts = [b"<< "]
        for key, value in obj.items():
            if key in skip:
                continue
            parts.append(pikepdf.Name(key).unparse() + b" ")
            if page and key == "/Parent":
                parts.append(b"%d 0 R " % PAGES)  # every page hangs from the one page tree
                continue
            parts.append(self._value(value, numbers, refs) + b" ")
        parts.append(b">>")
        return b"".join(parts)

    def _value(
        self,
        value: object,
        numbers: dict[tuple[int, int], int],
        refs: list[pikepdf.Object],
        top: bool = False,
    ) -> bytes:
        if isinstance(value, pikepdf.Object):
            if value.is_indirect and not top:
                return self._ref(value, numbers, refs)
            kind = value._type_code
            if kind == pikepdf.ObjectType.dictionary:
                return self._dict(value, numbers, refs)
            if kind == pikepdf.ObjectType.array:
                return b"[ " + b" ".join(self._value(v, numbers, refs) for v in value) + b" ]"
            return bytes(value.unparse())  # name, string, and any scalar left as an Object
        if value is None:
            return b"null"
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, int):
            return b"%d" % value
        if isinstance(value, Decimal | float):
            return format(Decimal(value), "f").encode()
        raise TypeError(f"unexpected PDF value of type {type(value).__name__}")


def _inherited(page: pikepdf.Object, key: str) -> pikepdf.Object | None:
    """An attribute the page takes from an ancestor in its page tree (None if none has it)."""
    node = page.get("/Parent")
    seen = 0
    while isinstance(node, pikepdf.Object) and seen < 64:  # a cycle guard
        if key in node:
            return node.get(key)
        node = node.get("/Parent")
        seen += 1
    return None
