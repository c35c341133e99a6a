// The canvas without a mouse: Tab goes through the nodes (they are focusable), Enter
// opens the selected node's form, arrow keys move it (Shift: further), Delete removes
// the selection, Ctrl/Cmd+Z undoes, + and - zoom, Escape clears the selection.

const STEP = 10;
const BIG_STEP = 50;
const SAVE_AFTER_MS = 400;

export function attachKeyboard(ctx, panel) {
  const { root, svg, state, renderer } = ctx;
  let pending = null; // arrow-key moves waiting to be saved, as one undo step

  function flushMove() {
    if (!pending) return;
    const { key, from } = pending;
    clearTimeout(pending.timer);
    pending = null;
    const node = state.nodes.get(key);
    if (node) ctx.commitMoves([{ key, x: node.x, y: node.y }], [{ key, ...from }]);
  }

  svg.addEventListener("focusin", (event) => {
    const g = event.target.closest(".cnode");
    if (g && !(state.selected && state.selected.key === g.dataset.key)) {
      flushMove();
      ctx.select({ type: "node", key: g.dataset.key }, { focus: false });
    }
  });

  svg.addEventListener("keydown", (event) => {
    const g = event.target.closest(".cnode");
    const key = g ? g.dataset.key : null;
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (key && arrows[event.key] && state.canEdit) {
      event.preventDefault();
      const node = state.nodes.get(key);
      if (!pending || pending.key !== key) {
        flushMove();
        pending = { key, from: { x: node.x, y: node.y }, timer: 0 };
      }
      const step = event.shiftKey ? BIG_STEP : STEP;
      node.x += arrows[event.key][0] * step;
      node.y += arrows[event.key][1] * step;
      renderer.moved([key]);
      clearTimeout(pending.timer);
      pending.timer = setTimeout(flushMove, SAVE_AFTER_MS);
    } else if (key && event.key === "Enter") {
      event.preventDefault();
      ctx.select({ type: "node", key }, { focus: false });
      // The form may still be loading: try again once htmx has put it in.
      if (!panel.focusForm()) document.body.addEventListener("htmx:afterSettle", () => panel.focusForm(), { once: true });
    }
  });

  // On the document: after a delete the focus may have fallen back to <body>.
  document.addEventListener("keydown", (event) => {
    const inside = root.contains(event.target) || event.target === document.body;
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (!inside || typing) return;
    if ((event.key === "Delete" || event.key === "Backspace") && state.selected && state.canEdit) {
      event.preventDefault();
      flushMove();
      ctx.deleteSelection();
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && state.canEdit) {
      event.preventDefault();
      flushMove();
      ctx.undo();
    } else if (event.key === "Escape") {
      ctx.select(null);
    } else if (event.key === "+" || event.key === "=") {
      ctx.zoom(1.2);
    } else if (event.key === "-") {
      ctx.zoom(1 / 1.2);
    }
  });
}
