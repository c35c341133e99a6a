// Requests to the canvas endpoints. Edits run one after another, each carrying the
// version the previous one returned, so a tab never trips over its own writes; a 409
// means someone else (or another tab) changed the project.

export class ApiError extends Error {
  constructor(message, status, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

export function createApi(root, state, onStale) {
  const base = root.dataset.baseUrl;
  let chain = Promise.resolve();

  async function parse(response) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = { error: `the server answered ${response.status}` };
    }
    if (response.ok) return body;
    if (response.status === 409) {
      state.stale = true;
      onStale(body.error);
    }
    throw new ApiError(body.error || `the server answered ${response.status}`, response.status, body.field);
  }

  async function get(path, params = {}) {
    const query = new URLSearchParams({ stage: state.stage, ...params });
    const response = await fetch(`${base}${path}?${query}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    return parse(response);
  }

  // POST JSON with the current version; queued behind earlier edits.
  function edit(path, body = {}) {
    const run = async () => {
      if (state.stale) throw new ApiError("reload the page first: the project changed elsewhere", 409);
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ ...body, version: state.version }),
      });
      const answer = await parse(response);
      if (typeof answer.version === "number") state.version = answer.version;
      return answer;
    };
    const result = chain.then(run, run);
    chain = result.catch(() => undefined);
    return result;
  }

  const enc = encodeURIComponent;
  return {
    state: () => get("state/"),
    explainNode: (key) => get(`nodes/${enc(key)}/explain/`),
    explainLink: (id) => get(`links/${id}/explain/`),
    panelUrl: (key) => `${base}nodes/${enc(key)}/panel/`,
    addNode: (kind, x, y, extra = {}) => edit("nodes/", { kind, x, y, ...extra }),
    moveNodes: (moves) => edit("nodes/move/", { moves }),
    updateNode: (key, data) => edit(`nodes/${enc(key)}/update/`, { data }),
    deleteNode: (key) => edit(`nodes/${enc(key)}/delete/`),
    addLink: (source, target, kind, settings) => edit("links/", { source, target, kind, settings }),
    linkPanelUrl: (id) => `${base}links/${id}/panel/`,
    deleteLink: (id) => edit(`links/${id}/delete/`),
    deploy: (stage) => edit(`stages/${enc(stage)}/deploy/`),
  };
}
