// Where a node added by a click goes: on free space, in view.
//
// Candidates lie on a grid one node plus a gap apart, scanned row by row from the visible
// top-left. A spot is free when its box keeps GAP from every node's box, and from spots
// handed out for nodes the server has not confirmed yet (two quick clicks get two places).
// When the view is full, the first free spot below it is used and the caller pans to it.

import { NODE_H, NODE_W } from "./render.js";

export const GAP = 40; // what reads as "separate" at zoom 1, not "touching"
const MARGIN = 24; // from the edge of the view
const MAX_ROWS_BELOW = 200;

// `nodes`: [{x, y}] (top-left corners); `area`: the visible world rectangle {x, y, width, height}.
// Returns {x, y, inView}.
export function freeSpot(nodes, area, reserved = []) {
  const boxes = [...nodes, ...reserved];
  const clear = (x, y) =>
    boxes.every((n) => x >= n.x + NODE_W + GAP || n.x >= x + NODE_W + GAP || y >= n.y + NODE_H + GAP || n.y >= y + NODE_H + GAP);
  const left = Math.round(area.x + MARGIN);
  const top = Math.round(area.y + MARGIN);
  const cols = Math.max(1, Math.floor((area.width - 2 * MARGIN + GAP) / (NODE_W + GAP)));
  const rowsInView = Math.max(1, Math.floor((area.height - 2 * MARGIN + GAP) / (NODE_H + GAP)));
  for (let row = 0; row < rowsInView + MAX_ROWS_BELOW; row += 1) {
    for (let col = 0; col < cols; col += 1) {
      const x = left + col * (NODE_W + GAP);
      const y = top + row * (NODE_H + GAP);
      if (clear(x, y)) return { x, y, inView: row < rowsInView };
    }
  }
  return { x: left, y: top + (rowsInView + MAX_ROWS_BELOW) * (NODE_H + GAP), inView: false };
}
