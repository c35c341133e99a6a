// The browser's copy of the canvas. The server's JSON (GET canvas/state/) replaces it
// after every structural edit; only positions change here first (while dragging).

export function createState(canEdit) {
  return {
    project: "",
    version: 0,
    canEdit,
    stage: "",
    stages: [],
    rules: {},
    nodes: new Map(), // key -> node JSON (key, kind, label, name, x, y, summary, problems, advice, resources, data)
    links: new Map(), // id -> link JSON (id, key, source, target, kind, problems)
    resources: {}, // logical id -> node key: how deploy events find their node
    problems: [],
    deployment: null,
    selected: null, // {type: "node", key} | {type: "link", id}
    view: { x: 40, y: 30, k: 1 },
    status: new Map(), // node key -> pending | progress | done | failed | drifted
    stale: false,
  };
}

export function applyServerState(state, data) {
  state.project = data.project;
  state.version = data.version;
  state.canEdit = data.can_edit;
  state.stage = data.stage;
  state.stages = data.stages;
  state.rules = data.rules;
  state.resources = data.resources;
  state.problems = data.problems;
  state.deployment = data.deployment;
  state.nodes = new Map(data.nodes.map((node) => [node.key, node]));
  state.links = new Map(data.links.map((link) => [link.id, link]));
  const sel = state.selected;
  if (sel && ((sel.type === "node" && !state.nodes.has(sel.key)) || (sel.type === "link" && !state.links.has(sel.id)))) {
    state.selected = null;
  }
}

export function linksOf(state, key) {
  const found = [];
  for (const link of state.links.values()) {
    if (link.source === key || link.target === key) found.push(link);
  }
  return found;
}

export function linkBetween(state, source, target) {
  for (const link of state.links.values()) {
    if (link.source === source && link.target === target) return link;
  }
  return null;
}

export function nodeKind(key) {
  return key.split(":", 1)[0];
}

// The link kinds the engine allows between two nodes (from the server's table), default first.
export function kindsFor(state, source, target) {
  return state.rules[`${nodeKind(source)}>${nodeKind(target)}`] || [];
}
