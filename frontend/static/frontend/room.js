// Room page: live chat over the v1 websocket protocol (docs/protocol.md).
// The client keeps what it has sent until the server acknowledges it, remembers the highest
// sequence number it has everything up to, and after any reconnect or silent gap asks the
// server for exactly what it missed.

const root = document.getElementById("room");
const slug = root.dataset.slug;
const list = document.getElementById("messages");
const announcer = document.getElementById("announcer");
const stateEl = document.getElementById("connection-state");
const form = document.getElementById("composer");
const input = document.getElementById("composer-input");
const errorEl = document.getElementById("composer-error");
const loadEarlier = document.getElementById("load-earlier");
const presenceList = document.getElementById("presence-list");
const presenceCount = document.getElementById("presence-count");

const ROLE_LABELS = { peer_supporter: "Peer supporter", moderator: "Moderator", admin: "Admin" };
// Close codes after which reconnecting would not help; each gets a plain explanation.
const FINAL_CLOSES = {
  4401: "Your visit has expired. Reload the page to continue.",
  4404: "This room doesn't exist or is closed.",
  4409: "This room is full right now, so the group can stay small. Please try another room or come back soon.",
  4410: "Your handle and messages have been erased.",
  4429: "You have this chat open in too many tabs. Close one, then reload this page.",
};
const OUTBOX_KEY = `hearth:outbox:${slug}`;

let ws = null;
let me = null;
let heartbeatSeconds = 20;
let caughtUpTo = null;     // every seq <= this is shown or no longer exists
let firstHead = null;      // head_seq of the first welcome: the recent history is below it
let historyLoaded = false; // the recent history has arrived (asked again after a reconnect)
let lowestSeq = null;      // oldest message on screen, for "load earlier"
let resumeInFlight = false;
let attempt = 0;
let reconnectTimer = null;
let silenceTimer = null;
let closedForGood = false;
const shown = new Map();   // seq -> <li>
const outbox = new Map(loadOutbox()); // client_id -> body, until acknowledged

function loadOutbox() {
  try { return JSON.parse(sessionStorage.getItem(OUTBOX_KEY) || "[]"); } catch { return []; }
}
function saveOutbox() {
  try { sessionStorage.setItem(OUTBOX_KEY, JSON.stringify([...outbox])); } catch { /* private mode */ }
}

function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function setState(state, text) {
  stateEl.dataset.state = state;
  stateEl.textContent = text;
}

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

// --- connection -------------------------------------------------------------------------
function connect() {
  clearTimeout(reconnectTimer);
  if (closedForGood) return;
  if (caughtUpTo !== null) setState("reconnecting", "Reconnecting…");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}${root.dataset.wsPath}`);
  const socket = ws;
  socket.addEventListener("message", (event) => { if (socket === ws) onFrame(event.data); });
  socket.addEventListener("close", (event) => { if (socket === ws) onClose(event); });
  socket.addEventListener("open", () => { if (socket === ws) watchSilence(); });
}

function onClose(event) {
  clearTimeout(silenceTimer);
  ws = null;
  resumeInFlight = false;
  if (FINAL_CLOSES[event.code]) {
    closedForGood = true;
    setState("closed", FINAL_CLOSES[event.code]);
    return;
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  if (closedForGood) return;
  clearTimeout(reconnectTimer);
  if (!navigator.onLine) {
    setState("offline", "You're offline. We'll reconnect when you're back.");
    return; // the "online" event reconnects
  }
  // Exponential backoff with jitter, so a restarted server is not hit by everyone at once.
  const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  attempt += 1;
  setState("reconnecting", "Reconnecting…");
  reconnectTimer = setTimeout(connect, delay);
}

function dropConnection() {
  if (ws) {
    const old = ws;
    ws = null;
    try { old.close(); } catch { /* already closing */ }
    onClose({ code: 1006 });
  }
}

// A connected socket that hears nothing (not even a heartbeat) is dead: phones sleep.
function watchSilence() {
  clearTimeout(silenceTimer);
  silenceTimer = setTimeout(dropConnection, heartbeatSeconds * 2500);
}

window.addEventListener("online", () => { attempt = 0; if (!ws) connect(); });
window.addEventListener("offline", () => {
  dropConnection();
  setState("offline", "You're offline. We'll reconnect when you're back.");
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !ws && !closedForGood) { attempt = 0; connect(); }
});

// --- frames -----------------------------------------------------------------------------
function onFrame(text) {
  watchSilence();
  let frame;
  try { frame = JSON.parse(text); } catch { return; }
  switch (frame.type) {
    case "welcome": return onWelcome(frame);
    case "message": return onMessage(frame, true);
    case "ack": return onAck(frame);
    case "history": return onHistory(frame);
    case "resumed": return onResumed(frame);
    case "heartbeat": return onHeartbeat(frame);
    case "presence": return renderPresence(frame);
    case "message_removed": return onRemoved(frame);
    case "error": return onError(frame);
    default: return undefined; // newer server, older page: ignore what we don't know
  }
}

function onWelcome(frame) {
  attempt = 0;
  me = frame.you;
  heartbeatSeconds = frame.limits.heartbeat_seconds;
  watchSilence();
  setState("connected", "Connected");
  renderPresence(frame.presence);
  if (caughtUpTo === null) {
    caughtUpTo = frame.head_seq;
    firstHead = frame.head_seq;
  } else {
    requestResume();
  }
  // Asked on every welcome until it arrives: a connection can drop before the answer does.
  if (!historyLoaded) send({ type: "history", before_seq: firstHead + 1, limit: 50 });
  for (const [clientId, body] of outbox) send({ type: "send", client_id: clientId, body });
}

function requestResume() {
  if (resumeInFlight || caughtUpTo === null) return;
  resumeInFlight = send({ type: "resume", after_seq: caughtUpTo });
}

function advance() {
  while (shown.has(caughtUpTo + 1)) caughtUpTo += 1;
}

function isMine(frame) {
  return Boolean(me) && frame.handle === me.handle;
}

function onMessage(frame, live) {
  if (shown.has(frame.seq)) return;
  const mine = isMine(frame);
  insertMessage(frame, mine);
  if (live && caughtUpTo !== null) {
    if (frame.seq > caughtUpTo + 1) requestResume(); // a broadcast went missing
    advance();
    if (!mine) announce(`${frame.handle}: ${frame.body}`);
  }
}

function onHistory(frame) {
  for (const message of frame.messages) onMessage(message, false);
  if (frame.before_seq === firstHead + 1) historyLoaded = true;
  if (!frame.messages.length || frame.messages[0].seq === lowestSeq) {
    loadEarlier.hidden = !frame.has_more;
  }
  list.dataset.loaded = "true";
  advance();
}

function onResumed(frame) {
  resumeInFlight = false;
  caughtUpTo = Math.max(caughtUpTo, frame.through_seq);
  advance();
  // A send the server acknowledged but whose message is gone by now (erased) stops waiting.
  for (const li of list.querySelectorAll("li.pending[data-acked-seq]")) {
    const seq = Number(li.dataset.ackedSeq);
    if (seq <= caughtUpTo && !shown.has(seq)) li.remove();
  }
  if (frame.has_more || frame.head_seq > caughtUpTo) requestResume();
}

function onHeartbeat(frame) {
  if (caughtUpTo !== null && frame.head_seq > caughtUpTo) requestResume();
}

function pendingFor(clientId) {
  return list.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);
}

function onAck(frame) {
  outbox.delete(frame.client_id);
  saveOutbox();
  const pending = pendingFor(frame.client_id);
  if (shown.has(frame.seq)) {
    if (pending) pending.remove();
    return;
  }
  // Stored, but its message frame is still on the way: the "Sending…" line stays until the
  // message itself replaces it, so it never disappears or shows twice in between.
  if (pending) {
    pending.dataset.ackedSeq = String(frame.seq);
    pending.querySelector(".msg-status").textContent = "Sent";
  }
  setTimeout(() => { if (!shown.has(frame.seq)) requestResume(); }, 1000);
}

function onRemoved(frame) {
  for (const seq of frame.seqs) {
    const li = shown.get(seq);
    if (li) { li.remove(); shown.delete(seq); }
  }
}

function onError(frame) {
  if (frame.client_id && outbox.has(frame.client_id)) {
    if (frame.code === "rate_limited" || frame.code === "internal_error") {
      // Still ours to deliver: try again when the server says we may.
      const wait = (frame.retry_after || 2) * 1000;
      const body = outbox.get(frame.client_id);
      setTimeout(() => send({ type: "send", client_id: frame.client_id, body }), wait);
      showError(frame.detail);
      return;
    }
    outbox.delete(frame.client_id);
    saveOutbox();
    const pending = pendingFor(frame.client_id);
    if (pending) {
      pending.classList.add("failed");
      pending.querySelector(".msg-status").textContent = "Not sent";
    }
  } else if (frame.code === "rate_limited" && frame.retry_after) {
    setTimeout(requestResume, frame.retry_after * 1000);
    resumeInFlight = false;
  }
  showError(frame.detail);
}

function showError(text) {
  errorEl.textContent = text;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { errorEl.textContent = ""; }, 8000);
}

// --- rendering --------------------------------------------------------------------------
function timeLabel(iso) {
  const date = new Date(iso);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function authorLine(handle, role, sentAt) {
  const line = document.createElement("p");
  line.className = "msg-meta";
  const name = document.createElement("span");
  name.className = "msg-handle";
  name.textContent = handle;
  line.append(name);
  if (ROLE_LABELS[role]) {
    const badge = document.createElement("span");
    badge.className = `badge role-${role}`;
    badge.textContent = ROLE_LABELS[role];
    line.append(" ", badge);
  }
  if (sentAt) {
    const time = document.createElement("time");
    time.dateTime = sentAt;
    time.textContent = timeLabel(sentAt);
    line.append(" ", time);
  }
  return line;
}

function insertMessage(frame, mine) {
  const li = document.createElement("li");
  li.className = "message";
  li.id = `m-${frame.seq}`;
  li.dataset.seq = String(frame.seq);
  if (mine) li.classList.add("mine");
  li.append(authorLine(frame.handle, frame.role, frame.sent_at));
  const body = document.createElement("div");
  body.className = "msg-body";
  body.innerHTML = frame.html; // server-made by chat/rendering.py: escaped, links only
  li.append(body);
  shown.set(frame.seq, li);
  lowestSeq = lowestSeq === null ? frame.seq : Math.min(lowestSeq, frame.seq);
  // Keep the list in seq order; pending sends stay at the end.
  let before = null;
  for (const other of list.children) {
    if (other.classList.contains("pending") || Number(other.dataset.seq) > frame.seq) {
      before = other;
      break;
    }
  }
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  // One of ours that was waiting as "Sending…" (acknowledged or not: the ack can be lost with
  // a connection, the message then comes by resume): swap it for the delivered message in the
  // same step, so it is never shown twice and never missing.
  const pending = mine && frame.client_id ? pendingFor(frame.client_id) : null;
  if (pending) {
    outbox.delete(frame.client_id);
    saveOutbox();
    if (pending === before) before = pending.nextElementSibling;
    pending.remove();
  }
  list.insertBefore(li, before);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function insertPending(clientId, body) {
  const li = document.createElement("li");
  li.className = "message mine pending";
  li.dataset.clientId = clientId;
  li.append(authorLine(me ? me.handle : "You", me ? me.role : "member", null));
  const text = document.createElement("div");
  text.className = "msg-body";
  text.textContent = body;
  const status = document.createElement("p");
  status.className = "msg-status";
  status.textContent = "Sending…";
  li.append(text, status);
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function renderPresence(presence) {
  presenceCount.textContent = String(presence.count);
  presenceList.replaceChildren(...presence.members.map((person) => {
    const li = document.createElement("li");
    li.textContent = person.handle;
    if (ROLE_LABELS[person.role]) {
      const badge = document.createElement("span");
      badge.className = `badge role-${person.role}`;
      badge.textContent = ROLE_LABELS[person.role];
      li.append(" ", badge);
    }
    return li;
  }));
}

let announceBuffer = [];
function announce(text) {
  // Batch bursts so a screen reader is not flooded: one announcement per half second.
  announceBuffer.push(text);
  if (announceBuffer.length > 1) return;
  setTimeout(() => {
    const items = announceBuffer;
    announceBuffer = [];
    announcer.textContent = items.length > 3 ? `${items.length} new messages` : items.join(". ");
  }, 500);
}

// --- composer ---------------------------------------------------------------------------
function submit() {
  const body = input.value;
  if (!body.trim()) { showError("Your message is empty."); return; }
  const clientId = newClientId();
  outbox.set(clientId, body);
  saveOutbox();
  insertPending(clientId, body);
  input.value = "";
  send({ type: "send", client_id: clientId, body }); // if offline, sent after the next welcome
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
  input.focus(); // after a click on Send, keep typing where you were
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
loadEarlier.addEventListener("click", () => {
  if (lowestSeq !== null) send({ type: "history", before_seq: lowestSeq, limit: 50 });
});

for (const [clientId, body] of outbox) insertPending(clientId, body);
connect();
