// Drawing: one SVG, one <g> per node and per link, created once and then only updated.
// Changes are collected and applied in one requestAnimationFrame, so a drag at 100
// nodes touches only the dragged node and its links, once per frame.

import { linksOf } from "./state.js";

const NS = "http://www.w3.org/2000/svg";
export const NODE_W = 184;
export const NODE_H = 60;
const ICONS = { agent: "AI", bucket: "S3", table: "DDB", queue: "SQS", topic: "SNS", http_api: "API" };
const STATUS_TEXT = { pending: "pending", progress: "in progress", done: "done", failed: "failed", drifted: "drifted" };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function createRenderer(svg, state) {
  const world = svg.querySelector(".canvas-world");
  const linkLayer = svg.querySelector(".canvas-links");
  const nodeLayer = svg.querySelector(".canvas-nodes");
  const ghost = svg.querySelector(".ghost-link");
  const nodeEls = new Map();
  const linkEls = new Map();
  const dirtyNodes = new Set();
  let dirtyView = false;
  let frame = 0;

  function schedule() {
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function flush() {
    frame = 0;
    const links = new Set();
    for (const key of dirtyNodes) {
      placeNode(key);
      for (const link of linksOf(state, key)) links.add(link.id);
    }
    dirtyNodes.clear();
    for (const id of links) drawLink(id);
    if (dirtyView) {
      dirtyView = false;
      const { x, y, k } = state.view;
      world.setAttribute("transform", `translate(${x},${y}) scale(${k})`);
    }
  }

  // --- nodes -----------------------------------------------------------------------------
  function createNode(node) {
    const g = el("g", { class: "cnode", tabindex: "0", role: "button", "data-key": node.key });
    el("rect", { class: "body", width: NODE_W, height: NODE_H, rx: 10 }, g);
    el("rect", { class: "stripe", width: 6, height: NODE_H - 16, x: 0, y: 8, rx: 3 }, g);
    el("rect", { class: "icon-bg", x: 14, y: 14, width: 32, height: 32, rx: 8 }, g);
    el("text", { class: "icon", x: 30, y: 34, "text-anchor": "middle" }, g);
    el("text", { class: "name", x: 56, y: 27 }, g);
    el("text", { class: "meta", x: 56, y: 45 }, g);
    el("circle", { class: "status-dot", cx: NODE_W - 14, cy: 14, r: 5 }, g);
    const badge = el("g", { class: "badge", transform: `translate(${NODE_W - 2},2)` }, g);
    el("circle", { r: 10 }, badge);
    el("text", { "text-anchor": "middle", y: 4 }, badge);
    el("title", {}, badge);
    // Advice before deploy (engine.advise): a second, smaller marker at the bottom corner.
    const advice = el("g", { class: "advice", transform: `translate(${NODE_W - 2},${NODE_H - 2})` }, g);
    el("rect", { x: -8, y: -8, width: 16, height: 16, rx: 4 }, advice);
    el("text", { "text-anchor": "middle", y: 4 }, advice);
    el("title", {}, advice);
    if (node.kind === "http_api") {
      // Once deployed: a link to the API's first route, every route in its tooltip.
      const link = el("a", { class: "endpoint-link", target: "_blank", rel: "noopener" }, g);
      el("text", { x: NODE_W - 30, y: NODE_H - 8, "text-anchor": "end" }, link);
      el("title", {}, link);
    }
    if (state.canEdit) {
      el("circle", { class: "port", cx: NODE_W, cy: NODE_H / 2, r: 7, "data-port": node.key }, g);
    }
    nodeLayer.appendChild(g);
    return g;
  }

  function updateNode(node) {
    let g = nodeEls.get(node.key);
    if (!g) {
      g = createNode(node);
      nodeEls.set(node.key, g);
    }
    const errors = node.problems.filter((p) => p.level === "error");
    const status = state.status.get(node.key) || "";
    const sel = state.selected;
    const classes = ["cnode", `kind-${node.kind}`];
    if (status) classes.push(`st-${status}`);
    if (errors.length) classes.push("has-error");
    else if (node.problems.length) classes.push("has-warning");
    const advice = node.advice || [];
    const blocking = advice.some((a) => a.severity === "blocking");
    if (advice.length) classes.push(blocking ? "advice-blocking" : "advice-warning");
    if (sel && sel.type === "node" && sel.key === node.key) classes.push("selected");
    g.setAttribute("class", classes.join(" "));
    g.querySelector(".icon").textContent = ICONS[node.kind] || "?";
    g.querySelector(".name").textContent = clip(node.name, 18);
    // An agent's icon already says "agent": its second line is its model.
    const meta = node.kind === "agent" ? `model ${node.summary}` : `${node.label} · ${node.summary}`;
    g.querySelector(".meta").textContent = clip(meta, 22);
    const badge = g.querySelector(".badge");
    badge.querySelector("text").textContent = node.problems.length ? (errors.length ? "!" : "?") : "";
    badge.querySelector("title").textContent = node.problems.map((p) => p.message).join("\n");
    const marker = g.querySelector(".advice");
    marker.querySelector("text").textContent = advice.length ? (blocking ? "×" : "!") : "";
    marker.querySelector("title").textContent = advice
      .map((a) => `${a.severity}: ${a.message} (fix: ${a.fix})`)
      .join("\n");
    updateEndpoints(g, node.endpoints || []);
    const label = [`${node.label} ${node.name}`];
    if (status) label.push(`status ${STATUS_TEXT[status]}`);
    if (node.problems.length) label.push(`${node.problems.length} problem${node.problems.length > 1 ? "s" : ""}`);
    if (advice.length) label.push(`${advice.length} advice${blocking ? ", blocking" : ""}`);
    g.setAttribute("aria-label", label.join(", "));
    placeNode(node.key);
  }

  function updateEndpoints(g, endpoints) {
    const link = g.querySelector(".endpoint-link");
    if (!link) return;
    if (endpoints.length) link.setAttribute("href", endpoints[0].url);
    else link.removeAttribute("href");
    link.querySelector("text").textContent = endpoints.length ? "open ↗" : "";
    link.querySelector("title").textContent = endpoints
      .map((e) => `${e.method} ${e.url} (auth: ${e.auth})`)
      .join("\n");
  }

  function placeNode(key) {
    const node = state.nodes.get(key);
    const g = nodeEls.get(key);
    if (node && g) g.setAttribute("transform", `translate(${node.x},${node.y})`);
  }

  // --- links -----------------------------------------------------------------------------
  // Side to side when the nodes stand apart horizontally, else bottom to top (or top to
  // bottom), so a link never doubles back behind its own nodes.
  function linkPath(a, b) {
    let x1, y1, x2, y2, d;
    if (b.x >= a.x + NODE_W + 24 || b.x + NODE_W + 24 <= a.x) {
      const right = b.x > a.x;
      x1 = right ? a.x + NODE_W : a.x;
      x2 = right ? b.x : b.x + NODE_W;
      y1 = a.y + NODE_H / 2;
      y2 = b.y + NODE_H / 2;
      const bend = (right ? 1 : -1) * Math.max(40, Math.abs(x2 - x1) / 2);
      d = `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
    } else {
      const down = b.y > a.y;
      x1 = a.x + NODE_W / 2;
      x2 = b.x + NODE_W / 2;
      y1 = down ? a.y + NODE_H : a.y;
      y2 = down ? b.y : b.y + NODE_H;
      const bend = (down ? 1 : -1) * Math.max(30, Math.abs(y2 - y1) / 2);
      d = `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
    }
    return { d, mx: (x1 + x2) / 2, my: (y1 + y2) / 2 };
  }

  function drawLink(id) {
    const link = state.links.get(id);
    const g = linkEls.get(id);
    if (!link || !g) return;
    const a = state.nodes.get(link.source);
    const b = state.nodes.get(link.target);
    if (!a || !b) return;
    const { d, mx, my } = linkPath(a, b);
    g.querySelector(".hit").setAttribute("d", d);
    g.querySelector(".line").setAttribute("d", d);
    const label = g.querySelector(".label");
    label.setAttribute("x", mx);
    label.setAttribute("y", my - 6);
  }

  function updateLink(link) {
    let g = linkEls.get(link.id);
    if (!g) {
      g = el("g", { "data-link": link.id }, linkLayer);
      el("path", { class: "hit" }, g);
      el("path", { class: "line", "marker-end": "url(#canvas-arrow)" }, g);
      el("text", { class: "label", "text-anchor": "middle" }, g);
      el("title", {}, g);
      linkEls.set(link.id, g);
    }
    const sel = state.selected;
    const classes = ["clink", `lk-${link.kind}`];
    if (sel && sel.type === "link" && sel.id === link.id) classes.push("selected");
    if (link.problems.length) classes.push("has-error");
    g.setAttribute("class", classes.join(" "));
    g.querySelector(".label").textContent = link.kind.replace("_", " & ");
    g.querySelector("title").textContent = `${link.source} → ${link.target} (${link.kind})`;
    drawLink(link.id);
  }

  // --- the whole picture ---------------------------------------------------------------------
  function renderAll() {
    for (const [key, g] of nodeEls) {
      if (!state.nodes.has(key)) {
        g.remove();
        nodeEls.delete(key);
      }
    }
    for (const [id, g] of linkEls) {
      if (!state.links.has(id)) {
        g.remove();
        linkEls.delete(id);
      }
    }
    for (const node of state.nodes.values()) updateNode(node);
    for (const link of state.links.values()) updateLink(link);
    dirtyView = true;
    schedule();
  }

  return {
    renderAll,
    nodeElement: (key) => nodeEls.get(key),
    moved(keys) {
      for (const key of keys) dirtyNodes.add(key);
      schedule();
    },
    viewChanged() {
      dirtyView = true;
      schedule();
    },
    refreshNode(key) {
      const node = state.nodes.get(key);
      if (node) updateNode(node);
    },
    refreshSelection() {
      for (const node of state.nodes.values()) updateNode(node);
      for (const link of state.links.values()) updateLink(link);
    },
    ghost(from, to) {
      if (!from) {
        ghost.setAttribute("hidden", "");
        return;
      }
      ghost.removeAttribute("hidden");
      const bend = Math.max(40, Math.abs(to.x - from.x) / 2);
      ghost.setAttribute("d", `M${from.x},${from.y} C${from.x + bend},${from.y} ${to.x - bend},${to.y} ${to.x},${to.y}`);
    },
    markTargets(keys, active) {
      for (const [key, g] of nodeEls) g.classList.toggle("target-ok", keys.has(key));
      nodeLayer.classList.toggle("connecting", active);
    },
  };
}
