"""The README's screenshots (docs/chat-light.png, docs/chat-dark.png, docs/chat-phone.png, docs/documents-trash.png),
taken from a real ``qa serve`` over a copy of corpus/ with Debian's Chromium: ``make screenshots``.

Each shows what the README describes: an answer whose quote is a table, its source cards with the highlighted
quotes, a ``[3]`` that was clicked (its card in view, flashed), and the delete confirmation of the Documents tab.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Literal

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (make screenshots): the checkout's bench/ is importable

from bench.serve_load import start_serve  # noqa: E402  (qa serve over a copy of corpus/, started and waited for)

DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
QUESTION = "What are the training programs for KAYO?"
ANSWER_TIMEOUT_MS = 120_000
SHOTS: list[tuple[Literal["light", "dark"], int, int, str]] = [
    ("light", 1400, 1000, "chat-light.png"),
    ("dark", 1400, 1000, "chat-dark.png"),
    ("light", 390, 844, "chat-phone.png"),
]


def _ask(page: Page, question: str) -> None:
    before = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-ask").click()
    page.locator("#qa-chat .qa-answer:not(.qa-streaming)").nth(before).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#qa-sources .qa-source").first.wait_for()


def _chat(page: Page, name: str) -> None:
    _ask(page, QUESTION)
    page.locator("#qa-chat .qa-answer-text a.cite-link").last.click()  # [3]: its card comes into view, flashed
    page.wait_for_timeout(400)
    page.screenshot(path=str(DOCS / name))
    print(f"wrote docs/{name}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="qa-screenshots-") as tmp:
        offline = {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
        process, url = start_serve(ROOT, Path(tmp), offline)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
                for scheme, width, height, name in SHOTS:
                    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
                    page = context.new_page()
                    page.goto(url)
                    page.locator("#qa-question textarea").wait_for()
                    _chat(page, name)
                    context.close()
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(url)
                page.get_by_role("tab", name="Documents").click()
                page.locator("#qa-delete-choice input").click()
                page.get_by_role("option", name="002_6b05f74da55235ca.txt", exact=False).click()
                page.locator("#qa-delete").click()
                page.locator("#qa-delete-confirm").wait_for(state="visible")
                page.screenshot(path=str(DOCS / "documents-trash.png"), full_page=True)
                print("wrote docs/documents-trash.png")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
