// Room page: live chat over the v1 websocket protocol (docs/protocol.md).
// The client keeps what it has sent until the server acknowledges it, remembers the highest
// sequence number it has everything up to, and after any reconnect or silent gap asks the
// server for exactly what it missed. Before the first message a member reads and accepts the
// room's ground rules; whatever screening or a moderator decides is explained in a notice, and
// nothing the person typed is ever thrown away.

import { AsideConversation, backoffDelay, el, newClientId, sendFrame, servedProtocol,
  setConnectionState, socketUrl } from "./common.js";
import { Outbox, SeqTracker } from "./delivery.js";
import { SessionUI } from "./session.js";

const { FRAME, ERROR } = servedProtocol();

const root = document.getElementById("room");
const slug = root.dataset.slug;
const list = document.getElementById("messages");
const announcer = document.getElementById("announcer");
const stateEl = document.getElementById("connection-state");
const form = document.getElementById("composer");
const input = document.getElementById("composer-input");
const sendButton = document.getElementById("composer-send");
const hintEl = document.getElementById("composer-hint");
const pausedEl = document.getElementById("composer-paused");
const errorEl = document.getElementById("composer-error");
const loadEarlier = document.getElementById("load-earlier");
const presenceList = document.getElementById("presence-list");
const presenceCount = document.getElementById("presence-count");
const noticesPolite = document.getElementById("notices-polite");
const noticesUrgent = document.getElementById("notices-urgent");
const rulesPanel = document.getElementById("rules-panel");
const rulesGroups = document.getElementById("rules-groups");
const rulesChanged = document.getElementById("rules-changed");
const rulesIntro = document.getElementById("rules-intro");
const rulesAccept = document.getElementById("rules-accept");
const rulesClose = document.getElementById("rules-close");
const rulesError = document.getElementById("rules-error");
const rulesToggle = document.getElementById("rules-toggle");
const mutedSection = document.getElementById("muted-section");
const mutedList = document.getElementById("muted-list");
const reportDialog = document.getElementById("report-dialog");
const reportForm = document.getElementById("report-form");
const reportAsk = document.getElementById("report-ask");
const reportDone = document.getElementById("report-done");
const reportQuote = document.getElementById("report-quote");
const reportWho = document.getElementById("report-who");
const reportNote = document.getElementById("report-note");
const reportError = document.getElementById("report-error");
const reportSend = document.getElementById("report-send");
const reportReceipt = document.getElementById("report-receipt");
const supportCard = document.getElementById("support-card");
const supportTitle = document.getElementById("support-title");
const supportBody = document.getElementById("support-body");
const supportHelpline = document.getElementById("support-helpline");
const supportRegion = document.getElementById("support-region");
const supportEmergency = document.getElementById("support-emergency");
const supportAsk = document.getElementById("support-ask");
const supportMore = document.getElementById("support-more");
const supportClose = document.getElementById("support-close");
const supportRequested = document.getElementById("support-requested");
const supportError = document.getElementById("support-error");
const staffingEl = document.getElementById("staffing");
const staffingDetail = document.getElementById("staffing-detail");
const staffingHelpline = document.getElementById("staffing-helpline");
const asidesEl = document.getElementById("asides");

const ROLE_LABELS = { peer_supporter: "Peer supporter", moderator: "Moderator", admin: "Admin" };
// Close codes after which reconnecting would not help, each with a plain explanation: from
// the server (chat/protocol.py, ROOM_FINAL_CLOSES), served with the page.
const FINAL_CLOSES = JSON.parse(document.getElementById("final-closes").textContent);
// Notices from moderation: a plain heading for each kind; the urgent ones interrupt.
const NOTICE_TITLES = {
  masked: "Part of your message was hidden",
  held: "Your message is waiting for a moderator",
  collapsed: "Only you can see your message for now",
  blocked: "Your message wasn't posted",
  hidden: "A moderator hid one of your messages",
  restored: "Your message is back",
  warning: "A friendly reminder from a moderator",
  timeout: "Posting is paused for a while",
  ban: "Posting has been stopped",
};
const URGENT_NOTICES = new Set(["blocked", "hidden", "timeout", "ban"]);
const APPEALABLE = new Set(["hidden", "warning", "timeout", "ban"]);
const REPORT_ERRORS = new Set([ERROR.message_not_found, ERROR.already_reported, ERROR.cannot_report_self,
  ERROR.note_too_long, ERROR.invalid_field]);
const ASIDE_ERRORS = new Set([ERROR.aside_not_found, ERROR.aside_closed]);
// A hosted session refused a message: the text goes back in the box with the reason.
const SESSION_SEND_ERRORS = new Set([ERROR.not_your_turn, ERROR.session_paused, ERROR.slow_mode]);
// Shown to everyone but the author while a moderator looks (safe-messaging guidance).
const COLLAPSED_TEXT = "This message is waiting for a moderator";
const STATUS_NOTES = {
  held: "Waiting for a moderator. Only you can see this for now.",
  collapsed: "Only you can see this until a moderator looks.",
};
const HINT_TEXT = hintEl.textContent;
const MAX_NOTICES = 4;
const OUTBOX_KEY = `hearth:outbox:${slug}`;

let ws = null;
let me = null;
let heartbeatSeconds = 20;
let historyLoaded = false; // the recent history has arrived (asked again after a reconnect)
let lowestSeq = null;      // oldest message on screen, for "load earlier"
let attempt = 0;
let reconnectTimer = null;
let silenceTimer = null;
let closedForGood = false;
let rules = null;          // {version, accepted, rules} from welcome / rules
let acceptWanted = null;   // "I agree" was pressed for this version; sent once connected
let pausedUntil = 0;       // a moderator's timeout: posting comes back at this time (ms)
let pauseTimer = null;
let reportTarget = null;   // {seq, handle} while the report dialog is open
let reportInFlight = false;
let staffing = null;       // {staffed_only, on_duty, open, detail, helpline} from welcome / staffing
let support = null;        // the last support frame: its seq, regions and helpline
let askInFlight = false;
let supportWaiting = false; // a set_region or ask_for_support awaits its answer
const asides = new Map();  // aside id -> AsideConversation (this member's side only)
const shown = new Map();   // seq -> <li>
// Seqs taken from the room live; a live frame for one comes back only when a moderator
// released it (`released`): a removal can overtake the message's own frame.
const removedLive = new Set();
// What is on screen up to which seq, and when to ask for what was missed (delivery.js).
const seqs = new SeqTracker((seq) => shown.has(seq));
const outbox = new Outbox(OUTBOX_KEY, tabStorage()); // client_id -> body, until acknowledged
const muted = new Set(Array.from(mutedList.querySelectorAll("li"), (li) => li.dataset.handle));
const session = new SessionUI({
  slug,
  send: (frame) => send(frame),
  announce: (text) => announce(text),
  updateComposer: () => updateComposer(),
  focusComposer: () => focusComposer(),
  // The sharer's latest message on screen: what a reaction answers.
  sharerMessageSeq: (handle) => {
    const items = [...list.querySelectorAll("li.message[data-seq]")]
      .filter((li) => li.dataset.handle === handle && !li.hidden);
    return items.length ? Number(items[items.length - 1].dataset.seq) : null;
  },
  messageItem: (seq) => shown.get(seq) || null,
});

function tabStorage() {
  try {
    return sessionStorage;
  } catch { // storage refused (a sandboxed frame): unsent messages last as long as the page
    return { getItem: () => null, setItem: () => {} };
  }
}

function setState(state, text) {
  setConnectionState(stateEl, state, text);
}

function send(frame) {
  return sendFrame(ws, frame);
}


function rulesAccepted() {
  return !rules || rules.accepted;
}

// --- connection -------------------------------------------------------------------------
// A visitor gets a handle when they join a room, not when they look at a page: the room's
// socket needs one, so it is asked for just before the first connect.
const composerHandle = document.getElementById("composer-handle");
let joining = false;

function showHandle(handle) {
  composerHandle.textContent = handle;
  const youItem = document.getElementById("you-item");
  if (!youItem) return;
  youItem.querySelector(".handle").textContent = handle;
  youItem.hidden = false;
}

async function joinThenConnect() {
  if (joining) return;
  joining = true;
  let response = null;
  let answer = {};
  try {
    response = await fetch(root.dataset.joinUrl, {
      method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
    });
    answer = await response.json();
  } catch {
    // Offline or a blip: tried again like a reconnect.
  } finally {
    joining = false;
  }
  if (response && response.ok && answer.handle) {
    root.dataset.hasHandle = "true";
    showHandle(answer.handle);
    connect();
  } else if (response && response.status === 429) {
    closedForGood = true;
    setState("closed", answer.detail || "Please wait a few minutes, then reload this page.");
    updateComposer();
  } else {
    scheduleReconnect();
  }
}

function connect() {
  clearTimeout(reconnectTimer);
  if (closedForGood) return;
  if (root.dataset.hasHandle !== "true") {
    joinThenConnect();
    return;
  }
  if (seqs.caughtUpTo !== null) setState("reconnecting", "Reconnecting…");
  ws = new WebSocket(socketUrl(root.dataset.wsPath));
  const socket = ws;
  socket.addEventListener("message", (event) => { if (socket === ws) onFrame(event.data); });
  socket.addEventListener("close", (event) => { if (socket === ws) onClose(event); });
  socket.addEventListener("open", () => { if (socket === ws) watchSilence(); });
}

function onClose(event) {
  clearTimeout(silenceTimer);
  ws = null;
  seqs.resumeEnded();
  if (FINAL_CLOSES[event.code]) {
    closedForGood = true;
    setState("closed", FINAL_CLOSES[event.code]);
    updateComposer();
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
  const delay = backoffDelay(attempt);
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

// A fresh welcome carries the current ground rules: used when they change.
function reconnectNow() {
  dropConnection();
  attempt = 0;
  clearTimeout(reconnectTimer);
  connect();
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
    case FRAME.welcome: return onWelcome(frame);
    case FRAME.message: return onMessage(frame, true);
    case FRAME.ack: return onAck(frame);
    case FRAME.history: return onHistory(frame);
    case FRAME.resumed: return onResumed(frame);
    case FRAME.heartbeat: return onHeartbeat(frame);
    case FRAME.presence: return renderPresence(frame);
    case FRAME.message_removed: return onRemoved(frame);
    case FRAME.error: return onError(frame);
    case FRAME.rules: return onRules(frame);
    case FRAME.rules_changed: return onRulesChanged(frame);
    case FRAME.notice: return showNotice(frame);
    case FRAME.report_received: return onReportReceived(frame);
    case FRAME.muted: return onMuted(frame);
    case FRAME.support: return onSupport(frame);
    case FRAME.helpline: return onHelpline(frame);
    case FRAME.support_requested: return onSupportRequested(frame);
    case FRAME.still_reaching: return onStillReaching(frame);
    case FRAME.staffing: return setStaffing(frame);
    case FRAME.take_aside_invite:
    case FRAME.take_aside_state: return onAsideState(frame);
    case FRAME.take_aside_message: return onAsideMessage(frame);
    case FRAME.take_aside_ack: return onAsideAck(frame);
    default:
      // Hosted sessions' frames; anything else is from a newer server: ignored.
      session.onFrame(frame);
      return undefined;
  }
}

function onWelcome(frame) {
  attempt = 0;
  me = frame.you;
  showHandle(me.handle);
  heartbeatSeconds = frame.limits.heartbeat_seconds;
  watchSilence();
  setState("connected", "Connected");
  renderPresence(frame.presence);
  if (frame.rules) setRules(frame.rules);
  if (frame.staffing) setStaffing(frame.staffing);
  if (frame.asides) restoreAsides(frame.asides);
  session.welcome(frame);
  if (seqs.welcome(frame.head_seq)) requestResume();
  // Asked on every welcome until it arrives: a connection can drop before the answer does.
  if (!historyLoaded) send({ type: "history", before_seq: seqs.firstHead + 1, limit: 50 });
  if (!rulesAccepted() && acceptWanted === rules.version) {
    send({ type: "accept_rules", version: rules.version });
  }
  flushOutbox();
}

function flushOutbox() {
  if (!rulesAccepted()) return; // sent once the rules are accepted
  for (const [clientId, body] of outbox) send({ type: "send", client_id: clientId, body });
}

function requestResume() {
  const after = seqs.resumeFrom();
  if (after === null) return;
  seqs.resumeSent(send({ type: "resume", after_seq: after }));
}

function isMine(frame) {
  return Boolean(me) && frame.handle === me.handle;
}

function onMessage(frame, live) {
  if (live && removedLive.has(frame.seq) && !frame.released) return;
  const existing = shown.get(frame.seq);
  if (existing) {
    // The same message again with a new status: a held or collapsed message a moderator let
    // through. Only a release (or a history read, which says what is so now) uncovers it: a
    // placeholder can overtake the message's own first frame.
    if (existing.dataset.collapsed && !frame.collapsed && frame.status !== "collapsed"
        && (frame.released || !live)) {
      existing.querySelector(":scope > .msg-body").innerHTML = frame.html; // server-made
      delete existing.dataset.collapsed;
      existing.classList.remove("collapsed");
    } else if (!existing.dataset.collapsed && collapsedForMe(frame, isMine(frame))) {
      // Details of a method noticed after it was shown (the learned detector reads a message
      // moments after it is delivered): a placeholder now, as if collapsed from the start.
      existing.querySelector(":scope > .msg-body").textContent = COLLAPSED_TEXT;
      existing.dataset.collapsed = "1";
      existing.classList.add("collapsed");
    }
    setStatus(existing, frame.status);
    if (!STATUS_NOTES[frame.status]) clearHeldNotice(frame.seq);
    return;
  }
  const mine = isMine(frame);
  insertMessage(frame, mine);
  if (live && seqs.caughtUpTo !== null) {
    if (seqs.liveMessage(frame.seq)) requestResume(); // a broadcast went missing
    if (!mine && !muted.has(frame.handle)) {
      announce(`${frame.handle}: ${collapsedForMe(frame, mine) ? COLLAPSED_TEXT : frame.body}`);
    }
  }
}

function onHistory(frame) {
  for (const message of frame.messages) onMessage(message, false);
  if (frame.before_seq === seqs.firstHead + 1) historyLoaded = true;
  if (!frame.messages.length || frame.messages[0].seq === lowestSeq) {
    loadEarlier.hidden = !frame.has_more;
  }
  list.dataset.loaded = "true";
  seqs.advance();
}

function onResumed(frame) {
  const again = seqs.resumed(frame.through_seq, frame.has_more, frame.head_seq);
  // A send the server acknowledged but whose message is gone by now (erased) stops waiting.
  for (const li of list.querySelectorAll("li.pending[data-acked-seq]")) {
    const seq = Number(li.dataset.ackedSeq);
    if (seq <= seqs.caughtUpTo && !shown.has(seq)) li.remove();
  }
  if (again) requestResume();
}

function onHeartbeat(frame) {
  if (seqs.heartbeat(frame.head_seq)) requestResume();
}

function pendingFor(clientId) {
  return list.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);
}

function onAck(frame) {
  outbox.settle(frame.client_id);
  const pending = pendingFor(frame.client_id);
  if (shown.has(frame.seq)) {
    if (pending) pending.remove();
    return;
  }
  // Stored, but its message frame is still on the way: the "Sending…" line stays until the
  // message itself replaces it, so it never disappears or shows twice in between.
  if (pending) {
    pending.dataset.ackedSeq = String(frame.seq);
    pending.querySelector(".msg-status").textContent =
      STATUS_NOTES[frame.status] ? "Waiting for a moderator" : "Sent";
  }
  setTimeout(() => { if (!shown.has(frame.seq)) requestResume(); }, 1000);
}

function onRemoved(frame) {
  for (const seq of frame.seqs) {
    removedLive.add(seq);
    const li = shown.get(seq);
    clearHeldNotice(seq);
    if (li) {
      if (li.contains(document.activeElement)) focusComposer();
      li.remove();
      shown.delete(seq);
    }
  }
}

// Take a message the server did not post out of the list and give its text back.
function giveBack(clientId) {
  const body = outbox.get(clientId);
  outbox.settle(clientId);
  const pending = pendingFor(clientId);
  if (pending) pending.remove();
  if (body === undefined) return;
  const current = input.value;
  input.value = current.trim() ? `${body}\n${current}` : body;
  if (!input.disabled) {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
}

function onError(frame) {
  const ours = frame.client_id && outbox.has(frame.client_id);
  const conversation = asideForError(frame);
  if (conversation) return asideError(conversation, frame);
  if (ours && SESSION_SEND_ERRORS.has(frame.code)) {
    giveBack(frame.client_id);
    if (frame.code === ERROR.slow_mode) session.noteSlowMode(frame.retry_after);
    return showError(frame.detail);
  }
  if (session.onError(frame)) return undefined;
  if (supportWaiting && !ours && !frame.client_id) {
    // The answer to "talk to someone" or to a region change: shown on the card.
    supportWaiting = false;
    askInFlight = false;
    supportAsk.disabled = false;
    supportError.textContent = frame.detail;
    return undefined;
  }
  switch (frame.code) {
    case ERROR.rate_limited:
    case ERROR.internal_error:
      if (ours) {
        // Still ours to deliver: try again when the server says we may.
        const wait = (frame.retry_after || 2) * 1000;
        const body = outbox.get(frame.client_id);
        setTimeout(() => send({ type: "send", client_id: frame.client_id, body }), wait);
      } else if (frame.code === ERROR.rate_limited && frame.retry_after) {
        setTimeout(requestResume, frame.retry_after * 1000);
        seqs.resumeEnded();
      }
      return showError(frame.detail);
    case ERROR.rules_not_accepted:
      // Kept in the outbox: it goes out as soon as the rules are accepted.
      if (rules) rules.accepted = false;
      openRules({ required: true });
      return showError(frame.detail);
    case ERROR.rules_outdated:
      acceptWanted = null;
      rulesAccept.disabled = false;
      rulesError.textContent = frame.detail;
      return reconnectNow();
    case ERROR.message_blocked:
      // The notice that follows explains it; the text goes back in the box.
      if (ours) giveBack(frame.client_id);
      return undefined;
    case ERROR.timed_out:
      if (ours) giveBack(frame.client_id);
      pauseUntil(Date.now() + (frame.retry_after || 60) * 1000);
      return showError(frame.detail);
    case ERROR.banned:
      if (ours) giveBack(frame.client_id);
      return showError(frame.detail);
    case ERROR.room_unstaffed:
      // Nobody from the team is on duty: the room is read-only until someone checks in.
      if (ours) giveBack(frame.client_id);
      setStaffing({ ...(staffing || {}), staffed_only: true, open: false,
        detail: frame.detail || (staffing && staffing.detail) });
      return undefined;
    default:
      break;
  }
  if (reportInFlight && REPORT_ERRORS.has(frame.code)) {
    reportInFlight = false;
    reportSend.disabled = false;
    reportError.textContent = frame.detail;
    return undefined;
  }
  if (ours) {
    outbox.settle(frame.client_id);
    const pending = pendingFor(frame.client_id);
    if (pending) {
      pending.classList.add("failed");
      pending.querySelector(".msg-status").textContent = "Not sent";
    }
  }
  return showError(frame.detail);
}

function showError(text) {
  errorEl.textContent = text;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { errorEl.textContent = ""; }, 8000);
}

// --- ground rules -----------------------------------------------------------------------
function setRules(next) {
  rules = next;
  renderRules();
  if (!rules.accepted) {
    openRules({ required: true });
  } else if (rulesPanel.hidden || rulesPanel.dataset.mode === "accept") {
    closeRules(); // accepted: the panel folds away behind the "Ground rules" button
  }
  updateComposer();
}

function renderRules() {
  const groups = [
    { scope: "site", title: "Everywhere on Hearth" },
    { scope: "room", title: "Just for this room" },
  ].map((group) => ({ ...group, rules: rules.rules.filter((r) => r.scope === group.scope) }))
    .filter((group) => group.rules.length);
  const parts = [];
  for (const group of groups) {
    if (groups.length > 1) {
      parts.push(el("h3", `rules-group-title rules-group-${group.scope}`, group.title));
    }
    const ol = el("ol", "rules-list");
    for (const rule of group.rules) {
      const li = el("li", `rule rule-${rule.scope}`);
      li.dataset.code = rule.code;
      const title = el("p", "rule-title");
      title.append(el("strong", "", rule.title));
      if (rule.scope === "room") title.append(" ", el("span", "tag tag-room", "This room"));
      li.append(title, el("p", "rule-text", rule.text));
      ol.append(li);
    }
    parts.push(ol);
  }
  rulesGroups.replaceChildren(...parts);
}

function openRules({ required }) {
  rulesPanel.hidden = false;
  rulesPanel.dataset.mode = required ? "accept" : "read";
  rulesAccept.hidden = !required;
  rulesAccept.disabled = required && acceptWanted === rules?.version;
  rulesClose.hidden = required;
  rulesIntro.hidden = !required;
  rulesToggle.hidden = required;
  rulesToggle.setAttribute("aria-expanded", "true");
  updateComposer();
}

function closeRules() {
  rulesPanel.hidden = true;
  rulesChanged.hidden = true;
  rulesError.textContent = "";
  rulesToggle.hidden = false;
  rulesToggle.setAttribute("aria-expanded", "false");
}

function onRules(frame) {
  acceptWanted = null;
  rulesAccept.disabled = false;
  setRules({ version: frame.version, accepted: frame.accepted, rules: frame.rules });
  if (frame.accepted) {
    closeRules();
    focusComposer();
    flushOutbox();
  }
}

function onRulesChanged(frame) {
  if (rules && rules.version >= frame.version && rules.accepted) return;
  rulesChanged.hidden = false;
  setRules({ version: frame.version, accepted: false, rules: frame.rules });
}

rulesAccept.addEventListener("click", () => {
  if (!rules) return;
  rulesError.textContent = "";
  acceptWanted = rules.version;
  rulesAccept.disabled = true;
  if (!send({ type: "accept_rules", version: rules.version })) {
    rulesError.textContent = "You're not connected right now. We'll save this as soon as you're back.";
  }
});
rulesClose.addEventListener("click", () => { closeRules(); rulesToggle.focus(); });
rulesToggle.addEventListener("click", () => {
  if (rulesPanel.hidden) {
    openRules({ required: false });
    rulesPanel.focus();
  } else {
    closeRules();
  }
});

// --- composer state ---------------------------------------------------------------------
function roomUnstaffed() {
  return Boolean(staffing) && staffing.open === false;
}

function updateComposer() {
  const needsRules = !rulesAccepted();
  const unstaffed = roomUnstaffed();
  const sessionBlock = session.postingBlock(); // paused, or someone else's turn
  const slowNote = session.slowNote();
  input.disabled = needsRules || closedForGood || unstaffed || Boolean(sessionBlock);
  sendButton.disabled = needsRules || closedForGood || unstaffed || Boolean(sessionBlock)
    || Boolean(slowNote) || pausedUntil > Date.now();
  if (closedForGood) {
    hintEl.textContent = "Posting isn't available in this room right now.";
  } else if (unstaffed) {
    hintEl.textContent = "You can read along. Posting opens again when someone from the team is on duty.";
  } else if (needsRules) {
    hintEl.textContent = "Please read the ground rules and press “I agree” to start posting.";
  } else if (sessionBlock) {
    hintEl.textContent = sessionBlock;
  } else if (slowNote) {
    hintEl.textContent = slowNote;
  } else {
    hintEl.textContent = HINT_TEXT;
  }
}

function clockLabel(ms) {
  const date = new Date(ms);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" })}, ${time}`;
}

function pauseUntil(ms) {
  if (!(ms > Date.now())) return;
  pausedUntil = Math.max(pausedUntil, ms);
  pausedEl.hidden = false;
  pausedEl.dataset.state = "paused";
  pausedEl.textContent = `Posting is paused until ${clockLabel(pausedUntil)}. You can still read along, and keep writing here.`;
  updateComposer();
  clearTimeout(pauseTimer);
  // Long timeouts are re-checked hourly (a timer can't wait 30 days).
  pauseTimer = setTimeout(checkPause, Math.min(pausedUntil - Date.now() + 250, 3600000));
}

function checkPause() {
  if (pausedUntil > Date.now()) { pauseUntil(pausedUntil); return; }
  pausedUntil = 0;
  pausedEl.dataset.state = "resumed";
  pausedEl.textContent = "You can post again now.";
  updateComposer();
  setTimeout(() => { if (!pausedUntil) pausedEl.hidden = true; }, 15000);
}

function focusComposer() {
  if (!input.disabled) input.focus();
  else list.focus();
}

// --- notices ----------------------------------------------------------------------------
function showNotice(frame) {
  // A member's notices reach every room they have open; a timeout or ban in another room is
  // that room's business (it speaks of "this room"), and their You page lists it.
  if ((frame.kind === "timeout" || frame.kind === "ban") && frame.room && frame.room !== slug) {
    return;
  }
  const urgent = URGENT_NOTICES.has(frame.kind);
  const title = frame.kind === "info" ? "" : NOTICE_TITLES[frame.kind] || "A note from the moderators";
  const box = el("div", `notice notice-${frame.kind}${urgent ? " notice-urgent" : ""}`);
  box.dataset.kind = frame.kind;
  if (frame.seq !== undefined) box.dataset.seq = String(frame.seq);
  // Whatever a moderator decided about a held message, "waiting" is no longer true.
  if (frame.seq !== undefined && frame.kind !== "held" && frame.kind !== "collapsed") {
    clearHeldNotice(frame.seq);
  }
  if (title) {
    const head = el("p", "notice-title");
    head.append(el("strong", "", title));
    box.append(head);
  }
  box.append(el("p", "notice-detail", frame.detail || ""));
  if (frame.rule_title) {
    const rule = el("p", "notice-rule");
    rule.append("Ground rule: ", el("strong", "", frame.rule_title));
    box.append(rule);
  }
  if (frame.reason) {
    box.append(el("p", "notice-reason", `Moderator's note: ${frame.reason}`));
  }
  if (frame.kind === "timeout" && frame.ends_at) {
    const ends = Date.parse(frame.ends_at);
    box.append(el("p", "notice-ends", `You can post again at ${clockLabel(ends)}.`));
    pauseUntil(ends);
  }
  const actions = el("p", "notice-actions");
  if (frame.appeal_url && APPEALABLE.has(frame.kind)) {
    const link = el("a", "", "Ask for a review");
    link.href = frame.appeal_url;
    actions.append(link);
  }
  const dismiss = el("button", "link-button notice-dismiss", "Dismiss");
  dismiss.type = "button";
  dismiss.setAttribute("aria-label", title ? `Dismiss: ${title}` : "Dismiss this note");
  dismiss.addEventListener("click", () => dismissNotice(box));
  actions.append(dismiss);
  box.append(actions);
  (urgent ? noticesUrgent : noticesPolite).append(box);
  // Keep the newest few; older ones the person has surely seen.
  const all = document.querySelectorAll("#notices .notice");
  for (const old of [...all].slice(0, Math.max(0, all.length - MAX_NOTICES))) old.remove();
  if (frame.kind === "ban" && (frame.room === null || frame.room === slug)) {
    closedForGood = true;
    updateComposer();
  }
}

function clearHeldNotice(seq) {
  const waiting = `#notices .notice-held[data-seq="${seq}"], #notices .notice-collapsed[data-seq="${seq}"]`;
  for (const box of document.querySelectorAll(waiting)) box.remove();
}

// A confirmation of something the member did (not from moderation).
function showInfo(text) {
  showNotice({ kind: "info", detail: text });
}

function dismissNotice(box) {
  const all = [...document.querySelectorAll("#notices .notice")];
  const next = all[all.indexOf(box) + 1] || all[all.indexOf(box) - 1];
  box.remove();
  const button = next && next.querySelector(".notice-dismiss");
  if (button) button.focus();
  else focusComposer();
}

// --- rendering --------------------------------------------------------------------------
function timeLabel(iso) {
  const date = new Date(iso);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function authorLine(handle, role, sentAt) {
  const line = el("p", "msg-meta");
  line.append(el("span", "msg-handle", handle));
  if (ROLE_LABELS[role]) {
    line.append(" ", el("span", `badge role-${role}`, ROLE_LABELS[role]));
  }
  if (sentAt) {
    const time = el("time", "", timeLabel(sentAt));
    time.dateTime = sentAt;
    line.append(" ", time);
  }
  return line;
}

// Held and collapsed messages reach their author with a note that only they see them.
function setStatus(li, status) {
  const note = li.classList.contains("mine") ? STATUS_NOTES[status] : undefined;
  li.classList.toggle("held", Boolean(note));
  let statusEl = li.querySelector(":scope > .msg-status");
  if (note && !statusEl) {
    statusEl = el("p", "msg-status", note);
    li.append(statusEl);
  } else if (note) {
    statusEl.textContent = note;
  } else if (statusEl) {
    statusEl.remove();
  }
}

// Everyone but its author gets a collapsed message without its text.
function collapsedForMe(frame, mine) {
  return !mine && (frame.collapsed || frame.status === "collapsed");
}

function insertMessage(frame, mine) {
  const li = el("li", "message");
  li.id = `m-${frame.seq}`;
  li.dataset.seq = String(frame.seq);
  li.dataset.handle = frame.handle;
  if (mine) li.classList.add("mine");
  li.append(authorLine(frame.handle, frame.role, frame.sent_at));
  // Everyone else's messages have a menu; one's own only for a host (to pin it).
  li.classList.add("has-actions");
  li.append(actionsToggle(frame, mine));
  const body = el("div", "msg-body");
  if (collapsedForMe(frame, mine)) {
    li.classList.add("collapsed");
    li.dataset.collapsed = "1";
    body.textContent = COLLAPSED_TEXT;
  } else {
    body.innerHTML = frame.html; // server-made by chat/rendering.py: escaped, links only
  }
  li.append(body);
  setStatus(li, frame.status);
  if (muted.has(frame.handle)) li.hidden = true;
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
    outbox.settle(frame.client_id);
    if (pending === before) before = pending.nextElementSibling;
    pending.remove();
  }
  list.insertBefore(li, before);
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function insertPending(clientId, body) {
  const li = el("li", "message mine pending");
  li.dataset.clientId = clientId;
  li.append(authorLine(me ? me.handle : "You", me ? me.role : "member", null));
  li.append(el("div", "msg-body", body), el("p", "msg-status", "Sending…"));
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function renderPresence(presence) {
  presenceCount.textContent = String(presence.count);
  presenceList.replaceChildren(...presence.members.map((person) => {
    const li = el("li", "", person.handle);
    if (ROLE_LABELS[person.role]) {
      li.append(" ", el("span", `badge role-${person.role}`, ROLE_LABELS[person.role]));
    }
    if (muted.has(person.handle)) li.append(" ", el("span", "tag", "muted"));
    return li;
  }));
  renderPresence.last = presence;
  session.setPresence(presence);
}

let announceBuffer = [];
function announce(text) {
  // Batch bursts so a screen reader is not flooded: one announcement per half second.
  announceBuffer.push(text);
  if (announceBuffer.length > 1) return;
  setTimeout(() => {
    const items = announceBuffer;
    announceBuffer = [];
    // Joined into sentences, without doubling a full stop the text already has.
    const joined = items.reduce((text, item) => (text ? `${text}${/[.!?]$/.test(text) ? " " : ". "}${item}` : item), "");
    announcer.textContent = items.length > 3 ? `${items.length} new messages` : joined;
  }, 500);
}

// --- per-message actions: a disclosure menu, by keyboard or pointer -----------------------
let openMenu = null; // {toggle, menu}

function actionsToggle(frame, mine) {
  const wrap = el("div", mine ? "msg-actions msg-actions-host" : "msg-actions");
  const toggle = el("button", "msg-actions-toggle", "⋯");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-label", `Options for the message from ${frame.handle}`);
  toggle.addEventListener("click", () => {
    if (openMenu && openMenu.toggle === toggle) closeMenu(true);
    else showMenu(toggle, wrap, frame);
  });
  wrap.append(toggle);
  return wrap;
}

function showMenu(toggle, wrap, frame) {
  closeMenu(false);
  const menu = el("ul", "msg-menu");
  menu.id = `menu-${frame.seq}`;
  const item = (label, action) => {
    const li = el("li");
    const button = el("button", "", label);
    button.type = "button";
    button.addEventListener("click", () => { closeMenu(false); action(); });
    li.append(button);
    menu.append(li);
    return button;
  };
  const mine = isMine(frame);
  let first = null;
  for (const [label, action] of session.menuItems(frame)) {
    const button = item(label, action);
    first = first || button;
  }
  if (!mine) {
    const report = item("Report message", () => openReport(frame, toggle));
    first = first || report;
    item(`Mute ${frame.handle}`, () => send({ type: "mute", handle: frame.handle }));
  }
  if (!first) { menu.remove(); return; }
  wrap.append(menu);
  // Open upwards when the list's scroll box would cut it off below.
  const box = list.getBoundingClientRect();
  const room = menu.getBoundingClientRect();
  if (room.bottom > box.bottom && toggle.getBoundingClientRect().top - box.top > room.height) {
    menu.classList.add("up");
  }
  toggle.setAttribute("aria-controls", menu.id);
  toggle.setAttribute("aria-expanded", "true");
  openMenu = { toggle, menu };
  first.focus({ preventScroll: true });
  menu.scrollIntoView({ block: "nearest" });
}

function closeMenu(returnFocus) {
  if (!openMenu) return;
  const { toggle, menu } = openMenu;
  openMenu = null;
  menu.remove();
  toggle.setAttribute("aria-expanded", "false");
  toggle.removeAttribute("aria-controls");
  if (returnFocus) toggle.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && openMenu) {
    event.preventDefault();
    closeMenu(true);
  }
});
document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.menu.contains(event.target) && event.target !== openMenu.toggle) {
    closeMenu(false);
  }
});
list.addEventListener("focusout", (event) => {
  if (openMenu && event.relatedTarget && !openMenu.toggle.parentElement.contains(event.relatedTarget)) {
    closeMenu(false);
  }
});

// --- report -----------------------------------------------------------------------------
let reportOpener = null;

function openReport(frame, opener) {
  reportTarget = { seq: frame.seq, handle: frame.handle };
  reportOpener = opener;
  reportInFlight = false;
  reportForm.reset();
  reportError.textContent = "";
  reportReceipt.textContent = "";
  reportAsk.hidden = false;
  reportDone.hidden = true;
  reportSend.disabled = false;
  reportWho.textContent = frame.handle;
  const quote = el("p", "", "");
  quote.innerHTML = frame.html; // server-made, as in the message list
  const cite = el("footer", "report-quote-by", `— ${frame.handle}`);
  reportQuote.replaceChildren(quote, cite);
  reportDialog.showModal();
  reportDialog.querySelector('input[name="reason"]').focus();
}

reportForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!reportTarget || reportInFlight) return;
  const reason = reportForm.elements.reason.value;
  if (!reason) {
    reportError.textContent = "Please choose what's worrying you about it.";
    reportDialog.querySelector('input[name="reason"]').focus();
    return;
  }
  reportError.textContent = "";
  const sent = send({ type: "report", seq: reportTarget.seq, reason, note: reportNote.value.trim() });
  if (!sent) {
    reportError.textContent = "You're not connected right now. Please try again in a moment.";
    return;
  }
  reportInFlight = true;
  reportSend.disabled = true;
});

function onReportReceived(frame) {
  reportInFlight = false;
  if (!reportDialog.open || !reportTarget || reportTarget.seq !== frame.seq) {
    showInfo(frame.detail);
    return;
  }
  reportAsk.hidden = true;
  reportDone.hidden = false;
  reportReceipt.textContent = frame.detail;
  reportDone.querySelector("button").focus();
}

for (const button of reportDialog.querySelectorAll("[data-close-dialog]")) {
  button.addEventListener("click", () => reportDialog.close());
}
reportDialog.addEventListener("close", () => {
  reportTarget = null;
  const opener = reportOpener;
  reportOpener = null;
  if (opener && opener.isConnected) opener.focus();
  else focusComposer();
});

// --- mute -------------------------------------------------------------------------------
function onMuted(frame) {
  const handle = frame.handle;
  const lis = [...list.querySelectorAll("li.message[data-handle]")].filter((li) => li.dataset.handle === handle);
  if (frame.muted) {
    muted.add(handle);
    const hadFocus = lis.some((li) => li.contains(document.activeElement));
    for (const li of lis) li.hidden = true;
    if (hadFocus || document.activeElement === document.body) focusComposer();
    showInfo(`You won't see messages from ${handle} any more. Only you are affected. You can unmute them under “You've muted”.`);
  } else {
    muted.delete(handle);
    for (const li of lis) li.hidden = false;
    // Messages they sent while muted never reached this page: fetch the recent ones again.
    if (seqs.caughtUpTo !== null) send({ type: "history", before_seq: seqs.caughtUpTo + 1, limit: 50 });
    showInfo(`You'll see messages from ${handle} again.`);
  }
  renderMuted();
  if (renderPresence.last) renderPresence(renderPresence.last);
}

function renderMuted() {
  mutedList.replaceChildren(...[...muted].sort().map((handle) => {
    const li = el("li");
    li.dataset.handle = handle;
    const button = el("button", "link-button unmute", "Unmute");
    button.type = "button";
    button.dataset.handle = handle;
    button.append(el("span", "visually-hidden", ` ${handle}`));
    li.append(el("span", "muted-handle", handle), " ", button);
    return li;
  }));
  mutedSection.hidden = muted.size === 0;
}

mutedList.addEventListener("click", (event) => {
  const button = event.target.closest("button.unmute");
  if (!button) return;
  if (!send({ type: "unmute", handle: button.dataset.handle })) {
    showError("You're not connected right now. Please try again in a moment.");
  }
});

// --- crisis support: the private card, staffing, take-aside ------------------------------
// Every word shown to someone who may be struggling comes from the server (one reviewed
// module there); this page only lays it out.

function renderHelpline(container, line) {
  container.replaceChildren();
  if (!line) return;
  const name = el("p", "helpline-name");
  name.append(el("strong", "", line.name));
  container.append(name);
  const ways = el("ul", "helpline-ways");
  if (line.phone) {
    const li = el("li");
    const call = el("a", "helpline-phone", `Call ${line.phone}`);
    call.href = `tel:${line.phone.replace(/[^0-9+]/g, "")}`;
    li.append(call);
    ways.append(li);
  }
  if (line.text) {
    const li = el("li");
    const digits = line.text.replace(/[^0-9+]/g, "");
    if (digits) {
      // "Text 988" or just "988": either way the link says what it does.
      const label = /[a-z]/i.test(line.text) ? line.text : `Text ${line.text}`;
      const text = el("a", "helpline-text", label);
      text.href = `sms:${digits}`;
      li.append(text);
    } else {
      li.append(line.text);
    }
    ways.append(li);
  }
  if (line.chat_url) {
    const li = el("li");
    const chat = el("a", "helpline-chat", `Chat online with ${line.name}`);
    chat.href = line.chat_url;
    chat.target = "_blank";
    chat.rel = "noopener noreferrer";
    li.append(chat);
    ways.append(li);
  }
  if (ways.childElementCount) container.append(ways);
  if (line.hours) container.append(el("p", "helpline-hours", line.hours));
  if (line.url) {
    const site = el("a", "helpline-site", `${line.name} website`);
    site.href = line.url;
    site.target = "_blank";
    site.rel = "noopener noreferrer";
    const p = el("p");
    p.append(site);
    container.append(p);
  }
}

function onSupport(frame) {
  support = frame;
  supportTitle.textContent = frame.title;
  supportBody.textContent = frame.body;
  supportEmergency.textContent = frame.emergency || "";
  supportEmergency.hidden = !frame.emergency;
  renderHelpline(supportHelpline, frame.helpline);
  renderRegions(frame.regions || [], frame.region);
  if (frame.more_url) supportMore.href = frame.more_url;
  supportAsk.hidden = !frame.can_ask_for_support;
  supportAsk.disabled = false;
  askInFlight = false;
  supportRequested.textContent = "";
  supportError.textContent = "";
  supportCard.dataset.tier = frame.tier;
  supportCard.hidden = false;
  supportCard.scrollIntoView({ block: "nearest" });
  supportTitle.focus();
  announce(`${frame.title}. ${frame.body}`);
}

// Nobody from the team has answered yet: say so warmly, and offer the helpline again. The
// line for this member's region is the one their card showed; the frame's is the worldwide one.
function onStillReaching(frame) {
  const line = support && support.helpline ? support.helpline : frame.helpline;
  supportTitle.textContent = frame.title;
  supportBody.textContent = frame.body;
  supportEmergency.textContent = frame.emergency || "";
  supportEmergency.hidden = !frame.emergency;
  renderHelpline(supportHelpline, line);
  renderRegions(support ? support.regions || [] : [], support ? support.region : null);
  if (frame.more_url) supportMore.href = frame.more_url;
  supportAsk.hidden = true;
  supportRequested.textContent = "";
  supportError.textContent = "";
  supportCard.dataset.tier = "still_reaching";
  supportCard.hidden = false;
  supportCard.scrollIntoView({ block: "nearest" });
  supportTitle.focus();
  announce(`${frame.title}. ${frame.body}`);
}

function renderRegions(regions, current) {
  const options = regions.map((region) => new Option(region.label, region.code));
  if (current && !regions.some((region) => region.code === current)) {
    options.unshift(new Option(current, current));
  }
  supportRegion.replaceChildren(...options);
  if (current) supportRegion.value = current;
  supportRegion.closest(".support-region").hidden = regions.length < 2;
}

function onHelpline(frame) {
  supportWaiting = false;
  supportError.textContent = "";
  if (support) {
    support = { ...support, region: frame.region, helpline: frame.helpline,
      more_url: frame.more_url || support.more_url };
  }
  renderHelpline(supportHelpline, frame.helpline);
  if (frame.more_url) supportMore.href = frame.more_url;
  if (frame.region && supportRegion.value !== frame.region) supportRegion.value = frame.region;
  if (staffing && staffing.helpline) {
    staffing = { ...staffing, helpline: frame.helpline };
    renderHelpline(staffingHelpline, frame.helpline);
  }
  if (frame.helpline) announce(`Helpline: ${frame.helpline.name}`);
}

supportRegion.addEventListener("change", () => {
  supportError.textContent = "";
  if (send({ type: "set_region", region: supportRegion.value })) {
    supportWaiting = true;
  } else {
    supportError.textContent = "You're not connected right now. Please try again in a moment.";
  }
});

supportAsk.addEventListener("click", () => {
  if (askInFlight) return;
  supportError.textContent = "";
  const frame = { type: "ask_for_support" };
  if (support && support.seq != null) frame.seq = support.seq;
  if (!send(frame)) {
    supportError.textContent = "You're not connected right now. Please try again in a moment.";
    return;
  }
  askInFlight = true;
  supportWaiting = true;
  supportAsk.disabled = true;
});

function onSupportRequested(frame) {
  askInFlight = false;
  supportWaiting = false;
  supportAsk.hidden = true;
  if (supportCard.hidden) {
    showInfo(frame.detail);
    return;
  }
  supportRequested.textContent = frame.detail;
  // The button is gone: keep the keyboard in the card, on its heading.
  if (!supportCard.contains(document.activeElement) || document.activeElement === supportAsk) {
    supportTitle.focus();
  }
}

supportClose.addEventListener("click", () => {
  supportCard.hidden = true;
  focusComposer();
});
supportCard.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !openMenu) {
    event.preventDefault();
    supportCard.hidden = true;
    focusComposer();
  }
});

function setStaffing(next) {
  const wasClosed = roomUnstaffed();
  staffing = { ...next };
  delete staffing.type;
  const closed = roomUnstaffed();
  staffingEl.hidden = !closed;
  staffingEl.dataset.open = String(!closed);
  if (closed) {
    if (staffingDetail.textContent !== staffing.detail) staffingDetail.textContent = staffing.detail || "";
    renderHelpline(staffingHelpline, staffing.helpline);
  } else {
    staffingDetail.textContent = "";
    staffingHelpline.replaceChildren();
  }
  updateComposer();
  if (wasClosed && !closed) {
    showInfo(staffing.detail || "Someone from the team is on duty now, so you can post again.");
  }
}

// --- take-aside (the member's side) ---
function conversationFor(aside) {
  let conversation = asides.get(aside.id);
  if (!conversation) {
    conversation = new AsideConversation(aside, {
      send, announce,
      onDismiss: (ended) => { asides.delete(ended.id); focusComposer(); },
    });
    asides.set(aside.id, conversation);
    asidesEl.append(conversation.root);
  }
  return conversation;
}

function onAsideState(frame) {
  const aside = frame.aside;
  if (!aside || aside.you !== "member") return;
  const known = asides.has(aside.id);
  if (!known && (aside.state === "declined" || aside.state === "closed")) return;
  const conversation = conversationFor(aside);
  const { before, state } = known ? conversation.update(aside) : { before: null, state: aside.state };
  if (state === "invited" && before !== "invited") {
    announce(conversation.inviteText.textContent);
  } else if (state === "open" && before !== "open") {
    conversation.root.scrollIntoView({ block: "nearest" });
    conversation.focus();
  } else if ((state === "declined" || state === "closed") && before !== state) {
    const hadFocus = conversation.root.contains(document.activeElement);
    if (hadFocus || document.activeElement === document.body) conversation.dismissButton.focus();
  }
}

function restoreAsides(list) {
  const current = new Set(list.map((aside) => aside.id));
  for (const aside of list) {
    if (aside.you !== "member") continue;
    const conversation = conversationFor(aside);
    conversation.update(aside);
    for (const message of aside.messages || []) conversation.addMessage(message);
    conversation.resend();
  }
  // Ended while we were away.
  for (const [id, conversation] of asides) {
    if (!current.has(id) && ["invited", "open"].includes(conversation.aside.state)) {
      conversation.update({ state: "closed" });
    }
  }
}

function onAsideMessage(frame) {
  const conversation = asides.get(frame.aside_id);
  if (!conversation) return;
  conversation.addMessage(frame);
  if (frame.from !== "member" && !conversation.root.contains(document.activeElement)) {
    announce(`Private message from ${frame.handle}`);
  }
}

function onAsideAck(frame) {
  const conversation = asides.get(frame.aside_id);
  if (conversation) conversation.ack(frame);
}

function asideForError(frame) {
  if (frame.aside_id != null && asides.has(frame.aside_id)) return asides.get(frame.aside_id);
  if (frame.client_id) {
    for (const conversation of asides.values()) if (conversation.owns(frame.client_id)) return conversation;
  }
  if (ASIDE_ERRORS.has(frame.code)) {
    const last = [...asides.values()].pop();
    if (last) return last;
  }
  return null;
}

function asideError(conversation, frame) {
  if (frame.client_id && conversation.owns(frame.client_id)
      && (frame.code === ERROR.rate_limited || frame.code === ERROR.internal_error)) {
    conversation.retryLater(frame);
  } else if (frame.client_id && conversation.owns(frame.client_id)) {
    conversation.refuse(frame);
  } else {
    conversation.showError(frame.detail);
    conversation.acceptButton.disabled = false;
    conversation.declineButton.disabled = false;
  }
}

// --- composer ---------------------------------------------------------------------------
function submit() {
  const body = input.value;
  if (!body.trim()) { showError("Your message is empty."); return; }
  if (!rulesAccepted()) { openRules({ required: true }); return; }
  if (pausedUntil > Date.now()) {
    showError(`Posting is paused until ${clockLabel(pausedUntil)}. Your message is still here.`);
    return;
  }
  const block = session.postingBlock() || session.slowRefusal();
  if (block) { showError(block); return; }
  const clientId = newClientId();
  outbox.add(clientId, body);
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

list.tabIndex = -1;
for (const [clientId, body] of outbox) insertPending(clientId, body);
updateComposer();
connect();
