// Live deploy colours: the same websocket as the deployment page
// (/ws/deployments/<id>/?after=<seq>, see dashboard/consumers.py). Every event names a
// resource's logical id; the canvas state maps it to the node it came from. A node is
// failed if any of its resources failed, in progress while any is working, done when
// the run ended well (resources left unchanged send no events), pending otherwise.

const RUN_FINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
const CLOSE_FORBIDDEN = 4403;

export function createLive(state, onChange) {
  let socket = null;
  let run = null; // {id, kind, status, ws, url}
  let lastSeq = 0;
  let retryMs = RETRY_FIRST_MS;
  let timer = 0;
  const resourceStatus = new Map(); // logical id -> started | succeeded | failed | skipped | drifted
  let counts = { done: 0, total: 0 };

  function nodeStatus() {
    const byNode = new Map();
    for (const [rid, status] of resourceStatus) {
      const key = state.resources[rid];
      if (!key) continue;
      (byNode.get(key) || byNode.set(key, []).get(key)).push(status);
    }
    const active = run && !RUN_FINAL.has(run.status);
    const ended = run && RUN_FINAL.has(run.status);
    state.status = new Map();
    for (const node of state.nodes.values()) {
      const seen = byNode.get(node.key) || [];
      let status = "";
      if (!run) status = "";
      else if (seen.includes("failed")) status = "failed";
      else if (seen.includes("drifted")) status = "drifted";
      else if (active) {
        const finished = seen.length >= node.resources.length && seen.every((s) => s === "succeeded");
        status = seen.includes("started") || (seen.length && !finished) ? "progress" : finished ? "done" : "pending";
      } else if (ended && run.kind !== "destroy" && (seen.length || node.deployed)) {
        status = seen.includes("started") || seen.includes("skipped") ? "pending" : "done";
      }
      // The last refresh found AWS changed behind the project's back (server-side drift).
      if (node.drifted && status !== "failed" && status !== "progress") status = "drifted";
      if (status) state.status.set(node.key, status);
    }
  }

  function publish() {
    nodeStatus();
    const finished = [...resourceStatus.values()].filter((s) => s !== "started").length;
    counts = { done: finished, total: resourceStatus.size };
    onChange(run, counts);
  }

  // A replay sends hundreds of events at once: recolour once per frame, not per event.
  let queued = false;
  function publishSoon() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      publish();
    });
  }

  function receive(message) {
    if (typeof message.seq === "number") {
      if (message.seq <= lastSeq) return;
      lastSeq = message.seq;
      if (message.resource && message.status !== "info") resourceStatus.set(message.resource, message.status);
      if (message.resource == null && RUN_FINAL.has(String(message.status).toUpperCase())) {
        run.status = String(message.status).toUpperCase();
      } else if (message.resource == null && message.status === "started") {
        run.status = "RUNNING";
      }
    } else if (message.type === "deployment" && RUN_FINAL.has(message.status)) {
      run.status = message.status;
      if (socket) socket.close();
    }
    publishSoon();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const mine = new WebSocket(`${scheme}://${location.host}${run.ws}?after=${lastSeq}`);
    socket = mine;
    mine.addEventListener("open", () => {
      retryMs = RETRY_FIRST_MS;
    });
    mine.addEventListener("message", (message) => {
      if (socket === mine) receive(JSON.parse(message.data));
    });
    mine.addEventListener("close", (event) => {
      if (socket !== mine || RUN_FINAL.has(run.status) || event.code === CLOSE_FORBIDDEN) return;
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
  }

  return {
    // Follow a run (null: none). Following the same run again keeps what was received.
    follow(next) {
      if (next && run && next.id === run.id) {
        publish();
        return;
      }
      if (socket) {
        const old = socket;
        socket = null;
        old.close();
      }
      clearTimeout(timer);
      run = next ? { ...next } : null;
      lastSeq = 0;
      resourceStatus.clear();
      publish();
      if (run) connect();
    },
    recolour: publish,
  };
}
