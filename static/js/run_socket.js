// One client for a run's live events: /ws/deployments/<id>/?after=<seq> (dashboard/runs/consumers.py).
//
// The server replays what came after `after`, then streams. This client keeps the last seq
// it handed on, so a reconnect (with backoff) asks only for what was missed and no event is
// handed on twice. It stops for good once the run has ended or the server refuses (4403).

export const RUN_FINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10000;
const CLOSE_FORBIDDEN = 4403; // "you may not watch this run": retrying cannot help

// The run's final status from a message that ends it (the closing message, or a
// deployment-level event whose status is final); null for everything else.
export function finalStatus(message) {
  const status = String(message.status || "").toUpperCase();
  const runLevel = message.type === "deployment" || (message.resource == null && "seq" in message);
  return runLevel && RUN_FINAL.has(status) ? status : null;
}

// Follow one run. `onEvent(event)` gets each stored event once, in seq order;
// `onFinal(status)` once when the run ends; `onConnection(state)` gets "live",
// "reconnecting" or "forbidden". Returns {close()}.
export function followRun(path, { after = 0, onEvent, onFinal = () => {}, onConnection = () => {} }) {
  let lastSeq = after;
  let retryMs = RETRY_FIRST_MS;
  let socket = null;
  let timer = 0;
  let done = false;

  function receive(message) {
    if (typeof message.seq === "number") {
      if (message.seq <= lastSeq) return; // already handed on
      lastSeq = message.seq;
      onEvent(message);
    }
    const status = finalStatus(message);
    if (status) end(status);
  }

  function end(status) {
    if (done) return;
    done = true;
    if (socket) socket.close();
    onFinal(status);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const mine = new WebSocket(`${scheme}://${location.host}${path}?after=${lastSeq}`);
    socket = mine;
    mine.addEventListener("open", () => {
      retryMs = RETRY_FIRST_MS;
      onConnection("live");
    });
    mine.addEventListener("message", (message) => {
      if (socket === mine) receive(JSON.parse(message.data));
    });
    mine.addEventListener("close", (event) => {
      if (socket !== mine || done) return;
      if (event.code === CLOSE_FORBIDDEN) {
        onConnection("forbidden");
        return;
      }
      onConnection("reconnecting");
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    });
  }

  connect();
  return {
    close() {
      done = true;
      clearTimeout(timer);
      if (socket) {
        const old = socket;
        socket = null;
        old.close();
      }
    },
  };
}
