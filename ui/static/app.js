() => {
  // The file picker offers the accepted types (the server checks each file's type itself, so that one wrong file
  // does not stop the others; the list is filled in by ui/app.py).
  const accept = "__UPLOAD_TYPES__";
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
  // Clicking a [n] marker brings its source into view.
  document.addEventListener("click", (event) => {
    const marker = event.target instanceof Element ? event.target.closest("sup.cite") : null;
    if (!marker) return;
    const card = document.getElementById("qa-source-" + marker.dataset.n);
    if (!card) return;
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    card.classList.add("qa-flash");
    setTimeout(() => card.classList.remove("qa-flash"), 1200);
  });
}
