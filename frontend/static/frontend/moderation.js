// Staff dashboard over the staff socket (/ws/staff/, docs/protocol.md): the on-duty roster,
// live crisis escalations, private take-aside conversations and, for moderators, the review
// queue. The server sends the whole state on every (re)connect and then keeps it live; this
// page only renders it, filters it and sends the staff's actions.

import { AsideConversation, backoffDelay, el, sendFrame, servedProtocol, setConnectionState,
  socketUrl } from "./common.js";

const { STAFF_FRAME: FRAME, ERROR } = servedProtocol();

const root = document.getElementById("moderation");
const queueEl = document.getElementById("queue");
const stateEl = document.getElementById("connection-state");
const countEl = document.getElementById("queue-count");
const emptyEl = document.getElementById("queue-empty");
const filteredOutEl = document.getElementById("queue-filtered-out");
const pageError = document.getElementById("page-error");
const announcer = document.getElementById("queue-announcer");
const roomFilter = document.getElementById("filter-room");
const reasonFilter = document.getElementById("filter-reason");
const reviewEl = document.getElementById("review");
const alertAnnouncer = document.getElementById("alert-announcer");
const escalationAnnouncer = document.getElementById("escalation-announcer");
const dutyYou = document.getElementById("duty-you");
const dutyToggle = document.getElementById("duty-toggle");
const dutyCount = document.getElementById("duty-count");
const dutyRoster = document.getElementById("duty-roster");
const slaEl = document.getElementById("sla");
const escalationsEl = document.getElementById("escalations");
const escalationsEmpty = document.getElementById("escalations-empty");
const escalationsHeading = document.getElementById("escalations-heading");
const staffAsidesSection = document.getElementById("staff-asides-section");
const staffAsidesEl = document.getElementById("staff-asides");
const soundToggle = document.getElementById("alert-sound");
const nobodyOnDutyBanner = document.getElementById("nobody-on-duty");

const RULES = JSON.parse(document.getElementById("ground-rules").textContent);
const RULE_TITLES = new Map(RULES.map((rule) => [rule.code, rule.title]));
const REPORT_LABELS = new Map(Array.from(reasonFilter.querySelectorAll('option[value^="report:"]'),
  (option) => [option.value.slice("report:".length), option.textContent]));
// A report reason suggests a rule; the moderator still chooses.
const RULE_FOR_REASON = { harassment: "respect", spam: "no-spam", contact_details: "no-contact-details",
  worried: "crisis-support" };
const ROLE_LABELS = { member: "Member", peer_supporter: "Peer supporter", moderator: "Moderator", admin: "Admin" };
const SEVERITY = { 1: "low", 2: "medium", 3: "high", 4: "critical" };
const SIGNAL_KINDS = {
  phone: "phone number", email: "email address", social_profile: "social media profile",
  off_platform: "moving to another app", street_address: "street address",
  insult: "insult", slur: "slur", threat: "threat", self_harm_incitement: "urging self-harm",
  repeat: "repeated message", link_flood: "many links", shouting: "shouting",
  mass_mention: "mentions many people", character_flood: "character flood",
  concern: "sounds low or hopeless", high_risk: "may be at risk", imminent: "may be in immediate danger",
  worried_about_someone: "worried about someone",
};
const DETECTORS = { contact: "Contact details", harassment: "Harassment", spam: "Spam", crisis: "Crisis" };
const ACTION_DONE = {
  restore: "Restored: the message is back in the room.",
  hide: "Hidden from the room.",
  dismiss: "Dismissed.",
  warn: "Warning sent.",
  timeout: "Timeout started.",
  ban: "Ban in force.",
};
// From the server (chat/protocol.py, STAFF_FINAL_CLOSES), served with the page.
const FINAL_CLOSES = JSON.parse(document.getElementById("final-closes").textContent);
// Names and urgency order from the server (moderation/models.py), most urgent first.
const TIERS = Object.fromEntries(
  JSON.parse(document.getElementById("escalation-tiers").textContent)
    .map(({ tier, label }, rank) => [tier, { label, rank }]));
const ESCALATION_DONE = {
  acknowledge: "Acknowledged: the team can see you're on it.",
  resolve: "Resolved. Thank you.",
};
const ASIDE_STATES = { invited: "invitation sent", open: "private chat open", declined: "they said not now",
  closed: "private chat ended" };

let ws = null;
let attempt = 0;
let reconnectTimer = null;
let closedForGood = false;
let loaded = false;
const items = new Map(); // id -> item frame
// The copy of each item a moderator acted on, until the server answers.
const actedOn = new Map();
const escalations = new Map(); // id -> escalation
const staffAsides = new Map(); // aside id -> AsideConversation (the staff side)
let onDuty = null;             // this staff member, from the last duty frame
let asideWanted = null;        // the escalation whose "Take aside" was just pressed


function setState(state, text) {
  setConnectionState(stateEl, state, text);
}

function send(frame) {
  return sendFrame(ws, frame);
}

function timeLabel(iso) {
  const date = new Date(iso);
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

function ruleTitle(code) {
  return RULE_TITLES.get(code) || code;
}

// --- connection -------------------------------------------------------------------------
function connect() {
  clearTimeout(reconnectTimer);
  if (closedForGood) return;
  ws = new WebSocket(socketUrl(root.dataset.wsPath));
  const socket = ws;
  socket.addEventListener("message", (event) => { if (socket === ws) onFrame(event.data); });
  socket.addEventListener("close", (event) => { if (socket === ws) onClose(event); });
}

function onClose(event) {
  ws = null;
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
    setState("offline", "Offline. The queue will reload when you're back.");
    return;
  }
  const delay = backoffDelay(attempt);
  attempt += 1;
  setState("reconnecting", "Reconnecting… The queue may be out of date.");
  reconnectTimer = setTimeout(connect, delay);
}

window.addEventListener("online", () => { attempt = 0; if (!ws) connect(); });
window.addEventListener("offline", () => {
  if (ws) {
    const old = ws;
    ws = null;
    try { old.close(); } catch { /* already closing */ }
  }
  setState("offline", "Offline. The queue will reload when you're back.");
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !ws && !closedForGood) { attempt = 0; connect(); }
});

// --- frames -----------------------------------------------------------------------------
function onFrame(text) {
  let frame;
  try { frame = JSON.parse(text); } catch { return; }
  switch (frame.type) {
    case FRAME.queue: return onQueue(frame);
    case FRAME.queue_item: return upsert(frame.item, true);
    case FRAME.queue_item_removed: return removeItem(frame.item_id);
    case FRAME.action_done: return onActionDone(frame);
    case FRAME.member_history: return onHistory(frame);
    case FRAME.original: return onOriginal(frame);
    case FRAME.error: return onError(frame);
    case FRAME.duty: return onDutyFrame(frame);
    case FRAME.escalations: return onEscalations(frame);
    case FRAME.escalation: return onEscalation(frame);
    case FRAME.take_aside_state: return onAsideState(frame);
    case FRAME.take_aside_message: return onAsideMessage(frame);
    case FRAME.take_aside_ack: return onAsideAck(frame);
    default: return undefined;
  }
}

function onQueue(frame) {
  attempt = 0;
  setState("connected", "Live");
  // Peer supporters work escalations and take-asides; the review queue is for moderators.
  if (frame.you) reviewEl.hidden = !["moderator", "admin"].includes(frame.you.role);
  for (const conversation of staffAsides.values()) conversation.resend();
  const fresh = new Set(frame.items.map((item) => item.id));
  for (const id of [...items.keys()]) if (!fresh.has(id)) removeItem(id, { quiet: true });
  for (const item of frame.items) upsert(item, false);
  loaded = true;
  refreshView();
}

function onActionDone(frame) {
  if (frame.escalation_id != null) return onEscalationDone(frame);
  if (frame.item_id == null) return undefined;
  const card = cardFor(frame.item_id);
  const done = ACTION_DONE[frame.action] || "Done.";
  announce(done);
  if (card) {
    const status = card.querySelector(".item-status");
    status.dataset.state = "done";
    status.textContent = done;
  }
  // Every action resolves the item; the queue_item_removed that follows is then a no-op. A
  // report that reopened it since the click brought a newer copy, which must stay.
  const acted = actedOn.get(frame.item_id);
  actedOn.delete(frame.item_id);
  setTimeout(() => { if (items.get(frame.item_id) === acted) removeItem(frame.item_id); }, 600);
  return undefined;
}

function onError(frame) {
  const conversation = asideForError(frame);
  if (conversation) return asideError(conversation, frame);
  const escalationCard = frame.escalation_id != null ? escalationCardFor(frame.escalation_id) : null;
  if (escalationCard) {
    escalationCard.querySelector(".esc-error").textContent = frame.detail;
    escalationCard.querySelector(".esc-status").textContent = "";
    setEscalationBusy(escalationCard, false);
    return undefined;
  }
  if (dutyToggle.dataset.busy) {
    delete dutyToggle.dataset.busy;
    dutyToggle.disabled = false;
  }
  if (frame.item_id != null) actedOn.delete(frame.item_id);
  const card = frame.item_id != null ? cardFor(frame.item_id) : null;
  if (card) {
    const error = card.querySelector(".item-error");
    error.textContent = frame.detail;
    card.querySelector(".item-status").textContent = "";
    setBusy(card, false);
    if (frame.code === ERROR.member_in_distress) askToConfirmDistress(card, frame.distress || {});
    return;
  }
  pageError.textContent = frame.detail;
}

// --- the queue --------------------------------------------------------------------------
function cardFor(id) {
  return queueEl.querySelector(`li.queue-item[data-id="${id}"]`);
}

function order(a, b) {
  return b.urgency - a.urgency || a.opened_at.localeCompare(b.opened_at) || a.id - b.id;
}

function upsert(item, live) {
  const isNew = !items.has(item.id);
  items.set(item.id, item);
  const old = cardFor(item.id);
  const card = renderItem(item);
  if (old) {
    carryOver(old, card);
    old.replaceWith(card);
  }
  // Put it where its urgency says.
  const after = [...items.values()].sort(order);
  const index = after.findIndex((other) => other.id === item.id);
  const next = after.slice(index + 1).map((other) => cardFor(other.id)).find(Boolean);
  const focused = card.contains(document.activeElement) ? document.activeElement : null;
  if (next !== card.nextElementSibling || !card.isConnected) queueEl.insertBefore(card, next || null);
  if (focused && document.activeElement !== focused) focused.focus();
  if (live && isNew) announce(`New in ${item.room.title}: ${summary(item)}`);
  refreshView();
}

function removeItem(id, { quiet = false } = {}) {
  const card = cardFor(id);
  items.delete(id);
  if (!card) return;
  const hadFocus = card.contains(document.activeElement);
  const next = card.nextElementSibling || card.previousElementSibling;
  card.remove();
  if (hadFocus) {
    const target = next && next.querySelector("h3");
    if (target) { target.tabIndex = -1; target.focus(); } else { document.getElementById("queue-heading").focus(); }
  }
  if (!quiet) refreshView();
}

// A replaced card keeps what the moderator had typed or chosen, and the focus.
function carryOver(old, card) {
  for (const field of old.querySelectorAll("select, input, textarea")) {
    const twin = card.querySelector(`[name="${field.name}"]`);
    if (twin && field.dataset.touched) {
      twin.value = field.value;
      twin.dataset.touched = "1";
    }
  }
  const history = old.querySelector(".history-result");
  if (history && history.childElementCount) {
    card.querySelector(".history-result").replaceWith(history);
  }
  const active = old.contains(document.activeElement) ? document.activeElement : null;
  if (active && active.name) {
    queueMicrotask(() => { const twin = card.querySelector(`[name="${active.name}"]`); if (twin) twin.focus(); });
  }
}

// The server decides (moderation/selectors.py): only signs of distress, nothing else.
function needsCare(item) {
  return item.needs_care;
}

function reasonsOf(item) {
  const reasons = item.report_reasons.map((reason) => `report:${reason}`);
  for (const signal of item.signals) reasons.push(`signal:${signal.detector}`);
  if (item.message.held) reasons.push("held");
  if (item.appeal) reasons.push("appeal");
  return reasons;
}

function summary(item) {
  if (item.report_count) {
    const reasons = item.report_reasons.map((r) => REPORT_LABELS.get(r) || r).join(", ");
    return `reported ${item.report_count === 1 ? "once" : `${item.report_count} times`} (${reasons})`;
  }
  if (item.signals.length) return `flagged by screening (${item.signals.map((s) => DETECTORS[s.detector] || s.detector).join(", ")})`;
  return "needs a look";
}

function refreshView() {
  const room = roomFilter.value;
  const reason = reasonFilter.value;
  let visible = 0;
  for (const card of queueEl.children) {
    const item = items.get(Number(card.dataset.id));
    const match = item && (!room || item.room.slug === room) && (!reason || reasonsOf(item).includes(reason));
    card.hidden = !match;
    if (match) visible += 1;
  }
  const total = items.size;
  if (!loaded) return;
  emptyEl.hidden = total !== 0;
  filteredOutEl.hidden = total === 0 || visible !== 0;
  const noun = (n) => `${n} ${n === 1 ? "item" : "items"}`;
  const text = visible === total ? `${noun(total)} waiting` : `Showing ${visible} of ${noun(total)}`;
  if (countEl.textContent !== text) countEl.textContent = text;
}

roomFilter.addEventListener("change", refreshView);
reasonFilter.addEventListener("change", refreshView);
document.getElementById("queue-filters").addEventListener("submit", (event) => event.preventDefault());

function announce(text) {
  announcer.textContent = "";
  setTimeout(() => { announcer.textContent = text; }, 50);
}

// --- one item ---------------------------------------------------------------------------
function tag(text, className) {
  return el("span", `tag ${className || ""}`.trim(), text);
}

function renderItem(item) {
  const id = item.id;
  const li = el("li", "queue-item");
  li.dataset.id = String(id);
  li.dataset.room = item.room.slug;
  if (item.urgency >= 100) li.classList.add("urgent");
  const article = el("article", "item");
  article.setAttribute("aria-labelledby", `item-${id}-title`);
  li.append(article);

  const head = el("div", "item-head");
  const title = el("h3", "", "");
  title.id = `item-${id}-title`;
  title.append(`${item.room.title}: message from `, el("span", "handle", item.author.handle));
  head.append(title);
  const tags = el("p", "item-tags");
  if (item.urgency >= 100) tags.append(tag("Urgent", "tag-urgent"), " ");
  tags.append(item.message.held ? tag("Held: only its author sees it", "tag-held")
    : tag(item.message.status === "visible" ? "Visible in the room" : item.message.status));
  if (ROLE_LABELS[item.author.role] && item.author.role !== "member") {
    tags.append(" ", tag(ROLE_LABELS[item.author.role]));
  }
  const opened = el("time", "item-time", `Opened ${timeLabel(item.opened_at)}`);
  opened.dateTime = item.opened_at;
  tags.append(" ", opened);
  head.append(tags);
  article.append(head);

  // Why it is here.
  const why = el("ul", "item-why");
  if (item.report_count) {
    const reasons = item.report_reasons.map((r) => REPORT_LABELS.get(r) || r).join(", ");
    const line = el("li");
    line.append(el("strong", "", `Reported ${item.report_count === 1 ? "once" : `${item.report_count} times`}:`), ` ${reasons}`);
    why.append(line);
  }
  for (const signal of item.signals) {
    const line = el("li");
    const kind = SIGNAL_KINDS[signal.kind] || signal.kind;
    line.append(el("strong", "", `${DETECTORS[signal.detector] || signal.detector}:`),
      ` ${kind} (${SEVERITY[signal.severity] || signal.severity}) · rule: ${ruleTitle(signal.rule)}`);
    why.append(line);
  }
  if (item.rules.length) {
    const line = el("li");
    line.append(el("strong", "", "Rules involved:"), ` ${item.rules.map(ruleTitle).join(", ")}`);
    why.append(line);
  }
  article.append(why);
  if (item.appeal) {
    // The member's own words, asking for a decision to be looked at again.
    const appeal = el("blockquote", "item-appeal");
    const label = el("p", "item-appeal-label");
    label.append(el("strong", "", `${item.author.handle} asked for this to be looked at again:`));
    appeal.append(label, el("p", "", item.appeal));
    article.append(appeal);
  }

  // The message in its conversation.
  const contextLabel = el("p", "item-context-label", "In the conversation");
  contextLabel.id = `item-${id}-context`;
  const context = el("ol", "item-context");
  context.setAttribute("aria-labelledby", contextLabel.id);
  const lines = item.context && item.context.length ? item.context
    : [{ seq: item.message.seq, handle: item.author.handle, role: item.author.role, html: item.message.html, status: item.message.status, is_subject: true }];
  for (const line of lines) {
    const row = el("li", line.is_subject ? "context-line subject" : "context-line");
    const meta = el("p", "context-meta");
    meta.append(el("span", "msg-handle", line.handle));
    if (line.is_subject) meta.append(" ", tag("This message", "tag-subject"));
    if (line.status !== "visible") meta.append(" ", tag(line.status));
    const body = el("div", "msg-body");
    body.innerHTML = line.html; // server-made by chat/rendering.py: escaped, links only
    row.append(meta, body);
    if (line.is_subject) row.setAttribute("aria-current", "true");
    context.append(row);
  }
  article.append(contextLabel, context);

  if (needsCare(item)) {
    // Someone who may be struggling needs support, never a sanction: no ladder step.
    const care = el("p", "item-care");
    care.append(el("strong", "", `${item.author.handle} may be struggling.`),
      " Consider reaching out with support. A sanction isn't suggested for distress.");
    article.append(care);
  } else if (item.suggested) {
    const suggested = el("p", "item-suggested");
    suggested.append(`Suggested next step for ${item.author.handle}: `, el("strong", "", item.suggested.label));
    article.append(suggested);
  }

  article.append(renderActions(item));
  if (item.message.masked) article.append(renderOriginal(item));
  article.append(renderHistory(item));
  return li;
}

function field(labelText, control, hintText) {
  const wrap = el("div", "field");
  const label = el("label", "", labelText);
  label.htmlFor = control.id;
  wrap.append(label, control);
  if (hintText) {
    const hint = el("p", "hint", hintText);
    hint.id = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hint.id);
    wrap.append(hint);
  }
  return wrap;
}

function ruleSelect(item) {
  const select = el("select");
  select.id = `item-${item.id}-rule`;
  select.name = "rule";
  select.required = true;
  select.append(new Option("Choose a ground rule…", ""));
  const siteGroup = el("optgroup");
  siteGroup.label = "Site rules";
  const roomGroup = el("optgroup");
  roomGroup.label = `${item.room.title} rules`;
  for (const rule of RULES) {
    if (rule.room === null) siteGroup.append(new Option(rule.title, rule.code));
    else if (rule.room === item.room.slug) roomGroup.append(new Option(rule.title, rule.code));
  }
  select.append(siteGroup);
  if (roomGroup.childElementCount) select.append(roomGroup);
  const guess = item.rules[0] || item.report_reasons.map((r) => RULE_FOR_REASON[r]).find(Boolean) || "";
  if (guess && RULE_TITLES.has(guess)) select.value = guess;
  return select;
}

function button(text, action, className) {
  const b = el("button", className || "", text);
  b.type = "button";
  b.dataset.action = action;
  return b;
}

function renderActions(item) {
  const id = item.id;
  const form = el("form", "item-actions");
  form.noValidate = true;
  form.setAttribute("aria-label", `Actions for ${item.author.handle}'s message`);

  const rule = ruleSelect(item);
  const reason = el("input");
  reason.type = "text";
  reason.id = `item-${id}-reason`;
  reason.name = "reason";
  reason.maxLength = 500;
  reason.autocomplete = "off";
  const fields = el("div", "item-fields");
  fields.append(field("Ground rule", rule, "Every action cites one. The member sees its title."),
    field("Reason (optional)", reason, "Shown to the member with a warning, timeout or ban."));
  form.append(fields);

  const crisis = hasCrisisSignal(item);
  if (crisis) {
    // Someone may be struggling: the first thing to offer is a person, not a removal.
    const personGroup = el("fieldset", "action-group");
    personGroup.append(el("legend", "", `The person, ${item.author.handle}`),
      el("div", "action-buttons"));
    personGroup.lastChild.append(button("Take aside", "take_aside"));
    personGroup.append(el("p", "hint", "Invite them to a private one-to-one chat. They stay anonymous and can say not now."));
    if (item.author.role !== "member") personGroup.disabled = true;
    form.append(personGroup);
  }
  const messageGroup = el("fieldset", "action-group");
  messageGroup.append(el("legend", "", "The message"));
  const messageButtons = el("div", "action-buttons");
  messageButtons.append(button("Restore", "restore", "secondary"),
    button("Hide", "hide", crisis ? "secondary" : ""), button("Dismiss", "dismiss", "secondary"));
  messageGroup.append(messageButtons,
    el("p", "hint", "Restore shows it to the room. Hide removes it from every screen. Dismiss closes this item with no action (a held message is let through)."));

  const memberGroup = el("fieldset", "action-group");
  memberGroup.append(el("legend", "", `The member, ${item.author.handle}`));
  const minutes = el("input");
  minutes.type = "number";
  minutes.id = `item-${id}-minutes`;
  minutes.name = "duration_minutes";
  minutes.min = "1";
  minutes.max = String(30 * 24 * 60);
  minutes.step = "1";
  minutes.inputMode = "numeric";
  minutes.value = String(item.suggested && item.suggested.duration_minutes ? item.suggested.duration_minutes : 60);
  const scope = el("select");
  scope.id = `item-${id}-scope`;
  scope.name = "scope";
  scope.append(new Option(`Only in ${item.room.title}`, "room"), new Option("Everywhere on Hearth", "site"));
  const memberFields = el("div", "item-fields");
  memberFields.append(field("Timeout length in minutes", minutes, "1 minute to 30 days (43200)."),
    field("Where", scope));
  const memberButtons = el("div", "action-buttons");
  const kinds = { warning: "warn", timeout: "timeout", ban: "ban" };
  const suggestedAction = item.suggested && !needsCare(item) ? kinds[item.suggested.kind] : null;
  for (const [text, action] of [["Warn", "warn"], ["Time out", "timeout"], ["Ban", "ban"]]) {
    const b = button(text, action, action === "ban" ? "danger" : "secondary");
    if (action === suggestedAction) {
      b.classList.add("suggested");
      b.append(el("span", "suggested-mark", " (suggested)"));
    }
    memberButtons.append(b);
  }
  memberGroup.append(memberFields, memberButtons);
  if (item.author.role !== "member") {
    memberGroup.disabled = true;
    memberGroup.append(el("p", "hint", "Staff are managed by an administrator."));
  }

  const status = el("p", "item-status");
  status.setAttribute("role", "status");
  const error = el("p", "item-error form-errors");
  error.id = `item-${id}-error`;
  error.setAttribute("role", "alert");
  form.append(messageGroup, memberGroup, error, status);

  for (const control of [rule, reason, minutes, scope]) {
    control.addEventListener("input", () => { control.dataset.touched = "1"; });
    control.addEventListener("change", () => {
      control.dataset.touched = "1";
      control.removeAttribute("aria-invalid");
    });
  }
  form.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (target) act(item, form, target);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

function setBusy(card, busy) {
  for (const b of card.querySelectorAll(".item-actions button")) b.disabled = busy;
}

function act(item, form, target) {
  const action = target.dataset.action;
  const card = form.closest("li.queue-item");
  const error = form.querySelector(".item-error");
  const status = form.querySelector(".item-status");
  const rule = form.elements.rule;
  error.textContent = "";
  const reason = form.elements.reason.value.trim();
  if (action === "take_aside") {
    if (!send({ type: "open_take_aside", item_id: item.id })) {
      error.textContent = "Not connected right now, so nothing was done. Try again when the page says Live.";
      return;
    }
    status.textContent = "Invitation sent. The chat opens under Private conversations.";
    return;
  }
  if (action !== "dismiss" && !rule.value) {
    rule.setAttribute("aria-invalid", "true");
    error.textContent = "Choose the ground rule this is about first.";
    rule.focus();
    return;
  }
  let frame;
  if (["restore", "hide", "dismiss"].includes(action)) {
    frame = { type: "moderate", item_id: item.id, action, reason };
    if (action !== "dismiss") frame.rule = rule.value;
  } else {
    frame = { type: "sanction", item_id: item.id, action, rule: rule.value, reason,
      scope: form.elements.scope.value };
    if (action === "timeout") {
      const minutes = Number(form.elements.duration_minutes.value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 43200) {
        form.elements.duration_minutes.setAttribute("aria-invalid", "true");
        error.textContent = "A timeout needs a whole number of minutes, from 1 to 43200 (30 days).";
        form.elements.duration_minutes.focus();
        return;
      }
      form.elements.duration_minutes.removeAttribute("aria-invalid");
      frame.duration_minutes = minutes;
    }
    const confirmBox = form.querySelector(".distress-confirm input");
    if (confirmBox && (action === "timeout" || action === "ban")) {
      if (!confirmBox.checked) {
        error.textContent = "This member has shown signs of distress. Tick the box to confirm, or offer a take-aside instead.";
        confirmBox.focus();
        return;
      }
      if (!reason) {
        form.elements.reason.setAttribute("aria-invalid", "true");
        error.textContent = "Write a reason: a timeout or ban of someone in distress needs one.";
        form.elements.reason.focus();
        return;
      }
      frame.confirm_distress = true;
    }
    if (action === "ban" && target.dataset.confirm !== "1") {
      // A ban is the last step: ask once more, in place.
      target.dataset.confirm = "1";
      target.firstChild.textContent = "Confirm ban";
      status.textContent = `Press “Confirm ban” to ban ${item.author.handle} ${form.elements.scope.value === "site" ? "everywhere on Hearth" : `from ${item.room.title}`}.`;
      setTimeout(() => {
        if (!target.isConnected) return;
        target.dataset.confirm = "";
        target.firstChild.textContent = "Ban";
      }, 8000);
      return;
    }
  }
  if (!send(frame)) {
    error.textContent = "Not connected right now, so nothing was done. Try again when the page says Live.";
    return;
  }
  status.textContent = "Working…";
  actedOn.set(item.id, item);
  setBusy(card, true);
}

function hasCrisisSignal(item) {
  return (item.signals || []).some((signal) => signal.detector === "crisis")
    || (item.report_reasons || []).includes("worried");
}

// The server refused a timeout or ban (member_in_distress): say why, and ask on purpose.
function askToConfirmDistress(card, distress) {
  const form = card.querySelector(".item-actions");
  let box = form.querySelector(".distress-confirm");
  if (!box) {
    box = el("div", "distress-confirm notice notice-urgent");
    const state = distress.open_escalation_id != null
      ? `They have an open escalation (${tierLabel(distress.tier)}).`
      : "They showed signs of crisis in the last hour.";
    const input = el("input");
    input.type = "checkbox";
    input.id = `item-${form.closest("li").dataset.id}-confirm-distress`;
    const label = el("label", "", " I've read their situation, and a timeout or ban is still right. I've written the reason.");
    label.prepend(input);
    box.append(el("p", "", state), el("p", "hint", "Distress is never a reason for a sanction. Consider a take-aside first."), label);
    form.querySelector(".item-error").before(box);
  }
  form.elements.reason.setAttribute("aria-required", "true");
  box.querySelector("input").focus();
}

// --- member history (audited) -----------------------------------------------------------
function renderHistory(item) {
  const wrap = el("div", "item-history");
  const show = el("button", "secondary", `Show ${item.author.handle}'s history`);
  show.type = "button";
  show.id = `item-${item.id}-history`;
  const note = el("p", "hint", "Opening a member's history is logged.");
  note.id = `item-${item.id}-history-note`;
  show.setAttribute("aria-describedby", note.id);
  const result = el("div", "history-result");
  show.addEventListener("click", () => {
    const error = wrap.closest("article").querySelector(".item-error");
    if (!send({ type: "member_history", item_id: item.id })) {
      error.textContent = "Not connected right now. Try again when the page says Live.";
      return;
    }
    show.disabled = true;
  });
  wrap.append(show, note, result);
  return wrap;
}

// The room saw a masked message; what its author wrote is one logged read away.
function renderOriginal(item) {
  const wrap = el("div", "item-original");
  const show = el("button", "secondary", "Show what they wrote");
  show.type = "button";
  const note = el("p", "hint", "The room saw it masked. Reading the original is logged.");
  note.id = `item-${item.id}-original-note`;
  show.setAttribute("aria-describedby", note.id);
  const result = el("blockquote", "original-result");
  result.hidden = true;
  show.addEventListener("click", () => {
    const error = wrap.closest("article").querySelector(".item-error");
    if (!send({ type: "read_original", item_id: item.id })) {
      error.textContent = "Not connected right now. Try again when the page says Live.";
      return;
    }
    show.disabled = true;
  });
  wrap.append(show, note, result);
  return wrap;
}

function onOriginal(frame) {
  const card = cardFor(frame.item_id);
  if (!card) return;
  const result = card.querySelector(".original-result");
  if (!result) return;
  result.innerHTML = frame.html; // server-made by chat/rendering.py: escaped, links only
  result.hidden = false;
  card.querySelector(".item-original button").hidden = true;
}

function onHistory(frame) {
  const card = cardFor(frame.item_id);
  if (!card) return;
  const wrap = card.querySelector(".item-history");
  wrap.querySelector("button").disabled = false;
  const result = wrap.querySelector(".history-result");
  const heading = el("h4", "", `Recent messages by ${frame.member.handle} (${frame.messages.length})`);
  heading.id = `item-${frame.item_id}-history-heading`;
  heading.tabIndex = -1;
  const listEl = el("ol", "history-list");
  listEl.setAttribute("aria-labelledby", heading.id);
  for (const message of frame.messages) {
    const row = el("li", "context-line");
    const meta = el("p", "context-meta");
    const time = el("time", "", timeLabel(message.sent_at));
    time.dateTime = message.sent_at;
    meta.append(el("span", "", message.room), " · ", time);
    if (message.status !== "visible") meta.append(" ", tag(message.status));
    const body = el("div", "msg-body");
    if (message.masked) meta.append(" ", tag("masked for the room; their words shown"));
    body.innerHTML = message.html; // server-made
    row.append(meta, body);
    listEl.append(row);
  }
  if (!frame.messages.length) listEl.append(el("li", "", "No messages."));
  result.replaceChildren(heading, listEl);
  heading.focus();
}

// --- on duty ----------------------------------------------------------------------------
function onDutyFrame(frame) {
  onDuty = Boolean(frame.on_duty);
  delete dutyToggle.dataset.busy;
  dutyToggle.disabled = false;
  dutyToggle.textContent = onDuty ? "Check out" : "Check in";
  const you = onDuty ? "You're on duty. New escalations will reach you here."
    : "You're not on duty. You'll still see escalations nobody has answered in time.";
  if (dutyYou.textContent !== you) dutyYou.textContent = you;
  dutyYou.dataset.onDuty = String(onDuty);
  const count = frame.on_duty_count ?? frame.roster.length;
  dutyCount.textContent = count === 0 ? "Nobody from the team is on duty right now."
    : `${count} ${count === 1 ? "person" : "people"} on duty.`;
  dutyRoster.replaceChildren(...(frame.roster || []).map((person) => {
    const li = el("li", "", "");
    li.append(el("span", "handle", person.handle));
    if (ROLE_LABELS[person.role]) li.append(" ", el("span", `badge role-${person.role}`, ROLE_LABELS[person.role]));
    if (person.since) {
      const since = el("time", "duty-since", `since ${timeLabel(person.since)}`);
      since.dateTime = person.since;
      li.append(" ", since);
    }
    return li;
  }));
  dutyRoster.hidden = !dutyRoster.childElementCount;
  nobodyOnDutyBanner.hidden = count !== 0;
  updateAlerts();
}

dutyToggle.addEventListener("click", () => {
  if (onDuty === null) return;
  pageError.textContent = "";
  if (!onDuty) prepareAlerts(); // a click: the browser lets us ask and make sound now
  if (!send({ type: onDuty ? "check_out" : "check_in" })) {
    pageError.textContent = "Not connected right now, so your duty status didn't change. Try again when the page says Live.";
    return;
  }
  dutyToggle.dataset.busy = "1";
  dutyToggle.disabled = true;
});

// --- escalations ------------------------------------------------------------------------
function handleOf(who) {
  if (!who) return "";
  return typeof who === "string" ? who : who.handle || "";
}

function tierLabel(tier) {
  return (TIERS[tier] || { label: tier }).label;
}

function escalationOrder(a, b) {
  const openA = a.state === "open" ? 0 : 1;
  const openB = b.state === "open" ? 0 : 1;
  const rank = (tier) => (TIERS[tier] ? TIERS[tier].rank : 9);
  return openA - openB || rank(a.tier) - rank(b.tier) || a.created_at.localeCompare(b.created_at) || a.id - b.id;
}

function escalationCardFor(id) {
  return escalationsEl.querySelector(`li.escalation[data-id="${id}"]`);
}

function durationLabel(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

function tickAges() {
  const now = Date.now();
  for (const age of escalationsEl.querySelectorAll(".esc-age")) {
    age.textContent = `open for ${durationLabel(now - Date.parse(age.dataset.since))}`;
  }
}
setInterval(tickAges, 1000);

function renderSla(sla) {
  if (!sla) { slaEl.textContent = ""; return; }
  const median = (seconds) => (seconds == null ? "not enough data yet" : durationLabel(seconds * 1000));
  slaEl.textContent = `Last ${sla.window_days} days: ${sla.count} ${sla.count === 1 ? "escalation" : "escalations"}. `
    + `Median time to acknowledge: ${median(sla.median_seconds_to_acknowledge)}. `
    + `Median time to resolve: ${median(sla.median_seconds_to_resolve)}.`;
}

function onEscalations(frame) {
  const fresh = new Set(frame.items.map((escalation) => escalation.id));
  for (const id of [...escalations.keys()]) if (!fresh.has(id)) removeEscalation(id);
  for (const escalation of frame.items) upsertEscalation(escalation);
  renderSla(frame.sla);
  refreshEscalations();
}

function onEscalation(frame) {
  const escalation = frame.escalation;
  if (frame.event === "resolved" || escalation.state === "resolved") {
    const known = escalations.has(escalation.id);
    removeEscalation(escalation.id);
    if (known) announce(`Resolved: ${tierLabel(escalation.tier)} in ${escalation.room.title}${escalation.resolved_by ? `, by ${handleOf(escalation.resolved_by)}` : ""}.`);
    refreshEscalations();
    return;
  }
  const card = upsertEscalation(escalation);
  if (frame.event === "new" || frame.event === "re_escalated" || frame.event === "raised") {
    card.classList.add("fresh");
    const where = `${tierLabel(escalation.tier)} in ${escalation.room.title}, from ${escalation.member.handle}`;
    const text = frame.event === "new" ? `New escalation: ${where}.`
      : frame.event === "raised" ? `Risk has gone up: ${where}.`
      : `Nobody has answered yet: ${where}.`;
    // An imminent risk interrupts; everything else waits for a pause. Their own regions, so
    // a queue update that follows does not talk over them.
    speak(escalation.tier === "imminent" ? alertAnnouncer : escalationAnnouncer, text);
    if (escalation.state === "open" || frame.event === "raised") alertPerson(escalation);
  } else if (frame.event === "updated") {
    announce(`Update on ${escalation.member.handle}: ${tierLabel(escalation.tier)} in ${escalation.room.title}.`);
  } else if (frame.event === "acknowledged" && escalation.acknowledged_by) {
    announce(`${handleOf(escalation.acknowledged_by)} acknowledged ${escalation.member.handle}'s escalation.`);
  }
  refreshEscalations();
}

function speak(region, text) {
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

function upsertEscalation(escalation) {
  escalations.set(escalation.id, escalation);
  const old = escalationCardFor(escalation.id);
  const card = renderEscalation(escalation);
  if (old) {
    carryOver(old, card);
    if (old.classList.contains("fresh") && escalation.state === "open") card.classList.add("fresh");
    // A result stays readable; "Working…" ends with the update that answers it.
    const status = old.querySelector(".esc-status");
    if (status.dataset.state === "done") {
      const twin = card.querySelector(".esc-status");
      twin.dataset.state = "done";
      twin.textContent = status.textContent;
    }
    old.replaceWith(card);
  }
  const sorted = [...escalations.values()].sort(escalationOrder);
  const index = sorted.findIndex((other) => other.id === escalation.id);
  const next = sorted.slice(index + 1).map((other) => escalationCardFor(other.id)).find(Boolean);
  const focused = card.contains(document.activeElement) ? document.activeElement : null;
  if (next !== card.nextElementSibling || !card.isConnected) escalationsEl.insertBefore(card, next || null);
  if (focused && document.activeElement !== focused) focused.focus();
  tickAges();
  return card;
}

function removeEscalation(id) {
  const card = escalationCardFor(id);
  escalations.delete(id);
  if (!card) return;
  const hadFocus = card.contains(document.activeElement);
  const next = card.nextElementSibling || card.previousElementSibling;
  card.remove();
  if (hadFocus) {
    const target = next && next.querySelector("h3");
    if (target) { target.tabIndex = -1; target.focus(); } else { escalationsHeading.focus(); }
  }
}

function refreshEscalations() {
  escalationsEmpty.hidden = escalations.size !== 0;
  const open = [...escalations.values()].filter((escalation) => escalation.state === "open").length;
  const text = escalations.size ? `Escalations (${escalations.size}${open ? `, ${open} waiting` : ""})` : "Escalations";
  if (escalationsHeading.textContent !== text) escalationsHeading.textContent = text;
  updateAlerts();
}

// --- alerts that reach a person: sound, desktop notification, the tab's title -------------
// Repeated every REPEAT_MS while anything is unacknowledged, so a missed first alert is not
// the only one. Notifications name the room only: never a handle, never anyone's words.
const BASE_TITLE = "Hearth staff";
const SOUND_KEY = "hearth.staff.alertSound";
const REPEAT_MS = 30000;
const BLINK_MS = 1000;
const BLINKS = 6;
let audioContext = null;
let repeatTimer = null;
let blinkTimer = null;

soundToggle.checked = localStorage.getItem(SOUND_KEY) !== "off";
soundToggle.addEventListener("change", () => {
  localStorage.setItem(SOUND_KEY, soundToggle.checked ? "on" : "off");
  if (soundToggle.checked) prepareAudio();
});

function unacknowledged() {
  return [...escalations.values()].filter((escalation) => escalation.state === "open");
}

function titleFor(count) {
  return count ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
}

function prepareAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (!audioContext) audioContext = new Context();
  if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
}

function prepareAlerts() {
  prepareAudio();
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

// Two soft tones, made here: no sound file to fetch.
function chime() {
  if (!onDuty || !soundToggle.checked) return;
  prepareAudio();
  if (!audioContext || audioContext.state !== "running") return;
  const start = audioContext.currentTime;
  for (const [offset, pitch] of [[0, 660], [0.22, 880]]) {
    const tone = audioContext.createOscillator();
    const volume = audioContext.createGain();
    tone.type = "sine";
    tone.frequency.value = pitch;
    volume.gain.setValueAtTime(0.0001, start + offset);
    volume.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
    tone.connect(volume).connect(audioContext.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.4);
  }
}

function notify(escalation) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification("Hearth: someone may need help", {
      body: `A member may need help now — ${escalation.room.title}`,
      tag: `hearth-escalation-${escalation.id}`,
      requireInteraction: escalation.tier === "imminent",
    });
    note.onclick = () => { window.focus(); note.close(); };
  } catch { /* some browsers allow notifications only from a service worker */ }
}

function blinkTitle() {
  clearInterval(blinkTimer);
  let left = BLINKS;
  blinkTimer = setInterval(() => {
    const count = unacknowledged().length;
    left -= 1;
    if (!count || left <= 0) {
      clearInterval(blinkTimer);
      blinkTimer = null;
      document.title = titleFor(count);
      return;
    }
    document.title = left % 2 ? `(${count}) New alert · ${BASE_TITLE}` : titleFor(count);
  }, BLINK_MS);
}

function alertPerson(escalation) {
  chime();
  notify(escalation);
  blinkTitle();
}

function updateAlerts() {
  const count = unacknowledged().length;
  if (!blinkTimer || !count) document.title = titleFor(count);
  if (count && !repeatTimer) {
    repeatTimer = setInterval(() => {
      if (!unacknowledged().length) return;
      chime();
      blinkTitle();
    }, REPEAT_MS);
  } else if (!count && repeatTimer) {
    clearInterval(repeatTimer);
    repeatTimer = null;
  }
}

function renderEscalation(escalation) {
  const id = escalation.id;
  const li = el("li", `escalation tier-${escalation.tier} state-${escalation.state}`);
  li.dataset.id = String(id);
  const article = el("article", "item esc");
  article.setAttribute("aria-labelledby", `esc-${id}-title`);
  li.append(article);

  const head = el("div", "item-head");
  const title = el("h3", "");
  title.id = `esc-${id}-title`;
  title.append(`${tierLabel(escalation.tier)}: `, el("span", "handle", escalation.member.handle),
    ` in ${escalation.room.title}`);
  head.append(title);
  const tags = el("p", "item-tags");
  tags.append(tag(tierLabel(escalation.tier), `tag-tier tag-${escalation.tier}`));
  if (escalation.state === "open") tags.append(" ", tag("Waiting for someone", "tag-waiting"));
  if (escalation.re_escalated_at && escalation.state === "open") {
    tags.append(" ", tag("Nobody answered in time", "tag-urgent"));
  }
  if (escalation.member_asked_at && escalation.tier !== "asked") tags.append(" ", tag("Asked to talk", "tag-asked"));
  const age = el("span", "esc-age item-time");
  age.dataset.since = escalation.created_at;
  const opened = el("time", "item-time", `since ${timeLabel(escalation.created_at)}`);
  opened.dateTime = escalation.created_at;
  tags.append(" ", age, " ", opened);
  head.append(tags);
  article.append(head);

  const ack = el("p", "esc-ack");
  if (escalation.acknowledged_by || escalation.acknowledged_at) {
    ack.append("Acknowledged by ", el("strong", "", handleOf(escalation.acknowledged_by) || "someone"));
    if (escalation.acknowledged_at) ack.append(` at ${timeLabel(escalation.acknowledged_at)}`);
    ack.append(".");
  } else {
    ack.textContent = "Nobody has acknowledged this yet.";
  }
  article.append(ack);
  if (escalation.aside) {
    article.append(el("p", "esc-aside", `Take-aside: ${ASIDE_STATES[escalation.aside.state] || escalation.aside.state}.`));
  }

  // The message in its conversation, as the room saw it then.
  const contextLabel = el("p", "item-context-label", "In the conversation");
  contextLabel.id = `esc-${id}-context`;
  const context = el("ol", "item-context");
  context.setAttribute("aria-labelledby", contextLabel.id);
  const lines = [...(escalation.context || [])];
  if (escalation.message && !lines.some((line) => line.seq === escalation.message.seq)) {
    lines.push({ seq: escalation.message.seq, handle: escalation.member.handle, html: escalation.message.html });
  }
  for (const line of lines) {
    const subject = escalation.message && line.seq === escalation.message.seq;
    const row = el("li", subject ? "context-line subject" : "context-line");
    const meta = el("p", "context-meta");
    meta.append(el("span", "msg-handle", line.handle));
    if (subject) meta.append(" ", tag("This message", "tag-subject"));
    const body = el("div", "msg-body");
    body.innerHTML = line.html; // server-made by chat/rendering.py: escaped, links only
    row.append(meta, body);
    if (subject) row.setAttribute("aria-current", "true");
    context.append(row);
  }
  if (!lines.length) context.append(el("li", "context-line", "They asked to talk to someone."));
  article.append(contextLabel, context);
  article.append(renderEscalationActions(escalation));
  return li;
}

function renderEscalationActions(escalation) {
  const id = escalation.id;
  const form = el("form", "esc-actions");
  form.noValidate = true;
  form.setAttribute("aria-label", `Actions for ${escalation.member.handle}'s escalation`);
  const buttons = el("div", "action-buttons");
  if (escalation.state === "open") buttons.append(button("Acknowledge", "acknowledge"));
  const asideActive = escalation.aside && ["invited", "open"].includes(escalation.aside.state);
  if (!asideActive) buttons.append(button("Take aside", "take_aside", escalation.state === "open" ? "secondary" : ""));
  form.append(buttons);

  const note = el("textarea");
  note.id = `esc-${id}-note`;
  note.name = "note";
  note.rows = 2;
  note.maxLength = 1000;
  note.required = true;
  const noteField = field("Resolution note (required)", note, "What happened and what was done. Kept with the record; the member doesn't see it.");
  note.setAttribute("aria-describedby", `${note.id}-hint esc-${id}-error`);
  const resolveButtons = el("div", "action-buttons");
  resolveButtons.append(button("Resolve", "resolve", "secondary"));
  form.append(noteField, resolveButtons);

  const error = el("p", "esc-error item-error form-errors");
  error.id = `esc-${id}-error`;
  error.setAttribute("role", "alert");
  const status = el("p", "esc-status item-status");
  status.setAttribute("role", "status");
  form.append(error, status);
  note.addEventListener("input", () => { note.dataset.touched = "1"; note.removeAttribute("aria-invalid"); });
  form.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (target) actOnEscalation(escalation, form, target.dataset.action);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

function setEscalationBusy(card, busy) {
  for (const b of card.querySelectorAll(".esc-actions button")) b.disabled = busy;
}

function actOnEscalation(escalation, form, action) {
  const card = form.closest("li.escalation");
  const error = form.querySelector(".esc-error");
  const status = form.querySelector(".esc-status");
  error.textContent = "";
  let frame;
  if (action === "acknowledge") {
    frame = { type: "acknowledge", escalation_id: escalation.id };
  } else if (action === "take_aside") {
    frame = { type: "open_take_aside", escalation_id: escalation.id };
  } else {
    const note = form.elements.note;
    if (!note.value.trim()) {
      note.setAttribute("aria-invalid", "true");
      error.textContent = "Write a short note before resolving: what happened and what was done.";
      note.focus();
      return;
    }
    frame = { type: "resolve", escalation_id: escalation.id, note: note.value.trim() };
  }
  if (!send(frame)) {
    error.textContent = "Not connected right now, so nothing was done. Try again when the page says Live.";
    return;
  }
  if (action === "take_aside") asideWanted = escalation.id;
  status.textContent = "Working…";
  setEscalationBusy(card, true);
  // Answered by action_done, an escalation update or a take-aside; never leave it stuck.
  setTimeout(() => {
    if (!card.isConnected) return;
    setEscalationBusy(card, false);
    if (status.textContent === "Working…") status.textContent = "";
  }, 5000);
}

function onEscalationDone(frame) {
  const card = escalationCardFor(frame.escalation_id);
  const done = ESCALATION_DONE[frame.action] || "Done.";
  announce(done);
  if (!card) return;
  const status = card.querySelector(".esc-status");
  status.dataset.state = "done";
  status.textContent = done;
  setEscalationBusy(card, false);
}

// --- take-aside (the staff side) --------------------------------------------------------
function onAsideState(frame) {
  const aside = frame.aside;
  if (!aside || aside.you !== "staff") return;
  let conversation = staffAsides.get(aside.id);
  let before = null;
  if (conversation) {
    ({ before } = conversation.update(aside));
  } else {
    if (aside.state === "declined" || aside.state === "closed") {
      markEscalationAside(aside);
      return;
    }
    conversation = new AsideConversation(aside, {
      send,
      announce,
      onDismiss: (ended) => {
        staffAsides.delete(ended.id);
        staffAsidesSection.hidden = staffAsides.size === 0;
        escalationsHeading.focus();
      },
    });
    staffAsides.set(aside.id, conversation);
    staffAsidesEl.append(conversation.root);
    staffAsidesSection.hidden = false;
  }
  markEscalationAside(aside);
  const member = aside.member.handle;
  if (before !== aside.state) {
    if (aside.state === "open") announce(`${member} accepted. The private chat is open.`);
    else if (aside.state === "declined") announce(`${member} said not now.`);
    else if (aside.state === "closed") announce(`The private chat with ${member} has ended.`);
  }
  const wanted = asideWanted !== null && aside.state === "invited"
    && (aside.escalation_id == null || aside.escalation_id === asideWanted);
  if (wanted || (aside.state === "open" && before === "invited")) {
    if (wanted) asideWanted = null;
    if (wanted || !document.activeElement || document.activeElement === document.body
        || conversation.root.contains(document.activeElement)) {
      conversation.root.scrollIntoView({ block: "nearest" });
      conversation.focus();
    }
  }
}

// The escalation card shows where its take-aside stands (the server sends the update too).
function markEscalationAside(aside) {
  for (const escalation of escalations.values()) {
    if (escalation.aside && escalation.aside.id === aside.id && escalation.aside.state !== aside.state) {
      upsertEscalation({ ...escalation, aside: { id: aside.id, state: aside.state } });
    }
  }
}

function onAsideMessage(frame) {
  const conversation = staffAsides.get(frame.aside_id);
  if (!conversation) return;
  conversation.addMessage(frame);
  if (frame.from !== "staff" && !conversation.root.contains(document.activeElement)) {
    announce(`Private message from ${frame.handle}`);
  }
}

function onAsideAck(frame) {
  const conversation = staffAsides.get(frame.aside_id);
  if (conversation) conversation.ack(frame);
}

function asideForError(frame) {
  if (frame.aside_id != null && staffAsides.has(frame.aside_id)) return staffAsides.get(frame.aside_id);
  if (frame.client_id) {
    for (const conversation of staffAsides.values()) if (conversation.owns(frame.client_id)) return conversation;
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
  }
}

connect();
