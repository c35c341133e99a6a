// The canvas on the project page: wires state, drawing, pointer and keyboard, the side
// panel, undo and live deploy colours. The server is the source of truth: every change
// is a request, and the picture is redrawn from the server's answer.

import { createApi } from "./api.js";
import { attachKeyboard } from "./keyboard.js";
import { addInFreeSpace, attachPalette, attachPointer, zoomAt } from "./interact.js";
import { layered } from "./layout.js";
import { createLive } from "./live.js";
import { createPanel, h } from "./panel.js";
import { NODE_H, NODE_W, createRenderer } from "./render.js";
import { applyServerState, createState, kindsFor, linkBetween, linksOf } from "./state.js";
import { createUndo } from "./undo.js";

const FIT_PADDING = 40;

function boot(root) {
  const svg = root.querySelector("#canvas-svg");
  const state = createState(root.dataset.canEdit === "true");
  const toastEl = root.querySelector(".canvas-toast");
  const runEl = root.querySelector("#canvas-run");
  const chooser = root.querySelector(".canvas-chooser");
  const ctx = { root, svg, state };

  // --- messages ----------------------------------------------------------------------------
  let toastTimer = 0;
  function toast(message, kind = "info", action = null) {
    clearTimeout(toastTimer);
    toastEl.hidden = false;
    toastEl.className = `canvas-toast toast-${kind}`;
    toastEl.replaceChildren(...[h("span", {}, message), action].filter(Boolean), h("button", { type: "button", class: "link-button", "aria-label": "Dismiss", onclick: () => (toastEl.hidden = true) }, "×"));
    if (kind === "info") toastTimer = setTimeout(() => (toastEl.hidden = true), 3500);
  }
  function stale(message) {
    toast(message, "stale", h("button", { type: "button", class: "button small", onclick: () => location.reload() }, "Reload"));
    root.classList.add("is-stale");
  }
  function failed(error) {
    if (error && error.status === 409) return; // the stale banner already says it
    toast(error.message || String(error), "error");
  }

  ctx.api = createApi(root, state, stale);
  const renderer = createRenderer(svg, state);
  ctx.renderer = renderer;
  const undoButton = root.querySelector('[data-action="undo"]');
  const deleteButton = root.querySelector('[data-action="delete"]');
  const undo = createUndo((size) => {
    if (undoButton) undoButton.disabled = size === 0;
  });
  const panel = createPanel(ctx);
  const live = createLive(state, (run, counts) => {
    renderer.refreshSelection();
    showRun(run, counts);
  });

  // --- state ---------------------------------------------------------------------------------
  let lastRunStatus = null;
  async function refresh({ reloadForm = false } = {}) {
    const data = await ctx.api.state();
    applyServerState(state, data);
    root.querySelector(".canvas-empty").hidden = state.nodes.size > 0;
    live.follow(state.deployment);
    renderer.renderAll();
    panel.show(state.selected, reloadForm);
    syncButtons();
    for (const problem of state.problems) toast(problem.message, "error");
  }

  function showRun(run, counts) {
    if (!run) {
      runEl.hidden = true;
      return;
    }
    runEl.hidden = false;
    const active = !["SUCCEEDED", "FAILED", "CANCELLED"].includes(run.status);
    const verb = run.kind === "destroy" ? "Destroy" : "Deploy";
    runEl.className = `canvas-run run-${run.status.toLowerCase()}`;
    runEl.replaceChildren(
      h("span", { class: "run-dot" }),
      `${verb} #${run.id}: ${active ? "in progress" : run.status.toLowerCase()}`,
      counts.total ? ` · ${counts.done} of ${counts.total} resource changes finished` : "",
      " · ",
      h("a", { href: run.url }, "details"),
    );
    if (lastRunStatus && lastRunStatus !== run.status && !active) refresh().catch(failed);
    lastRunStatus = run.status;
  }

  function syncButtons() {
    if (deleteButton) deleteButton.disabled = !state.selected;
  }

  // --- selection -----------------------------------------------------------------------------
  ctx.select = (selection, { focus = true } = {}) => {
    const same = JSON.stringify(selection) === JSON.stringify(state.selected);
    state.selected = selection;
    renderer.refreshSelection();
    syncButtons();
    if (!same) panel.show(selection);
    if (focus && selection && selection.type === "node") {
      const g = renderer.nodeElement(selection.key);
      if (g && document.activeElement !== g) g.focus({ preventScroll: true });
    }
  };

  // --- edits -----------------------------------------------------------------------------------
  ctx.addNode = async (kind, x, y) => {
    try {
      const made = await ctx.api.addNode(kind, x, y);
      undo.push(`add ${made.key}`, async () => {
        await ctx.api.deleteNode(made.key);
      });
      state.selected = { type: "node", key: made.key };
      await refresh();
      ctx.select(state.selected);
    } catch (error) {
      failed(error);
    }
  };

  ctx.commitMoves = async (moves, previous) => {
    try {
      await ctx.api.moveNodes(moves);
      undo.push("move", async () => {
        await ctx.api.moveNodes(previous);
        for (const p of previous) Object.assign(state.nodes.get(p.key) || {}, { x: p.x, y: p.y });
        renderer.moved(previous.map((p) => p.key));
      });
    } catch (error) {
      failed(error);
      for (const p of previous) Object.assign(state.nodes.get(p.key) || {}, { x: p.x, y: p.y });
      renderer.moved(previous.map((p) => p.key));
    }
  };

  ctx.createLink = async (source, target, kind = "") => {
    try {
      await ctx.api.addLink(source, target, kind);
      undo.push("link", async () => {
        const link = linkBetween(state, source, target);
        if (link) await ctx.api.deleteLink(link.id);
      });
      await refresh();
      const link = linkBetween(state, source, target);
      toast(`Linked ${state.nodes.get(source).name} → ${state.nodes.get(target).name}${link ? ` (${link.kind.replace("_", " & ")})` : ""}`);
    } catch (error) {
      failed(error);
    }
  };

  ctx.closeChooser = () => {
    chooser.hidden = true;
    chooser.replaceChildren();
  };

  // Dropped on a node: the link's kind follows from the two nodes; a chooser where several fit.
  ctx.connect = (source, target, clientX, clientY) => {
    const kinds = kindsFor(state, source, target);
    if (kinds.length < 2) return ctx.createLink(source, target, "");
    const box = root.querySelector(".canvas-viewport").getBoundingClientRect();
    chooser.style.left = `${clientX - box.left}px`;
    chooser.style.top = `${clientY - box.top}px`;
    const close = ctx.closeChooser;
    chooser.replaceChildren(
      h("p", {}, "Which kind of link?"),
      ...kinds.map((k) => h("button", { type: "button", class: "button small", onclick: () => { close(); ctx.createLink(source, target, k); } }, k.replace("_", " & "))),
      h("button", { type: "button", class: "link-button", onclick: close }, "cancel"),
    );
    chooser.hidden = false;
    chooser.querySelector("button").focus();
    chooser.onkeydown = (e) => {
      if (e.key === "Escape") close();
    };
  };

  ctx.deleteLink = async (id) => {
    const link = state.links.get(id);
    if (!link) return;
    try {
      await ctx.api.deleteLink(id);
      undo.push("unlink", async () => {
        await ctx.api.addLink(link.source, link.target, link.kind, link.settings);
      });
      await refresh();
    } catch (error) {
      failed(error);
    }
  };

  async function deleteNode(key) {
    const node = state.nodes.get(key);
    if (!node) return;
    const links = linksOf(state, key).map(({ source, target, kind, settings }) => ({ source, target, kind, settings }));
    try {
      await ctx.api.deleteNode(key);
      undo.push(`delete ${key}`, async () => {
        await ctx.api.addNode(node.kind, node.x, node.y, { data: node.data, links });
      });
      state.selected = null;
      await refresh();
      svg.focus({ preventScroll: true }); // keyboard users stay on the canvas
      toast(`Deleted ${node.name}${links.length ? ` and ${links.length} link${links.length > 1 ? "s" : ""}` : ""} — Undo brings it back`);
    } catch (error) {
      failed(error);
    }
  }

  ctx.deleteSelection = () => {
    const sel = state.selected;
    if (!sel || !state.canEdit) return;
    if (sel.type === "node") deleteNode(sel.key);
    else ctx.deleteLink(sel.id);
  };

  ctx.undo = async () => {
    try {
      const label = await undo.undo();
      if (label) {
        await refresh({ reloadForm: true });
        toast(`Undone: ${label}`);
      }
    } catch (error) {
      failed(error);
      refresh().catch(failed);
    }
  };

  ctx.autoLayout = async () => {
    const positions = layered([...state.nodes.values()], [...state.links.values()]);
    const previous = [];
    const moves = [];
    for (const [key, at] of positions) {
      const node = state.nodes.get(key);
      if (node.x === at.x && node.y === at.y) continue;
      previous.push({ key, x: node.x, y: node.y });
      moves.push({ key, ...at });
      Object.assign(node, at);
    }
    if (!moves.length) return;
    renderer.moved(moves.map((m) => m.key));
    ctx.fit();
    await ctx.commitMoves(moves, previous);
  };

  ctx.fit = () => {
    const nodes = [...state.nodes.values()];
    if (!nodes.length) return;
    const box = svg.getBoundingClientRect();
    const minX = Math.min(...nodes.map((n) => n.x));
    const minY = Math.min(...nodes.map((n) => n.y));
    const maxX = Math.max(...nodes.map((n) => n.x + NODE_W));
    const maxY = Math.max(...nodes.map((n) => n.y + NODE_H));
    const k = Math.min(1.25, (box.width - 2 * FIT_PADDING) / (maxX - minX || 1), (box.height - 2 * FIT_PADDING) / (maxY - minY || 1));
    state.view.k = Math.max(0.2, k);
    state.view.x = (box.width - (maxX - minX) * state.view.k) / 2 - minX * state.view.k;
    state.view.y = (box.height - (maxY - minY) * state.view.k) / 2 - minY * state.view.k;
    renderer.viewChanged();
  };

  ctx.zoom = (factor) => {
    zoomAt(state, svg, factor);
    renderer.viewChanged();
  };

  ctx.deploy = async () => {
    try {
      const run = await ctx.api.deploy(state.stage);
      state.deployment = run;
      lastRunStatus = run.status;
      live.follow(run);
      toast(`Deploy #${run.id} started`);
    } catch (error) {
      failed(error);
    }
  };

  // A save in the side panel (htmx): the server says so with an HX-Trigger event.
  root.addEventListener("canvas:changed", (event) => {
    const before = state.selected && state.selected.type === "node" ? state.nodes.get(state.selected.key) : null;
    const detail = event.detail || {};
    if (typeof detail.version === "number") state.version = detail.version;
    if (before && detail.key) {
      undo.push(`edit ${before.name}`, async () => {
        await ctx.api.updateNode(detail.key, before.data);
      });
      state.selected = { type: "node", key: detail.key };
    }
    refresh().then(() => toast("Saved")).catch(failed);
  });

  // --- toolbar -------------------------------------------------------------------------------
  const actions = {
    undo: ctx.undo,
    delete: ctx.deleteSelection,
    layout: ctx.autoLayout,
    fit: ctx.fit,
    "zoom-in": () => ctx.zoom(1.2),
    "zoom-out": () => ctx.zoom(1 / 1.2),
    deploy: ctx.deploy,
  };
  root.querySelector(".canvas-toolbar").addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (button && actions[button.dataset.action]) actions[button.dataset.action]();
  });
  const stagePick = root.querySelector('[data-action="stage"]');
  if (stagePick) {
    stagePick.addEventListener("change", () => {
      state.stage = stagePick.value;
      refresh().catch(failed);
    });
  }

  // Lets a script (or a browser test) put the view somewhere exact: {x, y, k}.
  root.addEventListener("canvas:set-view", (event) => {
    Object.assign(state.view, event.detail);
    renderer.viewChanged();
  });

  attachPointer(ctx);
  const palette = root.querySelector(".palette");
  if (palette) attachPalette(ctx, palette);
  for (const button of root.querySelectorAll(".canvas-empty [data-add-kind]")) {
    button.addEventListener("click", () => addInFreeSpace(ctx, button.dataset.addKind));
  }
  attachKeyboard(ctx, panel);

  refresh()
    .then(() => {
      ctx.fit();
      root.classList.add("is-ready");
      performance.mark("canvas-ready");
    })
    .catch(failed);
}

const root = document.getElementById("canvas");
if (root) boot(root);
