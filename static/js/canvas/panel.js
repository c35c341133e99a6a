// The side panel: the selected node's edit form (the full page's form, loaded with htmx
// and posted back to the canvas), its links, and what the engine says it creates and
// grants. A link shows the same explanation for itself.

import { kindsFor, linksOf } from "./state.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// replaceChildren without the nulls of optional parts (it would print them as "null").
function fill(host, ...children) {
  host.replaceChildren(...children.filter((child) => child != null && child !== false));
}

const STATUS_TEXT = { pending: "pending", progress: "in progress", done: "done", failed: "failed", drifted: "drifted" };

function section(title, ...body) {
  return h("section", { class: "panel-section" }, h("h3", {}, title), ...body);
}

function statementList(statements) {
  if (!statements || !statements.length) return h("p", { class: "muted" }, "No IAM permissions.");
  return h(
    "ul",
    { class: "statements" },
    statements.map((s) => {
      const actions = [].concat(s.Action || []);
      const resources = [].concat(s.Resource || []);
      return h(
        "li",
        {},
        h("span", { class: `effect effect-${String(s.Effect || "Allow").toLowerCase()}` }, s.Effect || "Allow"),
        " ",
        h("code", {}, actions.join(", ")),
        h("div", { class: "small muted resource-list" }, "on ", resources.join(", ")),
      );
    }),
  );
}

function envTable(environment) {
  const entries = Object.entries(environment || {});
  if (!entries.length) return h("p", { class: "muted" }, "No environment variables.");
  return h("dl", { class: "facts env" }, entries.flatMap(([k, v]) => [h("dt", {}, h("code", {}, k)), h("dd", {}, h("code", {}, String(v)))]));
}

function resourceList(resources) {
  if (!resources || !resources.length) return h("p", { class: "muted" }, "No AWS resources of its own.");
  return h(
    "ul",
    { class: "creates" },
    resources.map((r) => h("li", {}, h("span", { class: "rtype" }, r.type), " ", h("code", {}, r.name || r.logical_id))),
  );
}

// An agent's alarms in the shown stage, and the way to its log lines and charts there.
function watchSection(state, node) {
  const base = `/projects/${encodeURIComponent(state.project)}/stages/${encodeURIComponent(state.stage)}/agents/${encodeURIComponent(node.name)}`;
  const alarms = node.alarms || [];
  return section(
    `Watch it (${state.stage})`,
    h("p", { class: "small" },
      h("a", { href: `${base}/logs/`, class: "watch-logs" }, "Logs"), " · ",
      h("a", { href: `${base}/metrics/`, class: "watch-metrics" }, "Metrics")),
    alarms.length
      ? h("ul", { class: "alarm-list" }, alarms.map((a) => h("li", { "data-alarm": a.name },
          h("span", { class: `alarm-state alarm-${a.state.toLowerCase()}` }, a.state), " ", h("code", {}, a.name))))
      : null,
  );
}

function deployedList(rows, runUrl) {
  if (!rows.length) return h("p", { class: "muted" }, "Nothing of it exists in this stage yet.");
  return h(
    "ul",
    { class: "deployed" },
    rows.map((r) => {
      const ev = r.last_event;
      return h(
        "li",
        {},
        h("span", { class: "rtype" }, r.type),
        " ",
        h("code", { title: r.arn || r.physical_id }, r.physical_id),
        ev
          ? h(
              "div",
              { class: "small" },
              h("span", { class: `res-status rs-${ev.status}` }, ev.status),
              ` ${ev.action || ""} · ${new Date(ev.at).toLocaleString()}`,
              ev.message ? h("div", { class: "muted" }, ev.message) : null,
            )
          : null,
      );
    }),
    runUrl ? h("li", { class: "small" }, h("a", { href: runUrl }, "Open the last run")) : null,
  );
}

export function createPanel(ctx) {
  const { state, api } = ctx;
  const root = document.getElementById("canvas-panel");
  const empty = root.querySelector(".panel-empty");
  let token = 0;
  let shownKey = null;

  function clear() {
    root.replaceChildren(empty);
    shownKey = null;
  }

  function problemList(problems) {
    if (!problems.length) return null;
    return h(
      "ul",
      { class: "problems" },
      problems.map((p) => h("li", { class: `problem problem-${p.level}` }, p.field ? `${p.field}: ${p.message}` : p.message)),
    );
  }

  function linkRows(node) {
    const rows = linksOf(state, node.key);
    if (!rows.length) return h("p", { class: "muted" }, "No links yet.");
    return h(
      "ul",
      { class: "panel-links" },
      rows.map((link) => {
        const out = link.source === node.key;
        const other = state.nodes.get(out ? link.target : link.source);
        return h(
          "li",
          {},
          h("button", { type: "button", class: "link-button", onclick: () => ctx.select({ type: "link", id: link.id }) },
            `${out ? "→" : "←"} ${other ? other.name : "?"}`),
          h("span", { class: "muted" }, ` ${link.kind.replace("_", " & ")}`),
          state.canEdit
            ? h("button", { type: "button", class: "link-button danger-text", "aria-label": `Remove link to ${other ? other.name : ""}`, onclick: () => ctx.deleteLink(link.id) }, "remove")
            : null,
        );
      }),
    );
  }

  // Linking without a mouse: pick the other node (and the kind where several fit).
  function connectForm(node) {
    const options = [];
    const linked = new Set(linksOf(state, node.key).map((l) => `${l.source}|${l.target}`));
    for (const other of state.nodes.values()) {
      if (other.key === node.key) continue;
      if (kindsFor(state, node.key, other.key).length && !linked.has(`${node.key}|${other.key}`)) options.push([`${node.key}|${other.key}`, `→ ${other.label} ${other.name}`]);
      if (kindsFor(state, other.key, node.key).length && !linked.has(`${other.key}|${node.key}`)) options.push([`${other.key}|${node.key}`, `← ${other.label} ${other.name}`]);
    }
    if (!options.length) return h("p", { class: "muted" }, "Nothing on the canvas can be linked to this node yet.");
    const pick = h("select", { "aria-label": "Link to", class: "link-pick" }, options.map(([v, label]) => h("option", { value: v }, label)));
    const kind = h("select", { "aria-label": "Link kind", class: "kind-pick" });
    const refreshKinds = () => {
      const [s, t] = pick.value.split("|");
      const kinds = kindsFor(state, s, t);
      kind.replaceChildren(...kinds.map((k) => h("option", { value: k }, k.replace("_", " & "))));
      kind.hidden = kinds.length < 2;
    };
    pick.addEventListener("change", refreshKinds);
    refreshKinds();
    const submit = h("button", { type: "button", class: "button small", onclick: () => {
      const [s, t] = pick.value.split("|");
      ctx.createLink(s, t, kind.value);
    } }, "Link");
    return h("div", { class: "connect-form" }, pick, kind, submit);
  }

  async function showNode(key, reloadForm) {
    const node = state.nodes.get(key);
    if (!node) return clear();
    const mine = ++token;
    const status = state.status.get(key);
    const formHost = h("div", { class: "panel-form", id: "canvas-panel-form" });
    const explainHost = h("div", { class: "panel-explain" }, h("p", { class: "muted" }, "Asking the engine…"));
    const keepForm = !reloadForm && shownKey === key ? root.querySelector("#canvas-panel-form") : null;
    fill(
      root,
      h("header", { class: "panel-head" },
        h("span", { class: `kind-chip kind-${node.kind}` }, node.label),
        h("h2", {}, node.name),
        status ? h("span", { class: `status-chip st-${status}` }, STATUS_TEXT[status]) : null),
      problemList(node.problems),
      node.kind === "agent" ? watchSection(state, node) : null,
      keepForm || (state.canEdit ? formHost : null),
      section("Links", linkRows(node), state.canEdit ? connectForm(node) : null),
      explainHost,
      state.canEdit
        ? h("div", { class: "panel-actions" }, h("button", { type: "button", class: "button danger small", onclick: () => ctx.deleteSelection() }, `Delete ${node.name}`))
        : null,
    );
    if (state.canEdit && !keepForm && window.htmx) {
      window.htmx.ajax("GET", api.panelUrl(key), { target: formHost, swap: "innerHTML" });
    }
    shownKey = key;
    try {
      const explained = await api.explainNode(key);
      if (mine !== token) return;
      fill(
        explainHost,
        section("What it creates", resourceList(explained.creates)),
        node.kind === "agent" ? section("Permissions it gets", statementList(explained.statements)) : null,
        node.kind === "agent" ? section("Environment variables", envTable(explained.environment)) : null,
        section(`In AWS now (${state.stage})`, deployedList(explained.deployed, state.deployment && state.deployment.url)),
      );
    } catch (error) {
      if (mine === token) explainHost.replaceChildren(h("p", { class: "form-errors" }, error.message));
    }
  }

  async function showLink(id) {
    const link = state.links.get(id);
    if (!link) return clear();
    const mine = ++token;
    shownKey = null;
    const a = state.nodes.get(link.source);
    const b = state.nodes.get(link.target);
    const explainHost = h("div", { class: "panel-explain" }, h("p", { class: "muted" }, "Asking the engine…"));
    const formHost = state.canEdit ? h("div", { class: "panel-form", id: "canvas-panel-form" }) : null;
    fill(
      root,
      h("header", { class: "panel-head" },
        h("span", { class: "kind-chip" }, "Link"),
        h("h2", {}, `${a ? a.name : link.source} → ${b ? b.name : link.target}`),
        h("span", { class: "muted" }, link.kind.replace("_", " & "))),
      problemList(link.problems),
      formHost,
      explainHost,
      state.canEdit
        ? h("div", { class: "panel-actions" }, h("button", { type: "button", class: "button danger small", onclick: () => ctx.deleteSelection() }, "Delete link"))
        : null,
    );
    if (formHost && window.htmx) {
      window.htmx.ajax("GET", api.linkPanelUrl(id), { target: formHost, swap: "innerHTML" });
    }
    try {
      const explained = await api.explainLink(id);
      if (mine !== token) return;
      fill(
        explainHost,
        section("What it creates", resourceList(explained.resources)),
        section("Permissions it grants", statementList(explained.statements)),
        section("Environment variables it sets", envTable(explained.environment)),
      );
    } catch (error) {
      if (mine === token) explainHost.replaceChildren(h("p", { class: "form-errors" }, error.message));
    }
  }

  // htmx: show a refused form (400) in place, and post the version this tab has now.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (root.contains(event.detail.target) && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (root.contains(event.detail.elt) && event.detail.verb === "post") {
      event.detail.parameters.version = String(state.version);
    }
  });

  return {
    show(selection, reloadForm = false) {
      if (!selection) return clear();
      if (selection.type === "node") return showNode(selection.key, reloadForm);
      return showLink(selection.id);
    },
    focusForm() {
      const form = root.querySelector("#canvas-panel-form form");
      const field = form && (form.querySelector(".has-error :is(input, textarea, select)") || form.elements.namedItem("name"));
      if (field) field.focus();
      return Boolean(field);
    },
  };
}
