// Live deploy colours: the same websocket as the deployment page
// (/ws/deployments/<id>/?after=<seq>, see dashboard/runs/consumers.py). Every event names a
// resource's logical id; the canvas state maps it to the node it came from. A node is
// failed if any of its resources failed, in progress while any is working, done when
// the run ended well (resources left unchanged send no events), pending otherwise.

import { RUN_FINAL, followRun } from "../run_socket.js";

export function createLive(state, onChange) {
  let follower = null;
  let run = null; // {id, kind, status, ws, url}
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

  function receive(event) {
    if (event.resource && event.status !== "info") resourceStatus.set(event.resource, event.status);
    if (event.resource == null && event.status === "started") run.status = "RUNNING";
    publishSoon();
  }

  function ended(status) {
    run.status = status;
    publishSoon();
  }

  return {
    // Follow a run (null: none). Following the same run again keeps what was received.
    follow(next) {
      if (next && run && next.id === run.id) {
        publish();
        return;
      }
      follower?.close();
      follower = null;
      run = next ? { ...next } : null;
      resourceStatus.clear();
      publish();
      if (run) follower = followRun(run.ws, { onEvent: receive, onFinal: ended });
    },
    recolour: publish,
  };
}
