// Auto-layout: layers follow the links' direction (a link's target sits one layer to the
// right of its source), nodes in a layer are ordered by the average place of their
// neighbours in the layer before (two sweeps), and nodes without links go last.

import { NODE_H, NODE_W } from "./render.js";

const GAP_X = 110;
const GAP_Y = 44;

function layersOf(keys, links) {
  const out = new Map(keys.map((k) => [k, []]));
  const indegree = new Map(keys.map((k) => [k, 0]));
  for (const { source, target } of links) {
    if (!out.has(source) || !out.has(target) || source === target) continue;
    out.get(source).push(target);
    indegree.set(target, indegree.get(target) + 1);
  }
  // Longest path from the sources (Kahn's order); what a cycle leaves is placed after.
  const layer = new Map(keys.map((k) => [k, 0]));
  const ready = keys.filter((k) => indegree.get(k) === 0);
  const seen = new Set();
  while (ready.length) {
    const key = ready.shift();
    seen.add(key);
    for (const next of out.get(key)) {
      layer.set(next, Math.max(layer.get(next), layer.get(key) + 1));
      indegree.set(next, indegree.get(next) - 1);
      if (indegree.get(next) === 0) ready.push(next);
    }
  }
  for (const key of keys) if (!seen.has(key)) layer.set(key, layer.get(key) + 1);
  return layer;
}

export function layered(nodes, links) {
  const keys = nodes.map((n) => n.key).sort();
  const linked = new Set(links.flatMap((l) => [l.source, l.target]));
  const layer = layersOf(keys.filter((k) => linked.has(k)), links);
  const columns = [];
  for (const [key, index] of layer) (columns[index] ||= []).push(key);
  const loners = keys.filter((k) => !linked.has(k));
  const neighbours = new Map(keys.map((k) => [k, []]));
  for (const { source, target } of links) {
    if (neighbours.has(source) && neighbours.has(target)) {
      neighbours.get(source).push(target);
      neighbours.get(target).push(source);
    }
  }
  for (let sweep = 0; sweep < 2; sweep += 1) {
    const place = new Map();
    columns.forEach((col) => col.forEach((key, i) => place.set(key, i)));
    for (let c = 1; c < columns.length; c += 1) {
      const prev = new Set(columns[c - 1]);
      const weight = (key) => {
        const near = neighbours.get(key).filter((n) => prev.has(n)).map((n) => place.get(n));
        return near.length ? near.reduce((a, b) => a + b, 0) / near.length : place.get(key);
      };
      columns[c].sort((a, b) => weight(a) - weight(b));
      columns[c].forEach((key, i) => place.set(key, i));
    }
  }
  const tallest = Math.max(1, ...columns.map((col) => col.length));
  const positions = new Map();
  columns.forEach((col, c) => {
    const offset = ((tallest - col.length) * (NODE_H + GAP_Y)) / 2;
    col.forEach((key, i) => positions.set(key, { x: 40 + c * (NODE_W + GAP_X), y: 40 + offset + i * (NODE_H + GAP_Y) }));
  });
  const below = 40 + tallest * (NODE_H + GAP_Y) + (columns.length ? GAP_Y : 0);
  const perRow = Math.max(4, columns.length);
  loners.forEach((key, i) => {
    positions.set(key, { x: 40 + (i % perRow) * (NODE_W + GAP_X / 2), y: below + Math.floor(i / perRow) * (NODE_H + GAP_Y) });
  });
  return positions;
}
