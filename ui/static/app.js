() => {
  // The file picker offers the accepted types (the server checks each file's type itself, so that one wrong file
  // does not stop the others; the values below are filled in by ui/app.py).
  const accept = "__UPLOAD_TYPES__";
  const maxBytes = Number("__MAX_UPLOAD_BYTES__");
  const limit = "__UPLOAD_LIMIT__";
  const offerAcceptedTypes = () => {
    for (const input of document.querySelectorAll("#qa-upload input[type=file]")) {
      if (input.accept !== accept) input.accept = accept;
    }
  };
  new MutationObserver(offerAcceptedTypes).observe(document.body, { childList: true, subtree: true });
  offerAcceptedTypes();

  // Opening an article scrolls it to the highlighted quote.
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || !details.classList.contains("qa-article")) return;
    const box = details.querySelector(".qa-article-text");
    const mark = box && box.querySelector("mark");
    if (!mark) return;
    box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
    mark.scrollIntoView({ block: "nearest" });
  }, true);

  // A [n] is a link to its source card (#qa-source-<answer>-<n>): bring the card into view, flash it and give it
  // the focus (a keyboard user goes on from there). An earlier answer's card appears once the click has selected
  // that answer (a round trip to the server: ui/app.py's show_sources), so it is waited for.
  const motion = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth");
  const showCard = (card) => {
    // On a wide screen the sources column scrolls on its own (app.css) and the page as little as needed; on a
    // phone the cards are below the chat and the page scrolls.
    card.scrollIntoView({ behavior: motion(), block: "nearest" });
    card.classList.remove("qa-flash");
    void card.offsetWidth; // restart the flash when the same card is asked for twice
    card.classList.add("qa-flash");
    setTimeout(() => card.classList.remove("qa-flash"), 1600);
    card.focus({ preventScroll: true });
  };
  let waiting = null;
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.cite-link") : null;
    if (!link) return;
    const id = decodeURIComponent((link.getAttribute("href") || "").slice(1));
    if (!id.startsWith("qa-source-")) return;
    event.preventDefault();
    clearInterval(waiting);
    const card = document.getElementById(id);
    if (card) {
      showCard(card);
      return;
    }
    const since = Date.now();
    waiting = setInterval(() => {
      const found = document.getElementById(id);
      if (found || Date.now() - since > 15000) clearInterval(waiting);
      if (found) showCard(found);
    }, 50);
  });

  // Files over the size limit are refused here, before they are sent, with the server's own words: Gradio would
  // refuse them itself, but leave a red "Error" badge over the drop area and the last message in place.
  const messageBox = () => document.getElementById("qa-documents-message");
  const clearRefusals = () => {
    document.getElementById("qa-upload-refused")?.remove();
    messageBox()?.classList.remove("qa-superseded");
  };
  const screen = (files) => {
    const ok = [];
    const refused = [];
    for (const file of files) {
      if (file.size > maxBytes) {
        const mb = (file.size / 2 ** 20).toFixed(1);
        refused.push(`'${file.name}' was refused: it is ${mb} MB and the limit is ${limit}.`);
      } else {
        ok.push(file);
      }
    }
    return { ok, refused };
  };
  const showRefusals = (lines, nothingSent) => {
    const box = messageBox();
    if (!box) return;
    const note = document.createElement("div");
    note.id = "qa-upload-refused";
    for (const line of lines) {
      const item = document.createElement("div");
      item.className = "qa-notice qa-notice-error";
      item.setAttribute("role", "alert");
      item.textContent = line;
      note.append(item);
    }
    box.before(note);
    if (nothingSent) box.classList.add("qa-superseded"); // no answer will replace the last message
  };
  const keepOnly = (input, files) => {
    const kept = new DataTransfer();
    for (const file of files) kept.items.add(file);
    input.files = kept.files;
  };
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.closest("#qa-upload")) return;
    if (input.dataset.qaScreened) {
      delete input.dataset.qaScreened; // re-sent by the drop handler below, already screened
      return;
    }
    clearRefusals();
    const { ok, refused } = screen(input.files || []);
    if (!refused.length) return;
    showRefusals(refused, !ok.length);
    keepOnly(input, ok);
    if (!ok.length) {
      event.stopImmediatePropagation();
      input.value = "";
    }
  }, true);
  document.addEventListener("drop", (event) => {
    const zone = event.target instanceof Element ? event.target.closest("#qa-upload") : null;
    if (!zone || !event.dataTransfer) return;
    clearRefusals();
    const { ok, refused } = screen(event.dataTransfer.files);
    if (!refused.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    showRefusals(refused, !ok.length);
    const input = zone.querySelector("input[type=file]");
    if (!ok.length || !input) return;
    keepOnly(input, ok);
    input.dataset.qaScreened = "1";
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, true);
}
