// Copy buttons: `data-copy="text"` copies that text, `data-copy-from="#id"` the text of
// that element (a URL, a curl example, a key shown once). Listened on the document so
// buttons that htmx swaps in work too; the CSP allows no inline handlers.
async function copy(event) {
  const button = event.target.closest("button[data-copy], button[data-copy-from]");
  if (!button) return;
  const source = button.dataset.copyFrom ? document.querySelector(button.dataset.copyFrom) : null;
  const text = button.dataset.copy ?? source?.textContent ?? "";
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text.trim());
    button.textContent = "Copied";
  } catch {
    // No clipboard (an http page, a refused permission): select the text to copy by hand.
    if (source) window.getSelection()?.selectAllChildren(source);
    button.textContent = "Select and copy";
  }
  setTimeout(() => { button.textContent = label; }, 1500);
}

document.addEventListener("click", copy);
