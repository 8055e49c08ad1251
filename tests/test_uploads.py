"""index.uploads: names are sanitised, types and sizes limited, and nothing is written outside the corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.errors import DocumentRejectedError
from index.settings import Settings
from index.uploads import (
    add_document,
    delete_document,
    restore_document,
    sanitise_file_name,
    trash_folder,
    trashed_documents,
)

ARTICLE = b"Made-up News\nThe village of Zrnovo elected a goat as honorary mayor on 3 March 2031.\n"


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _source(tmp_path: Path, name: str, data: bytes = ARTICLE) -> Path:
    """An uploaded file as the web server stores it, under a name of its own."""
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.upload"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\x.md", "x.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("my article (final) v2.TXT", "my_article_final_v2.txt"),
        ("Vijesti iz Splita – ščćžđ.md", "Vijesti_iz_Splita_ščćžđ.md"),
        ("Новости Београд.html", "Новости_Београд.html"),
        (".hidden.txt", "hidden.txt"),
        ("a\u202etxt.exe.pdf", "atxt.exe.pdf"),  # right-to-left override dropped
        ("  spaced   out  .docx", "spaced_out.docx"),
    ],
)
def test_names_are_sanitised_to_one_safe_component(name: str, expected: str) -> None:
    safe = sanitise_file_name(name)
    assert safe == expected
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")


def test_a_name_with_nothing_left_gets_a_stable_generated_stem() -> None:
    first, second = sanitise_file_name("???.txt"), sanitise_file_name("???.txt")
    assert first == second and first.startswith("document-") and first.endswith(".txt")
    assert sanitise_file_name("CON.txt").startswith("document-")


def test_long_names_are_shortened_but_keep_their_type() -> None:
    safe = sanitise_file_name("a" * 500 + ".md")
    assert len(safe) <= 100 and safe.endswith(".md")


@pytest.mark.parametrize("name", ["evil.exe", "notes.txt.sh", "archive.zip", "README", "photo.PNG"])
def test_disallowed_types_are_refused_saying_which_and_why(name: str) -> None:
    with pytest.raises(DocumentRejectedError) as info:
        sanitise_file_name(name)
    message = str(info.value)
    assert name in message
    assert ".txt" in message and ".docx" in message  # says what is accepted


def test_path_traversal_upload_lands_inside_the_corpus(settings: Settings, tmp_path: Path) -> None:
    source = _source(tmp_path, "x")
    before_outside = _tree(tmp_path)
    stored = add_document(settings, source, "../../x.txt")
    corpus = settings.corpus_dir.resolve()
    assert stored.path == corpus / "x.txt" and stored.doc_id == "x.txt"
    assert stored.path.read_bytes() == ARTICLE
    assert not (tmp_path / "x.txt").exists() and not (tmp_path.parent / "x.txt").exists()
    # the only new entry anywhere under tmp_path is the stored file (no temp files left behind)
    assert _tree(tmp_path) - before_outside == {"corpus/x.txt"}


def test_unicode_and_spaces_are_stored_under_the_sanitised_name(settings: Settings, tmp_path: Path) -> None:
    stored = add_document(settings, _source(tmp_path, "x"), "Vijesti iz Splita – ščć.md")
    assert stored.doc_id == "Vijesti_iz_Splita_ščć.md"
    assert (settings.corpus_dir / "Vijesti_iz_Splita_ščć.md").read_bytes() == ARTICLE


def test_oversize_files_are_refused_with_the_limit(tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, max_upload_mb=0.01)
    before = _tree(corpus_copy)
    big = _source(tmp_path, "big", ARTICLE * 200)  # ~17 KB > 10 KB
    with pytest.raises(DocumentRejectedError) as info:
        add_document(settings, big, "big.txt")
    assert "big.txt" in str(info.value) and "0.01 MB" in str(info.value) and "QA_MAX_UPLOAD_MB" in str(info.value)
    assert _tree(corpus_copy) == before


def test_an_upload_the_index_would_skip_is_refused_with_the_index_limit(tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, max_upload_mb=20, max_file_mb=0.01)
    before = _tree(corpus_copy)
    with pytest.raises(DocumentRejectedError) as info:
        add_document(settings, _source(tmp_path, "big", ARTICLE * 200), "big.txt")  # ~17 KB > 0.01 MB
    assert "0.01 MB" in str(info.value) and "QA_MAX_FILE_MB" in str(info.value)
    assert _tree(corpus_copy) == before


def test_an_uploaded_file_gets_the_modes_of_any_file_the_user_writes(settings: Settings, tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        stored = add_document(settings, _source(tmp_path, "x"), "modes.txt")
    finally:
        os.umask(umask)
    assert stored.path.stat().st_mode & 0o777 == 0o640  # 0666 less the umask, not mkstemp's 0600


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02binary" * 50, "binary"),
        ("fake.pdf", b"this is not a PDF at all", "PDF"),
        ("fake.docx", b"not a zip", "DOCX"),
    ],
)
def test_unreadable_files_are_refused_and_not_kept(
    settings: Settings, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    before = _tree(settings.corpus_dir)
    with pytest.raises(DocumentRejectedError) as info:
        add_document(settings, _source(tmp_path, name, data), name)
    assert name in str(info.value) and reason in str(info.value)
    assert _tree(settings.corpus_dir) == before  # neither the file nor its temporary copy remains


def test_an_existing_name_is_not_overwritten(settings: Settings, tmp_path: Path) -> None:
    existing = sorted(p.name for p in settings.corpus_dir.iterdir())[0]
    original = (settings.corpus_dir / existing).read_bytes()
    with pytest.raises(DocumentRejectedError, match="already exists"):
        add_document(settings, _source(tmp_path, "x"), existing)
    assert (settings.corpus_dir / existing).read_bytes() == original


def test_a_symlink_in_the_corpus_is_not_followed_when_adding(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    os.symlink(outside, settings.corpus_dir / "link.txt")
    with pytest.raises(DocumentRejectedError, match="already exists"):
        add_document(settings, _source(tmp_path, "x"), "link.txt")
    assert outside.read_text() == "keep me"


def test_delete_moves_the_file_to_the_trash_and_restore_puts_it_back(settings: Settings) -> None:
    doc_id = sorted(p.name for p in settings.corpus_dir.iterdir())[0]
    original = (settings.corpus_dir / doc_id).read_bytes()
    trashed = delete_document(settings, doc_id)
    assert not (settings.corpus_dir / doc_id).exists()
    assert trashed.doc_id == doc_id and trashed.path.read_bytes() == original and trashed.size == len(original)
    assert trashed.path.is_relative_to(trash_folder(settings)) and trash_folder(settings).parent == settings.data_dir
    assert trashed_documents(settings) == [trashed]
    restored = restore_document(settings, trashed.entry)
    assert restored.doc_id == doc_id and (settings.corpus_dir / doc_id).read_bytes() == original
    assert trashed_documents(settings) == [] and list(trash_folder(settings).iterdir()) == []


def test_the_trash_keeps_every_deletion_of_a_name_and_restores_into_subfolders(settings: Settings) -> None:
    (settings.corpus_dir / "sub").mkdir()
    for version in ("first", "second"):
        (settings.corpus_dir / "sub" / "note.txt").write_text(f"Note\nThe {version} version of the note.\n")
        delete_document(settings, "sub/note.txt")
    shutil.rmtree(settings.corpus_dir / "sub")
    newest, oldest = trashed_documents(settings)  # most recent first
    assert newest.doc_id == oldest.doc_id == "sub/note.txt" and newest.entry > oldest.entry
    assert "second" in newest.path.read_text() and newest.deleted_at.endswith(" UTC")
    restore_document(settings, oldest.entry)
    assert "first" in (settings.corpus_dir / "sub" / "note.txt").read_text()
    # The name is taken again: the other copy stays in the trash, and the message says what to do.
    with pytest.raises(DocumentRejectedError, match="in the corpus again; delete or rename it first"):
        restore_document(settings, newest.entry)
    assert trashed_documents(settings) == [newest] and "first" in (settings.corpus_dir / "sub/note.txt").read_text()


@pytest.mark.parametrize(
    "entry", ["", "../corpus", "20261124T101500000000Z-0000000g", "20261124T101500000000Z-00000000"]
)
def test_restore_of_an_unknown_entry_says_so(settings: Settings, entry: str) -> None:
    before = _tree(settings.corpus_dir)
    with pytest.raises(DocumentRejectedError, match=r"nothing was restored|no entry"):
        restore_document(settings, entry)
    assert _tree(settings.corpus_dir) == before


@pytest.mark.parametrize(
    "doc_id", ["../outside.txt", "/etc/hostname.txt", "sub/../../outside.txt", ".hidden.txt", "", "\ud800.txt"]
)
def test_delete_refuses_anything_outside_the_corpus(settings: Settings, tmp_path: Path, doc_id: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    before = _tree(settings.corpus_dir)
    with pytest.raises(DocumentRejectedError):
        delete_document(settings, doc_id)
    assert outside.exists() and _tree(settings.corpus_dir) == before


def test_delete_through_a_symlinked_folder_is_refused(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_text("keep me")
    os.symlink(elsewhere, settings.corpus_dir / "linked")
    with pytest.raises(DocumentRejectedError, match="outside the corpus"):
        delete_document(settings, "linked/victim.txt")
    assert (elsewhere / "victim.txt").exists()


def test_delete_of_a_missing_document_says_so(settings: Settings) -> None:
    with pytest.raises(DocumentRejectedError, match="no document"):
        delete_document(settings, "not-there.txt")
