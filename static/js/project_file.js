// A problem's line link selects that line in the text, so it can be fixed in place.
document.querySelectorAll(".file-problem").forEach((link) => link.addEventListener("click", (event) => {
  event.preventDefault();
  const area = document.getElementById("file-text");
  const lines = area.value.split("\n");
  const line = Number(link.dataset.line) - 1;
  const start = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line] || "").length);
}));
