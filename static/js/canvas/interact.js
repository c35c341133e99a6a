// Pointer work on the canvas: drag nodes, drag from a node's port to another node to
// link them, drag the background to pan, wheel to zoom, drag a palette item onto the
// canvas to add a node there. Positions change in memory every frame; the server hears
// once, when the pointer is released.

import { NODE_H, NODE_W } from "./render.js";
import { GAP, freeSpot } from "./placement.js";
import { kindsFor } from "./state.js";

const DRAG_THRESHOLD = 4;
export const ZOOM_MIN = 0.2;
export const ZOOM_MAX = 2.5;

export function toWorld(svg, view, clientX, clientY) {
  const box = svg.getBoundingClientRect();
  return { x: (clientX - box.left - view.x) / view.k, y: (clientY - box.top - view.y) / view.k };
}

export function zoomAt(state, svg, factor, clientX, clientY) {
  const box = svg.getBoundingClientRect();
  const px = clientX === undefined ? box.width / 2 : clientX - box.left;
  const py = clientY === undefined ? box.height / 2 : clientY - box.top;
  const view = state.view;
  const k = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, view.k * factor));
  view.x = px - ((px - view.x) * k) / view.k;
  view.y = py - ((py - view.y) * k) / view.k;
  view.k = k;
}

export function attachPointer(ctx) {
  const { svg, state, renderer } = ctx;
  let gesture = null;

  function nodeKeyAt(target) {
    const g = target.closest ? target.closest(".cnode") : null;
    return g ? g.dataset.key : null;
  }

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    ctx.closeChooser();
    const port = event.target.closest(".port");
    const key = nodeKeyAt(event.target);
    const linkEl = event.target.closest(".clink");
    const at = toWorld(svg, state.view, event.clientX, event.clientY);
    if (port && state.canEdit) {
      gesture = { type: "connect", source: port.dataset.port, at };
      const targets = new Set([...state.nodes.keys()].filter((k) => kindsFor(state, gesture.source, k).length && k !== gesture.source));
      renderer.markTargets(targets, true);
    } else if (key) {
      ctx.select({ type: "node", key });
      const node = state.nodes.get(key);
      gesture = { type: "drag", key, start: at, from: { x: node.x, y: node.y }, moved: false };
    } else if (linkEl) {
      ctx.select({ type: "link", id: Number(linkEl.dataset.link) });
      return;
    } else {
      gesture = { type: "pan", sx: event.clientX, sy: event.clientY, vx: state.view.x, vy: state.view.y, moved: false };
    }
    svg.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  svg.addEventListener("pointermove", (event) => {
    if (!gesture) return;
    if (gesture.type === "pan") {
      const dx = event.clientX - gesture.sx;
      const dy = event.clientY - gesture.sy;
      if (Math.abs(dx) + Math.abs(dy) > DRAG_THRESHOLD) gesture.moved = true;
      state.view.x = gesture.vx + dx;
      state.view.y = gesture.vy + dy;
      renderer.viewChanged();
      return;
    }
    const at = toWorld(svg, state.view, event.clientX, event.clientY);
    if (gesture.type === "connect") {
      const source = state.nodes.get(gesture.source);
      renderer.ghost({ x: source.x + NODE_W, y: source.y + NODE_H / 2 }, at);
      return;
    }
    if (!state.canEdit) return;
    const dx = at.x - gesture.start.x;
    const dy = at.y - gesture.start.y;
    if (!gesture.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD / state.view.k) return;
    gesture.moved = true;
    const node = state.nodes.get(gesture.key);
    node.x = Math.round(gesture.from.x + dx);
    node.y = Math.round(gesture.from.y + dy);
    renderer.moved([gesture.key]);
  });

  function finish(event) {
    if (!gesture) return;
    const done = gesture;
    gesture = null;
    if (done.type === "connect") {
      renderer.ghost(null);
      renderer.markTargets(new Set(), false);
      const hit = document.elementFromPoint(event.clientX, event.clientY);
      const target = hit && svg.contains(hit) ? nodeKeyAt(hit) : null;
      if (target && target !== done.source) ctx.connect(done.source, target, event.clientX, event.clientY);
    } else if (done.type === "drag" && done.moved) {
      const node = state.nodes.get(done.key);
      ctx.commitMoves([{ key: done.key, x: node.x, y: node.y }], [{ key: done.key, ...done.from }]);
    } else if (done.type === "pan" && !done.moved) {
      ctx.select(null);
    }
  }
  svg.addEventListener("pointerup", finish);
  svg.addEventListener("pointercancel", (event) => finish(event));

  svg.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      zoomAt(state, svg, Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
      renderer.viewChanged();
    },
    { passive: false },
  );
}

// Palette: a click adds the node in free space in view; a drag drops it where released.
export function attachPalette(ctx, palette) {
  const { svg, state } = ctx;
  let drag = null;
  let dragged = false; // the click that ends a drag must not add a second node
  palette.addEventListener("pointerdown", (event) => {
    const item = event.target.closest(".palette-item");
    if (!item || event.button !== 0) return;
    drag = { kind: item.dataset.kind, sx: event.clientX, sy: event.clientY, moved: false, item };
    item.setPointerCapture(event.pointerId);
  });
  palette.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (Math.abs(event.clientX - drag.sx) + Math.abs(event.clientY - drag.sy) > DRAG_THRESHOLD) {
      drag.moved = true;
      drag.item.classList.add("dragging");
      document.body.classList.add("canvas-dropping");
    }
  });
  palette.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    done.item.classList.remove("dragging");
    document.body.classList.remove("canvas-dropping");
    if (!done.moved) return; // a click: handled by the click listener
    dragged = true;
    const box = svg.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) return;
    const at = toWorld(svg, state.view, event.clientX, event.clientY);
    ctx.addNode(done.kind, Math.round(at.x - NODE_W / 2), Math.round(at.y - NODE_H / 2));
  });
  palette.addEventListener("click", (event) => {
    const item = event.target.closest(".palette-item");
    if (!item || dragged) {
      dragged = false;
      return;
    }
    addInFreeSpace(ctx, item.dataset.kind);
  });
}

const reserved = []; // spots handed out whose node the server has not confirmed yet

// Add a node of `kind` on free space in view (panning down when the view is full).
export async function addInFreeSpace(ctx, kind) {
  const { svg, state, renderer } = ctx;
  const box = svg.getBoundingClientRect();
  const corner = toWorld(svg, state.view, box.left, box.top);
  const area = { ...corner, width: box.width / state.view.k, height: box.height / state.view.k };
  const spot = freeSpot([...state.nodes.values()], area, reserved);
  if (!spot.inView) {
    state.view.y -= (spot.y + NODE_H + GAP - (area.y + area.height)) * state.view.k;
    renderer.viewChanged();
  }
  reserved.push(spot);
  try {
    await ctx.addNode(kind, spot.x, spot.y);
  } finally {
    reserved.splice(reserved.indexOf(spot), 1);
  }
}
