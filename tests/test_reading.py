"""Reading corpus files: titles, dates, encodings, HTML, .docx and .pdf (real files written here)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.reading import (
    CorpusFile,
    SourceDocument,
    UnreadableDocument,
    decode_text,
    find_date,
    first_line_title,
    read_document,
    scan_corpus,
)
from tests.conftest import CORPUS

PDF_LINES = ("Balkan Defence Report", "Albania and Kosovo signed a defence pact in Tirana.")


def make_pdf(path: Path, lines: tuple[str, ...] = PDF_LINES) -> Path:
    """Write a real one-page PDF by hand (Helvetica text, correct xref offsets)."""
    ops = ["BT", "/F1 14 Tf", "72 720 Td"]
    for n, line in enumerate(lines):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"{'0 -20 Td ' if n else ''}({escaped}) Tj")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Croatia Joins the Pact", level=1)
    document.add_paragraph("Zagreb, Monday, March 4, 2024")
    document.add_paragraph("Croatia's defence minister signed the declaration in Zagreb.")
    document.save(str(path))
    return path


def read(path: Path, doc_id: str | None = None) -> SourceDocument:
    data = path.read_bytes()
    return read_document(CorpusFile(doc_id or path.name, path, hashlib.sha256(data).hexdigest(), len(data)))


def test_title_is_the_first_non_empty_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("\n\n  # Leaders Meet in Tirana  \nBody text follows here.\n", encoding="utf-8")
    doc = read(path)
    assert doc.title == "Leaders Meet in Tirana"
    assert doc.text.startswith("\n\n  # Leaders Meet in Tirana")  # text is kept verbatim
    assert doc.date is None


def test_a_date_line_is_not_the_title_and_is_found_as_iso_date() -> None:
    path = next(p for p in CORPUS.glob("*.txt") if "Wednesday, February 28, 2024" in p.read_text(encoding="utf-8"))
    doc = read(path)
    assert doc.date == "2024-02-28"
    assert doc.title == "Zelenskyy seeks support and arms at Balkan summit in Albania"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wednesday, February 28, 2024", "2024-02-28"),
        ("Published Feb. 3, 2023 in Skopje", "2023-02-03"),
        ("On 12 September 2021 the talks began.", "2021-09-12"),
        ("Updated 2022-11-05 by the desk", "2022-11-05"),
        ("February 30, 2024 is not a day", None),
        ("No date here at all.", None),
    ],
)
def test_find_date(text: str, expected: str | None) -> None:
    assert find_date(text) == expected


def test_long_first_line_title_is_shortened() -> None:
    title = first_line_title("word " * 60)
    assert title is not None and title.endswith("…") and len(title) <= 120


def test_html_title_and_no_scripts_or_styles(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Kosovo &amp; NATO</title><style>body { color: red }</style>"
        "<script>var tracking = 'SECRET_SCRIPT';</script></head><body>"
        "<nav><script>alert('SECRET_INLINE')</script></nav><h1>Kosovo and NATO</h1>"
        "<p>Published Tuesday, March 5, 2024.</p><p>Kosovo seeks closer ties with <b>NATO</b>.</p>"
        "<style>.x{display:none}</style><noscript>SECRET_NOSCRIPT</noscript></body></html>",
        encoding="utf-8",
    )
    doc = read(path)
    assert doc.title == "Kosovo & NATO"
    assert doc.date == "2024-03-05"
    assert "Kosovo seeks closer ties with" in doc.text and "NATO" in doc.text
    for leaked in ("SECRET", "color: red", "display:none", "<p>", "alert("):
        assert leaked not in doc.text


def test_docx_written_by_python_docx(tmp_path: Path) -> None:
    doc = read(make_docx(tmp_path / "pact.docx"))
    assert doc.title == "Croatia Joins the Pact"
    assert "Croatia's defence minister signed the declaration in Zagreb." in doc.text
    assert doc.date == "2024-03-04"


def test_pdf_written_by_hand(tmp_path: Path) -> None:
    doc = read(make_pdf(tmp_path / "report.pdf"))
    assert doc.title == PDF_LINES[0]
    assert PDF_LINES[1] in doc.text


def test_broken_pdf_is_unreadable_with_a_reason(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf").read_bytes()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good[: len(good) // 3])  # truncated mid-file: no xref, no trailer
    with pytest.raises(UnreadableDocument, match="PDF"):
        read(broken)
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"this is not a PDF at all")
    with pytest.raises(UnreadableDocument, match="PDF") as raised:
        read(garbage)
    assert "Pdf" in str(raised.value) and "RetryError" not in str(raised.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Café in Zürich — 5 €".encode(), "Café in Zürich — 5 €"),
        ("\ufeffBOM first".encode(), "BOM first"),
        ("Señor Müller's café".encode("latin-1"), "Señor Müller's café"),
        ("Priština – “quoted”".encode("cp1252", errors="replace"), "Priština – “quoted”"),
        ("Đukanović u Podgorici".encode("utf-16"), "Đukanović u Podgorici"),
        ("Đukanović u Podgorici".encode("utf-16-be").join([b"\xfe\xff", b""]), "Đukanović u Podgorici"),
    ],
)
def test_decode_text_encodings(data: bytes, expected: str) -> None:
    assert decode_text(data) == expected


def test_dense_western_text_in_an_8_bit_encoding_is_still_text() -> None:
    dense = "Ça été très éprouvé à côté; Þórður Guðjónsson í Reykjavík"
    assert decode_text(dense.encode("cp1252")) == dense


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b" \n\t \n", "empty"),
        (b"abc\x00\x01\x02" * 100, "binary"),
        (bytes(range(256)) * 40, "binary"),
        (bytes(range(0x80, 0x100)) * 48, "mostly bytes above 0x7F"),  # 6 KB that Latin-1 would "decode"
    ],
)
def test_decode_text_refuses_empty_and_binary(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=reason):
        decode_text(data)


def test_text_is_normalised_but_offsets_stay_usable(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Title line\r\nFirst sentence.\rSecond\x07 sentence.\r\n")
    doc = read(path)
    assert doc.text == "Title line\nFirst sentence.\nSecond sentence.\n"


def test_scan_corpus_ignores_hidden_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a.txt").write_text("Alpha text.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("Beta text.", encoding="utf-8")
    (tmp_path / ".secret.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / ".hidden" / "c.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "big.txt").write_text("x" * 3 * 2**20, encoding="utf-8")
    files, skipped = scan_corpus(tmp_path, max_bytes=2 * 2**20)
    assert [f.doc_id for f in files] == ["a.txt", "sub/b.md"]
    assert files[0].content_hash == hashlib.sha256(b"Alpha text.").hexdigest()
    assert [s.doc_id for s in skipped] == ["big.txt"]
    assert "3.0 MB" in skipped[0].reason and "QA_MAX_FILE_MB" in skipped[0].reason
