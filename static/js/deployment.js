// The live deployment page.
//
// The server renders every event stored so far and the seq of the last one
// (data-last-seq). This module opens /ws/deployments/<id>/?after=<last seq>, so
// the socket sends only what the page has not shown; after a drop it reconnects
// with backoff from the last seq it saw. Each event is rendered once, by seq.

import { RUN_FINAL, followRun } from "./run_socket.js";

const RESOURCE_DONE = new Set(["succeeded", "failed", "skipped"]);
const CONNECTION_TEXT = {
  live: "live",
  reconnecting: "reconnecting…",
  forbidden: "live updates are not available: reload the page",
};

export function watch(root) {
  if (RUN_FINAL.has(root.dataset.status)) return;
  const follower = followRun(root.dataset.wsPath, {
    after: Number(root.dataset.lastSeq || 0),
    onEvent(event) {
      root.dataset.lastSeq = String(event.seq);
      renderEvent(root, event);
    },
    onFinal(runStatus) {
      root.dataset.status = runStatus;
      setRunStatus(runStatus);
      showConnection("");
      document.getElementById("cancel-run")?.remove();
      follower?.close();
      refreshSummary(root);
    },
    onConnection: (state) => showConnection(CONNECTION_TEXT[state] || ""),
  });
}

function showConnection(text) {
  const el = document.getElementById("connection");
  if (el) el.textContent = text;
}

function renderEvent(root, event) {
  appendLogLine(event);
  if (typeof event.total === "number") {
    // The engine's opening line: how many resources this run touches, before any of them starts.
    root.dataset.total = String(event.total);
    updateProgress(root);
  }
  if (event.resource) {
    upsertResourceRow(event);
    updateProgress(root);
  } else if (event.status === "started") {
    setRunStatus("RUNNING");
  }
}

function appendLogLine(event) {
  const log = document.getElementById("log");
  if (!log) return;
  const line = element("li", { class: statusClass(event.status) });
  line.dataset.seq = String(event.seq);
  line.append(
    element("time", {}, String(event.at || "").slice(11, 19)),
    " ",
    element("span", { class: "log-resource" }, event.resource || "deployment"),
    " ",
    badge(event.status),
    " ",
    element("span", { class: "log-message" }, event.message || ""),
  );
  log.append(line);
}

function upsertResourceRow(event) {
  const body = document.querySelector("#resources tbody");
  if (!body) return;
  let row = body.querySelector(`tr[data-resource="${CSS.escape(event.resource)}"]`);
  if (!row) {
    row = element("tr");
    row.dataset.resource = event.resource;
    for (const name of ["id", "type", "action", "status", "elapsed", "message"]) {
      row.append(element("td", { class: `res-${name}` }));
    }
    row.querySelector(".res-id").append(element("code", {}, event.resource));
    row.querySelector(".res-type").classList.add("muted");
    body.append(row);
    const note = document.querySelector("#progress-card .empty-note");
    if (note) note.hidden = true;
  }
  // A note ("info") about a resource tells news, not a new status: a done row stays done.
  const status = event.status === "info" && row.dataset.status ? row.dataset.status : event.status;
  row.dataset.status = status;
  row.className = statusClass(status);
  row.querySelector(".res-type").textContent = event.type || "";
  row.querySelector(".res-action").textContent = event.action || "";
  row.querySelector(".res-status").replaceChildren(badge(status));
  row.querySelector(".res-elapsed").textContent =
    event.elapsed_ms == null ? "" : `${event.elapsed_ms} ms`;
  row.querySelector(".res-message").textContent = event.message || "";
}

function updateProgress(root) {
  const rows = document.querySelectorAll("#resources tbody tr");
  const done = [...rows].filter((row) => RESOURCE_DONE.has(row.querySelector(".res-status").textContent.trim())).length;
  const total = Math.max(Number(root.dataset.total || 0), rows.length);
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  if (bar && total) {
    // Never backwards: a total that grows (a leftover of a crashed run joins) keeps the bar's place.
    const shown = Math.max(Number(bar.dataset.shown || 0), done / total);
    bar.dataset.shown = String(shown);
    bar.max = total;
    bar.value = Math.max(done, shown * total);
  }
  if (text) text.textContent = total ? `${done} of ${total} done` : "waiting for the plan…";
}

function setRunStatus(status) {
  const el = document.getElementById("run-status");
  if (!el) return;
  el.textContent = status.charAt(0) + status.slice(1).toLowerCase();
  el.className = `badge ${statusClass(status)}`;
}

// Counts, duration and (for a plan) the plan table come from the server once the run ends.
async function refreshSummary(root) {
  const summary = document.getElementById("summary");
  if (!summary || !root.dataset.summaryUrl) return;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const response = await fetch(root.dataset.summaryUrl, { headers: { "HX-Request": "true" } });
    if (response.ok) {
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("summary");
      // The final message can arrive a moment before the row is committed: ask again.
      if (fresh && RUN_FINAL.has(fresh.dataset.status)) {
        document.getElementById("summary").replaceWith(fresh);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 400 * (attempt + 1)));
  }
}

function statusClass(status) {
  return `status-${String(status || "unknown").toLowerCase().replace(/_/g, "-")}`;
}

function badge(status) {
  return element("span", { class: `badge ${statusClass(status)}` }, status || "");
}

function element(tag, attributes = {}, text = null) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text !== null) el.textContent = text;
  return el;
}

const root = document.querySelector("[data-live-deployment]");
if (root) watch(root);
