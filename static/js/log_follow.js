// Follow mode of an agent's Logs tab: new lines arrive over /ws/logs/<project>/<stage>/<agent>/
// (dashboard/observe/consumers.py) and are appended without a reload. The server polls
// CloudWatch from `after` (the newest line shown, in ms); a reconnect asks from the newest line
// appended since, and a line already shown (same event id) is never shown twice.

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15000;
const REFUSED = new Set([4403, 4404]); // not allowed / not deployed: retrying cannot help

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

function utcTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function row(line, range) {
  const tr = document.createElement("tr");
  tr.className = `log-line level-${line.level.toLowerCase()} is-new`;
  tr.dataset.event = line.event_id;
  let request = "";
  if (line.request_id) {
    request = document.createElement("a");
    request.className = "request-id";
    request.href = `?filter=${encodeURIComponent(line.request_id)}&range=${encodeURIComponent(range)}`;
    request.title = "Only this request's lines";
    request.textContent = line.request_id.slice(0, 8);
  }
  const message = document.createElement("pre");
  message.className = "log-message";
  message.textContent = line.message;
  const time = cell(utcTime(line.at_ms));
  time.className = "nowrap";
  tr.append(time, cell(line.level), cell(request), cell(message));
  return tr;
}

function start(toggle, state) {
  const box = () => document.getElementById("log-lines");
  let after = Number(box().dataset.after || 0);
  let socket = null;
  let timer = 0;
  let retryMs = RETRY_FIRST_MS;
  let wanted = false;
  const range = () => document.getElementById("range")?.value || "1h";

  function show(text) {
    state.textContent = text;
  }

  function append(lines) {
    const body = box().querySelector("#log-body");
    box().querySelector("[data-empty]")?.remove();
    for (const line of lines) {
      if (body.querySelector(`tr[data-event="${CSS.escape(line.event_id)}"]`)) continue;
      body.append(row(line, range()));
      after = Math.max(after, line.at_ms);
    }
    body.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const shown = box().dataset;
    const query = new URLSearchParams({ after: String(after), filter: shown.filter || "", level: shown.level || "" });
    const mine = new WebSocket(`${scheme}://${location.host}${shown.socket}?${query}`);
    socket = mine;
    mine.onopen = () => {
      retryMs = RETRY_FIRST_MS;
      show("following: new lines appear below");
      box().dataset.following = "true";
    };
    mine.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "lines") append(message.lines);
      if (message.type === "error") show(message.message);
    };
    mine.onclose = (event) => {
      if (socket !== mine) return;
      socket = null;
      box().dataset.following = "false";
      if (!wanted) return;
      if (REFUSED.has(event.code)) {
        show(event.code === 4404 ? "not deployed to this stage" : "you may no longer read these lines");
        toggle.checked = wanted = false;
        return;
      }
      show("connection lost: trying again…");
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    };
  }

  function stop() {
    clearTimeout(timer);
    const open = socket;
    socket = null;
    open?.close();
  }

  toggle.addEventListener("change", () => {
    wanted = toggle.checked;
    stop();
    if (wanted) connect();
    else show("");
  });

  // New filters swapped the lines in: follow from their newest line, with their filters.
  document.body.addEventListener("htmx:afterSwap", () => {
    if (!box() || box().dataset.following === "true") return; // not the lines, or still the same
    after = Number(box().dataset.after || 0);
    if (wanted) {
      stop();
      connect();
    }
  });
}

const toggle = document.getElementById("log-follow");
if (toggle && document.getElementById("log-lines")) start(toggle, document.getElementById("log-follow-state"));
