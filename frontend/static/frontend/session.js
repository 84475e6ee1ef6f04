// Hosted sessions on the room page (docs/protocol.md, "Hosted sessions (room socket)"): the
// panel every member sees (phase, turn queue, share timer, reactions, feedback card) and the
// console beside the chat for the session's hosts. The server holds the whole state and sends
// all of it in every `session_state`; this module only shows the newest one and works out
// the member's own part (am I a host, is my hand up, is it my turn) from the handles in it.

import { el, sendFrame, servedProtocol, socketUrl } from "./common.js";

const { FRAME, STAFF_FRAME, ERROR } = servedProtocol();

const PHASES = ["opening", "sharing", "discussion", "closing"];
const PHASE_LABELS = { opening: "Opening", sharing: "Sharing", discussion: "Discussion", closing: "Closing" };
const REACTIONS = {
  heart: { emoji: "❤️", label: "a heart" },
  hug: { emoji: "🤗", label: "a hug" },
  me_too: { emoji: "🙋", label: "“me too”" },
  thank_you: { emoji: "🙏", label: "“thank you”" },
};
const MOODS = ["very low", "low", "okay", "good", "very good"];
const SHARING_TEXT = "Raise your hand when you'd like a turn. While someone shares, everyone "
  + "else listens and can send support. Passing is always fine.";
const DISCUSSION_TEXT = "Open conversation: everyone can post.";
// Refusals of a session frame: shown where the person acted (panel, console or feedback card).
const SESSION_ERRORS = new Set([ERROR.invalid_phase, ERROR.hand_already_raised, ERROR.hand_not_raised,
  ERROR.not_your_turn, ERROR.not_a_host, ERROR.feedback_already_given, ERROR.session_paused]);
// Refusals that can answer a host action or a feedback frame as well as other frames.
const SHARED_ERRORS = new Set([ERROR.invalid_field, ERROR.missing_field, ERROR.member_not_found,
  ERROR.message_not_found, ERROR.note_too_long, ERROR.rate_limited, ERROR.forbidden, ERROR.internal_error,
  ERROR.room_not_found, ERROR.escalation_not_found, ERROR.aside_not_found, ERROR.aside_closed]);
const AWAIT_MS = 10000;
const REACTION_SHOW_MS = 8000;
const MAX_STRIP = 5;
const OFFLINE = "You're not connected right now. Please try again in a moment.";

const $ = (id) => document.getElementById(id);

function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function minutesLabel(seconds) {
  const minutes = Math.round(seconds / 60);
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  return `${minutes} minutes`;
}

// "starts in 25 min", in words a member can take in at a glance.
export function startsIn(startMs, nowMs) {
  const minutes = Math.ceil((startMs - nowMs) / 60000);
  if (minutes <= 0) return "starting now";
  if (minutes < 60) return `starts in ${minutes} min`;
  if (minutes < 24 * 60) {
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest ? `starts in ${hours} h ${rest} min` : `starts in ${hours} h`;
  }
  const days = Math.round(minutes / (24 * 60));
  return `starts in ${days} day${days === 1 ? "" : "s"}`;
}

// The start of a session in the member's own time zone, whatever the host's is.
export function localStart(iso) {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  }).format(new Date(iso));
}

// Buttons that change meaning stay focusable: a disabled button would drop keyboard focus.
function setAvailable(button, available) {
  if (available) button.removeAttribute("aria-disabled");
  else button.setAttribute("aria-disabled", "true");
}

function available(button) {
  return button.getAttribute("aria-disabled") !== "true";
}

// The staff socket, opened only when a staff host takes someone aside or escalates.
class StaffLink {
  constructor({ onFrame, onClosed }) {
    this.ws = null;
    this.waiting = [];
    this.onFrame = onFrame;
    this.onClosed = onClosed;
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return sendFrame(this.ws, frame);
    this.waiting.push(frame);
    if (!this.ws) this.open();
    return true;
  }

  open() {
    const ws = new WebSocket(socketUrl("/ws/staff/"));
    this.ws = ws;
    ws.addEventListener("open", () => {
      const frames = this.waiting;
      this.waiting = [];
      for (const frame of frames) sendFrame(ws, frame);
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws === ws) this.ws = null;
      if (this.waiting.length) {
        this.waiting = [];
        this.onClosed(event);
      }
    });
  }
}

export class SessionUI {
  // host: {slug, send(frame) -> bool, announce(text), showComposerError(text),
  //        updateComposer(), focusComposer(), sharerMessageSeq(handle) -> the latest seq
  //        of that handle's messages on screen, or null,
  //        messageItem(seq) -> <li>|null}
  constructor(host) {
    this.host = host;
    this.session = null;
    this.me = null;
    this.presence = null;
    this.prompts = [];
    this.awaiting = null;       // {kind: "member"|"host"|"react"|"feedback", at}
    this.ended = null;          // the session_ended frame, for the feedback card
    this.slowUntil = 0;
    this.timer = null;
    this.scheduleTimer = null;
    this.staff = null;
    this.dialogAction = null;
    this.dialogOpener = null;
    this.panel = $("session-panel");
    this.roomKind = this.panel.dataset.roomKind;
    this.console = $("host-console");
    this.bindPanel();
    this.bindConsole();
    this.bindFeedback();
  }

  // --- what room.js asks ----------------------------------------------------------------
  get live() {
    return Boolean(this.session) && this.session.state === "live";
  }

  isHost() {
    return Boolean(this.session && this.me)
      && this.session.hosts.some((person) => person.handle === this.me.handle);
  }

  isStaff() {
    return Boolean(this.me) && ["peer_supporter", "moderator", "admin"].includes(this.me.role);
  }

  sharer() {
    return this.live && this.session.sharer ? this.session.sharer.handle : null;
  }

  myTurn() {
    return Boolean(this.me) && this.sharer() === this.me.handle;
  }

  myHandUp() {
    return this.live && Boolean(this.me)
      && this.session.queue.some((entry) => entry.handle === this.me.handle);
  }

  // Why this member cannot post right now, in plain words, or null.
  postingBlock() {
    if (!this.live || this.isHost()) return null;
    if (this.session.paused) {
      return "The host has paused the session for a moment. You can read along; posting opens again when they resume.";
    }
    const sharer = this.sharer();
    if (this.session.phase === "sharing" && sharer && sharer !== this.me.handle) {
      return `${sharer} is sharing. You can send support with a reaction, or raise your hand for a turn.`;
    }
    return null;
  }

  // Slow mode: the send button waits this long after a refusal.
  slowWait() {
    return Math.max(0, this.slowUntil - Date.now());
  }

  // What to say when Send is pressed while slow mode still asks to wait (the hint counts).
  slowRefusal() {
    return this.slowWait() > 0 ? "Slow mode is on, so everyone gets space. Your message is still here; you can send it in a moment." : null;
  }

  slowNote() {
    const wait = this.slowWait();
    return wait > 0 ? `Slow mode is on: you can send again in ${Math.ceil(wait / 1000)} seconds. Your message is still here.` : null;
  }

  // Extra entries for a message's options menu: [label, action].
  menuItems(frame) {
    if (!this.live || !this.isHost()) return [];
    const pinned = this.session.pinned;
    if (pinned && pinned.seq === frame.seq) return [["Unpin message", () => this.hostAction("unpin")]];
    return [["Pin message", () => this.hostAction("pin", { seq: frame.seq })]];
  }

  welcome(frame) {
    this.me = frame.you;
    const prompts = frame.prompts || (frame.room && frame.room.prompts);
    if (Array.isArray(prompts)) this.prompts = prompts;
    if (frame.room && frame.room.kind) this.roomKind = frame.room.kind;
    this.awaiting = null;
    this.apply(frame.session || null, { force: true, quiet: true });
  }

  setPresence(presence) {
    this.presence = presence;
    if (this.isHost()) this.renderPeople();
  }

  // A frame for this module: true when it was one.
  onFrame(frame) {
    switch (frame.type) {
      case FRAME.session_state: this.apply(frame.session, {}); return true;
      case FRAME.reaction: this.onReaction(frame); return true;
      case FRAME.session_ended: this.onEnded(frame); return true;
      case FRAME.feedback_received: this.onFeedbackReceived(frame); return true;
      default: return false;
    }
  }

  // An error frame that answers something this module sent: true when handled here.
  onError(frame) {
    if (frame.client_id) return false; // a refused message: room.js gives the text back
    const awaiting = this.awaiting && Date.now() - this.awaiting.at < AWAIT_MS ? this.awaiting : null;
    if (!SESSION_ERRORS.has(frame.code) && !(awaiting && SHARED_ERRORS.has(frame.code))) return false;
    this.awaiting = null;
    const kind = awaiting ? awaiting.kind : (frame.code === ERROR.not_a_host ? "host" : "member");
    if (kind === "host" || kind === "staff") {
      this.consoleError(frame.detail);
    } else if (kind === "feedback") {
      $("feedback-error").textContent = frame.detail;
      $("feedback-send").disabled = false;
    } else {
      this.panelError(frame.detail);
    }
    return true;
  }

  // --- state ----------------------------------------------------------------------------
  apply(next, { force = false, quiet = false }) {
    const before = this.session;
    if (next && before && !force && next.id === before.id && next.version < before.version) return;
    if (next && Array.isArray(next.prompts)) this.prompts = next.prompts;
    this.session = next;
    if (!next || next.state !== "live" || !next.slow_mode_seconds) this.slowUntil = 0;
    if (this.awaiting && (this.awaiting.kind === "host" || this.awaiting.kind === "member")) {
      this.awaiting = null;
    }
    if (!quiet) this.announceChanges(before, next);
    this.render();
    this.host.updateComposer();
  }

  announceChanges(before, next) {
    const say = (text) => this.host.announce(text);
    if (!next) return;
    const was = before && before.id === next.id ? before : null;
    if (next.state === "live" && (!was || was.state !== "live")) say("The session has started.");
    if (next.state !== "live") return;
    if (was && was.state === "live" && was.phase !== next.phase) {
      say(`The session moved to ${PHASE_LABELS[next.phase]}.`);
    }
    if (was && was.paused !== next.paused) {
      say(next.paused ? "The host paused the session for a moment." : "The session is back on.");
    }
    const oldSharer = was && was.sharer ? was.sharer.handle : null;
    const newSharer = next.sharer ? next.sharer.handle : null;
    if (oldSharer !== newSharer) {
      if (newSharer && this.me && newSharer === this.me.handle) {
        say(`It's your turn to share. You have ${minutesLabel(next.share_seconds)}. Passing is fine too.`);
      } else if (newSharer) {
        say(`${newSharer} is sharing now.`);
      } else if (oldSharer) {
        say(`${oldSharer}'s turn has ended.`);
      }
    }
    if (was && was.slow_mode_seconds !== next.slow_mode_seconds) {
      say(next.slow_mode_seconds ? `Slow mode is on: one message every ${next.slow_mode_seconds} seconds.` : "Slow mode is off.");
    }
    if (was && was.prompt !== next.prompt && next.prompt) say(`New prompt: ${next.prompt}`);
  }

  // --- the member's panel ---------------------------------------------------------------
  bindPanel() {
    $("hand-raise").addEventListener("click", () => this.memberAction({ type: "raise_hand" }, $("hand-lower")));
    $("hand-lower").addEventListener("click", () => this.memberAction({ type: "lower_hand" }, $("hand-raise")));
    $("turn-end").addEventListener("click", () => this.memberAction({ type: "end_turn" }, $("hand-raise")));
    $("turn-pass").addEventListener("click", () => this.memberAction({ type: "pass" }, $("hand-raise")));
    for (const button of this.panel.querySelectorAll("button.reaction")) {
      button.addEventListener("click", () => this.react(button.dataset.reaction));
    }
  }

  // After the state comes back, the keyboard lands on the button that replaced this one.
  memberAction(frame, then) {
    this.panelError("");
    if (!this.host.send(frame)) { this.panelError(OFFLINE); return; }
    this.awaiting = { kind: "member", at: Date.now() };
    this.focusAfter = then;
  }

  react(reaction) {
    this.panelError("");
    const frame = { type: "react", reaction };
    const sharer = this.sharer();
    const seq = sharer ? this.host.sharerMessageSeq(sharer) : null;
    if (seq != null) frame.seq = seq;
    if (!this.host.send(frame)) { this.panelError(OFFLINE); return; }
    this.awaiting = { kind: "react", at: Date.now() };
  }

  panelError(text) {
    $("session-error").textContent = text;
    clearTimeout(this.panelErrorTimer);
    if (text) this.panelErrorTimer = setTimeout(() => { $("session-error").textContent = ""; }, 10000);
  }

  render() {
    const s = this.session;
    const show = Boolean(s) || this.roomKind === "hosted" || Boolean(this.ended);
    this.panel.hidden = !show;
    $("room-body").classList.toggle("has-session", show);
    this.renderPanel();
    this.renderConsole();
    this.tick();
  }

  renderPanel() {
    const s = this.session;
    const live = this.live;
    const title = $("session-title");
    const phaseEl = $("session-phase");
    const phaseText = $("session-phase-text");
    if (!s) {
      title.textContent = this.ended ? "Session ended" : "Hosted sessions";
      phaseEl.textContent = this.ended ? "" : "No session is scheduled in this room right now.";
    } else {
      title.textContent = s.title;
      if (s.state === "scheduled") phaseEl.textContent = "Not started yet";
      else if (s.state === "ended") phaseEl.textContent = "This session has ended.";
      else phaseEl.textContent = `Phase ${PHASES.indexOf(s.phase) + 1} of 4: ${PHASE_LABELS[s.phase]}`;
    }
    this.panel.dataset.state = s ? s.state : "none";
    this.panel.dataset.phase = live ? s.phase : "";

    // Pinned message, at the top.
    const pinned = live && s.pinned ? s.pinned : null;
    $("session-pinned").hidden = !pinned;
    if (pinned) {
      const body = $("session-pinned-body");
      if (pinned.collapsed) body.textContent = "This message is waiting for a moderator";
      else body.innerHTML = pinned.html; // server-made by chat/rendering.py, as in the list
      $("session-pinned-by").textContent = pinned.handle ? `· from ${pinned.handle}` : "";
    }

    // Schedule, in the member's own time zone.
    const schedule = $("session-schedule");
    schedule.hidden = !(s && s.state === "scheduled" && s.starts_at);
    this.renderSchedule();

    $("session-paused").hidden = !(live && s.paused);
    if (live && s.paused) {
      $("session-grounding").textContent = (s.template && s.template.grounding_text)
        || "Take a slow breath. We'll carry on in a moment.";
    }

    const paragraphs = [];
    if (live) {
      const t = s.template || {};
      if (s.phase === "opening") {
        if (t.welcome_text) paragraphs.push(["session-welcome", t.welcome_text]);
        if (t.introductions_prompt) paragraphs.push(["session-intro", t.introductions_prompt]);
      } else if (s.phase === "sharing") {
        paragraphs.push(["session-sharing", SHARING_TEXT]);
      } else if (s.phase === "discussion") {
        paragraphs.push(s.prompt ? ["session-prompt", s.prompt] : ["session-open", DISCUSSION_TEXT]);
      } else if (s.phase === "closing" && t.closing_prompt) {
        paragraphs.push(["session-closing", t.closing_prompt]);
      }
    }
    phaseText.replaceChildren(...paragraphs.map(([cls, text]) => {
      const p = el("p", cls);
      if (cls === "session-prompt") p.append(el("strong", "", "Prompt: "));
      p.append(text);
      return p;
    }));

    const notes = [];
    if (live && s.slow_mode_seconds) {
      notes.push(`Slow mode: everyone waits ${s.slow_mode_seconds} seconds between messages, so each one gets space.`);
    }
    if (live && s.locked) notes.push("The session is closed to newcomers. Everyone here can stay and come back.");
    $("session-notes").replaceChildren(...notes.map((text) => el("li", "", text)));

    // The turn and its timer.
    const sharer = this.sharer();
    $("session-turn").hidden = !sharer;
    if (sharer) {
      $("session-sharer").textContent = this.myTurn()
        ? "It's your turn to share. Take your time; passing is fine too."
        : `${sharer} is sharing. Others listen and can send support.`;
    }

    // The queue.
    const queue = live ? s.queue : [];
    $("session-queue-box").hidden = !(live && (s.phase === "sharing" || queue.length));
    const list = $("session-queue");
    list.replaceChildren(...queue.map((entry) => {
      const li = el("li", "", entry.handle);
      if (this.me && entry.handle === this.me.handle) {
        li.classList.add("mine");
        li.append(" ", el("span", "tag", "you"));
      }
      return li;
    }));
    if (!queue.length) list.append(el("li", "queue-empty", "No hands raised yet."));

    // The member's own actions.
    const inSharing = live && s.phase === "sharing" && !this.isHost();
    const mine = this.myTurn();
    const handUp = this.myHandUp();
    $("session-actions").hidden = !(inSharing || mine);
    this.toggleKeepingFocus($("hand-raise"), inSharing && !mine && !handUp);
    this.toggleKeepingFocus($("hand-lower"), inSharing && !mine && handUp);
    this.toggleKeepingFocus($("turn-end"), mine);
    this.toggleKeepingFocus($("turn-pass"), mine);
    if (this.focusAfter && !this.focusAfter.hidden) {
      const active = document.activeElement;
      if (active === document.body || (active && active.hidden) || !active || !active.isConnected) {
        this.focusAfter.focus();
      }
    }
    if (this.focusAfter && this.focusAfter.hidden) {
      // The answer came back with a different button: keep the keyboard in the panel.
      const next = [$("turn-end"), $("hand-lower"), $("hand-raise")].find((b) => !b.hidden);
      if (next && document.activeElement === document.body) next.focus();
    }
    this.focusAfter = null;

    // Reactions: while the session is live.
    $("reactions").hidden = !live;
    const target = sharer ? this.host.sharerMessageSeq(sharer) : null;
    $("reactions-target").textContent = sharer && sharer !== (this.me && this.me.handle)
      ? (target != null ? `for ${sharer}'s message` : `for ${sharer}`) : "";
  }

  // Hiding a focused button would drop the keyboard on the page: move it to a neighbour.
  toggleKeepingFocus(button, visible) {
    if (!visible && button === document.activeElement) {
      const next = [...button.parentElement.querySelectorAll("button")]
        .find((other) => other !== button && !other.hidden);
      button.hidden = true;
      if (next) next.focus();
      return;
    }
    button.hidden = !visible;
  }

  renderSchedule() {
    const s = this.session;
    clearTimeout(this.scheduleTimer);
    if (!s || s.state !== "scheduled" || !s.starts_at) return;
    const start = Date.parse(s.starts_at);
    const schedule = $("session-schedule");
    schedule.replaceChildren(
      "Starts ", el("time", "session-start", localStart(s.starts_at)), " (your time) · ",
      el("span", "session-starts-in", startsIn(start, Date.now())));
    schedule.querySelector("time").dateTime = s.starts_at;
    this.scheduleTimer = setTimeout(() => this.renderSchedule(), 30000);
  }

  // The share timer ticks once a second; only turn changes are announced.
  tick() {
    clearTimeout(this.timer);
    const s = this.session;
    const sharer = this.sharer();
    const ends = sharer && s.share_ends_at ? Date.parse(s.share_ends_at) : null;
    const text = ends === null ? "" : (ends > Date.now()
      ? `${clock((ends - Date.now()) / 1000)} left` : "Time's up");
    $("session-timer").textContent = text;
    const consoleTimer = document.getElementById("console-timer-text");
    if (consoleTimer) consoleTimer.textContent = text;
    if (ends !== null && ends > Date.now()) this.timer = setTimeout(() => this.tick(), 1000 - (Date.now() % 1000) + 20);
    if (this.slowUntil && this.slowWait() === 0) {
      this.slowUntil = 0;
      this.host.updateComposer();
    }
  }

  noteSlowMode(retryAfter) {
    this.slowUntil = Date.now() + Math.max(1, retryAfter || 1) * 1000;
    this.host.updateComposer();
    clearTimeout(this.slowTimer);
    const step = () => {
      this.host.updateComposer();
      if (this.slowWait() > 0) this.slowTimer = setTimeout(step, 1000);
      else this.slowUntil = 0;
    };
    this.slowTimer = setTimeout(step, 1000);
  }

  // --- reactions ------------------------------------------------------------------------
  onReaction(frame) {
    const kind = REACTIONS[frame.reaction];
    if (!kind) return;
    if (this.awaiting && this.awaiting.kind === "react" && this.me && frame.handle === this.me.handle) {
      this.awaiting = null;
    }
    const who = this.me && frame.handle === this.me.handle ? "You" : frame.handle;
    const strip = $("reaction-strip");
    const item = el("li", "reaction-item");
    item.dataset.reaction = frame.reaction;
    item.append(el("span", "reaction-emoji", kind.emoji), ` ${who} sent ${kind.label}`);
    const target = frame.seq != null ? this.host.messageItem(frame.seq) : null;
    if (target) item.append(el("span", "hint", ` for ${target.dataset.handle === (this.me && this.me.handle) ? "your" : `${target.dataset.handle}'s`} message`));
    item.querySelector(".reaction-emoji").setAttribute("aria-hidden", "true");
    strip.append(item);
    while (strip.children.length > MAX_STRIP) strip.firstElementChild.remove();
    setTimeout(() => item.remove(), REACTION_SHOW_MS);
    // Next to the message too, briefly, without moving anything the person is reading.
    if (target) {
      let box = target.querySelector(":scope > .msg-reactions");
      if (!box) {
        box = el("p", "msg-reactions");
        target.append(box);
      }
      const badge = el("span", "msg-reaction", kind.emoji);
      badge.title = `${who}: ${kind.label}`;
      badge.setAttribute("aria-label", `${who} sent ${kind.label}`);
      badge.setAttribute("role", "img");
      box.append(badge);
      setTimeout(() => {
        badge.remove();
        if (!box.childElementCount) box.remove();
      }, REACTION_SHOW_MS);
    }
  }

  // --- feedback -------------------------------------------------------------------------
  bindFeedback() {
    for (const scale of this.panel.querySelectorAll(".mood-scale[data-name]")) {
      const name = scale.dataset.name;
      MOODS.forEach((word, index) => {
        const value = String(index + 1);
        const choice = el("div", "choice");
        const input = el("input");
        input.type = "radio";
        input.name = name;
        input.value = value;
        input.id = `feedback-${name}-${value}`;
        const label = el("label", "", `${value} (${word})`);
        label.htmlFor = input.id;
        choice.append(input, label);
        scale.append(choice);
      });
    }
    const form = $("feedback-card");
    form.addEventListener("submit", (event) => { event.preventDefault(); this.sendFeedback(); });
    $("feedback-skip").addEventListener("click", () => this.closeFeedback());
    $("feedback-close").addEventListener("click", () => this.closeFeedback());
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); this.closeFeedback(); }
    });
  }

  onEnded(frame) {
    const wasHost = this.isHost();
    this.ended = frame;
    if (this.session && this.session.id === frame.session_id) {
      this.session = { ...this.session, state: "ended", sharer: null, share_ends_at: null, queue: [] };
    }
    this.host.announce(wasHost
      ? "The session has ended. Thank you for hosting."
      : "The session has ended. Thank you for being here. You can share anonymous feedback if you like.");
    const consoleHadFocus = this.console.contains(document.activeElement);
    this.render();
    this.host.updateComposer();
    if (!wasHost) this.showFeedback(frame);
    if (consoleHadFocus || document.activeElement === document.body) $("session-title").focus();
  }

  showFeedback(frame) {
    const form = $("feedback-card");
    form.reset();
    $("feedback-tags").replaceChildren(...(frame.feedback_tags || []).map((tag) => {
      const choice = el("div", "choice");
      const input = el("input");
      input.type = "checkbox";
      input.name = "tags";
      input.value = tag.code;
      input.id = `feedback-tag-${tag.code}`;
      const label = el("label", "", tag.label);
      label.htmlFor = input.id;
      choice.append(input, label);
      return choice;
    }));
    $("feedback-tags-box").hidden = !(frame.feedback_tags || []).length;
    $("feedback-ask").hidden = false;
    $("feedback-done").hidden = true;
    $("feedback-error").textContent = "";
    $("feedback-send").disabled = false;
    form.hidden = false;
  }

  sendFeedback() {
    if (!this.ended) return;
    const form = $("feedback-card");
    const frame = { type: "feedback", session_id: this.ended.session_id,
      occurrence_on: this.ended.occurrence_on };
    const picked = (name) => {
      const input = form.querySelector(`input[name="${name}"]:checked`);
      return input ? input.value : null;
    };
    const before = picked("mood_before");
    const after = picked("mood_after");
    const helpful = picked("helpful");
    if (before) frame.mood_before = Number(before);
    if (after) frame.mood_after = Number(after);
    if (helpful) frame.helpful = helpful === "yes";
    frame.tags = [...form.querySelectorAll('input[name="tags"]:checked')].map((input) => input.value);
    const comment = $("feedback-comment").value.trim();
    if (comment) frame.comment = comment;
    $("feedback-error").textContent = "";
    if (!this.host.send(frame)) { $("feedback-error").textContent = OFFLINE; return; }
    this.awaiting = { kind: "feedback", at: Date.now() };
    $("feedback-send").disabled = true;
  }

  onFeedbackReceived() {
    if (this.awaiting && this.awaiting.kind === "feedback") this.awaiting = null;
    $("feedback-ask").hidden = true;
    $("feedback-done").hidden = false;
    $("feedback-thanks").textContent = "Thank you. Your feedback helps the hosts make these sessions better. Take good care of yourself.";
    $("feedback-close").focus();
  }

  closeFeedback() {
    $("feedback-card").hidden = true;
    this.host.focusComposer();
  }

  // --- the host's console ---------------------------------------------------------------
  bindConsole() {
    const click = (id, handler) => $(id).addEventListener("click", (event) => {
      if (!available(event.currentTarget)) return;
      handler(event.currentTarget);
    });
    click("console-start", () => this.hostAction("start"));
    click("console-next-phase", () => this.hostAction("next_phase"));
    click("console-set-phase", () => this.hostAction("set_phase", { phase: $("console-phase-select").value }));
    click("console-call-next", () => this.hostAction("call_next"));
    click("console-extend", () => this.hostAction("extend", { seconds: 60 }));
    click("console-end-turn", () => this.hostAction("end_turn"));
    click("console-set-slow-mode", () => this.hostAction("slow_mode", { seconds: Number($("console-slow-mode").value) }));
    click("console-pause", () => this.hostAction(this.session && this.session.paused ? "resume" : "pause"));
    click("console-lock", () => this.hostAction(this.session && this.session.locked ? "unlock" : "lock"));
    click("console-unpin", () => this.hostAction("unpin"));
    click("console-post-prompt", () => {
      const id = $("console-prompt").value;
      if (id) this.hostAction("post_prompt", { prompt_id: Number(id) });
    });
    click("console-handover-go", () => {
      const handle = $("console-handover").value;
      if (handle) this.hostAction("handover", { handle });
    });
    click("console-end", (button) => this.confirm(button, {
      title: "End the session for everyone?",
      text: "Everyone will be thanked and offered a short anonymous feedback card.",
      confirm: "End session", cancel: "Keep going",
      run: () => this.hostAction("end"),
    }));
    $("console-queue").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || !available(button)) return;
      const { action, handle } = button.dataset;
      this.focusKey = `${action}:${handle}`;
      if (action === "call") this.hostAction("call", { handle });
      else if (action === "skip") this.hostAction("skip", { handle });
      else if (action === "up" || action === "down") {
        const position = Number(button.dataset.position) + (action === "up" ? -1 : 1);
        this.hostAction("move", { handle, position });
      }
    });
    $("console-people").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const { action, handle } = button.dataset;
      if (action === "mute" || action === "remove") {
        const mute = action === "mute";
        this.confirm(button, {
          title: mute ? `Mute ${handle} for this session?` : `Remove ${handle} from this session?`,
          text: mute
            ? "They can still read along but can't post until the session ends. This is recorded."
            : "They leave the room and can't come back to this session. This is recorded.",
          confirm: mute ? "Mute" : "Remove", cancel: "Cancel", reason: true,
          run: (reason) => this.hostAction(action, { handle, reason }),
        });
      } else if (action === "add") {
        this.hostAction("add_to_queue", { handle });
      } else if (action === "aside") {
        this.staffAction({ type: "open_take_aside", room: this.host.slug, handle },
          `Inviting ${handle} to a private chat…`);
      } else if (action === "escalate") {
        // Their latest message on screen gives the team some context.
        const seq = this.host.sharerMessageSeq(handle);
        this.staffAction({ type: "escalate", room: this.host.slug, handle,
          ...(seq != null ? { seq } : {}) },
          `Asking the on-duty team to look in on ${handle}…`);
      }
    });

    const dialog = $("console-dialog");
    $("console-dialog-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const action = this.dialogAction;
      if (!action) { dialog.close(); return; }
      let reason = "";
      if (action.reason) {
        reason = $("console-dialog-reason").value.trim();
        if (!reason) {
          $("console-dialog-error").textContent = "Please give a short reason. It is kept with the action.";
          $("console-dialog-reason").setAttribute("aria-invalid", "true");
          $("console-dialog-reason").focus();
          return;
        }
      }
      dialog.close();
      action.run(reason);
    });
    $("console-dialog-cancel").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      // The close event comes a task later: by then the dialog may be open again.
      if (dialog.open) return;
      this.dialogAction = null;
      const opener = this.dialogOpener;
      this.dialogOpener = null;
      if (opener && opener.isConnected && !opener.closest("[hidden]")) opener.focus();
      else $("console-heading").focus();
    });
  }

  // A confirmation dialog; Escape and Cancel close it and the keyboard goes back.
  confirm(opener, { title, text, confirm, cancel, reason = false, run }) {
    this.dialogAction = { run, reason };
    this.dialogOpener = opener;
    $("console-dialog-heading").textContent = title;
    $("console-dialog-text").textContent = text;
    $("console-dialog-confirm").textContent = confirm;
    $("console-dialog-cancel").textContent = cancel;
    $("console-dialog-reason-box").hidden = !reason;
    $("console-dialog-reason").value = "";
    $("console-dialog-reason").removeAttribute("aria-invalid");
    $("console-dialog-error").textContent = "";
    const dialog = $("console-dialog");
    dialog.showModal();
    (reason ? $("console-dialog-reason") : $("console-dialog-cancel")).focus();
  }

  hostAction(action, fields = {}) {
    this.consoleError("");
    if (!this.host.send({ type: "host", action, ...fields })) {
      this.consoleError(OFFLINE);
      return;
    }
    this.awaiting = { kind: "host", at: Date.now() };
  }

  consoleError(text) {
    const target = this.isHost() || !text ? $("console-error") : $("session-error");
    target.textContent = text;
    if (text) $("console-status").textContent = "";
  }

  consoleStatus(text) {
    $("console-status").textContent = text;
  }

  staffAction(frame, pending) {
    this.consoleError("");
    if (!this.staff) {
      this.staff = new StaffLink({
        onFrame: (answer) => this.onStaffFrame(answer),
        onClosed: () => this.consoleError("Couldn't reach the staff connection. Please try from the dashboard."),
      });
    }
    this.staff.send(frame);
    this.staffPending = frame;
    this.awaitingStaff = Date.now();
    this.consoleStatus(pending);
  }

  onStaffFrame(frame) {
    const recent = this.awaitingStaff && Date.now() - this.awaitingStaff < AWAIT_MS;
    if (frame.type === STAFF_FRAME.take_aside_state && frame.aside && recent && this.staffPending
        && this.staffPending.type === "open_take_aside"
        && (!frame.aside.member || frame.aside.member.handle === this.staffPending.handle)) {
      this.awaitingStaff = null;
      this.showStaffDone(`Invited ${this.staffPending.handle} to a private chat. Carry on the conversation from `);
    } else if (frame.type === STAFF_FRAME.action_done && recent && this.staffPending) {
      this.awaitingStaff = null;
      const handle = this.staffPending.handle;
      this.showStaffDone(this.staffPending.type === "escalate"
        ? `Escalated: the on-duty team has been alerted about ${handle}. Follow it on ` : "Done. See ");
    } else if (frame.type === STAFF_FRAME.escalation && recent && this.staffPending
        && this.staffPending.type === "escalate" && frame.escalation && frame.escalation.member
        && frame.escalation.member.handle === this.staffPending.handle) {
      this.awaitingStaff = null;
      this.showStaffDone(`Escalated: the on-duty team has been alerted about ${this.staffPending.handle}. Follow it on `);
    } else if (frame.type === STAFF_FRAME.error && recent) {
      this.awaitingStaff = null;
      this.consoleError(frame.detail);
    }
  }

  showStaffDone(text) {
    const status = $("console-status");
    const link = el("a", "", "the staff dashboard");
    link.href = "/moderation/";
    link.target = "_blank";
    link.rel = "noopener";
    status.replaceChildren(text, link, ".");
  }

  renderConsole() {
    const s = this.session;
    const show = Boolean(s) && s.state !== "ended" && this.isHost();
    const hadFocus = this.console.contains(document.activeElement);
    const focusId = hadFocus ? document.activeElement.id : null;
    const wasShown = !this.console.hidden;
    this.console.hidden = !show;
    $("room-body").classList.toggle("has-console", show);
    document.getElementById("room").dataset.host = String(show);
    if (!show) {
      if (hadFocus) $("session-title").focus();
      return;
    }
    if (!wasShown) this.consoleStatus(s.state === "scheduled" ? "" : "You're hosting this session.");
    $("console-start-box").hidden = s.state !== "scheduled";
    $("console-live").hidden = s.state !== "live";
    if (s.state !== "live") return;

    $("console-phase").textContent = PHASE_LABELS[s.phase];
    const last = s.phase === PHASES[PHASES.length - 1];
    setAvailable($("console-next-phase"), !last);
    $("console-next-phase").textContent = last ? "Next phase (this is the last)"
      : `Next phase: ${PHASE_LABELS[PHASES[PHASES.indexOf(s.phase) + 1]]}`;
    if (document.activeElement !== $("console-phase-select")) $("console-phase-select").value = s.phase;

    const sharer = this.sharer();
    const sharerEl = $("console-sharer");
    if (sharer) {
      sharerEl.replaceChildren(`${sharer} is sharing · `,
        el("span", "", ""));
      sharerEl.lastChild.id = "console-timer-text";
      sharerEl.lastChild.setAttribute("aria-live", "off");
    } else {
      sharerEl.textContent = "Nobody is sharing.";
    }
    setAvailable($("console-call-next"), s.queue.length > 0);
    setAvailable($("console-extend"), Boolean(sharer));
    setAvailable($("console-end-turn"), Boolean(sharer));
    this.renderQueue();

    if (document.activeElement !== $("console-slow-mode")) {
      const select = $("console-slow-mode");
      const value = String(s.slow_mode_seconds || 0);
      if (![...select.options].some((option) => option.value === value)) {
        select.append(new Option(`${value} seconds`, value));
      }
      select.value = value;
    }
    $("console-pause").textContent = s.paused ? "Resume" : "Pause";
    $("console-pause").setAttribute("aria-describedby", "console-room-heading");
    $("console-lock").textContent = s.locked ? "Unlock" : "Lock";
    $("console-pinned").hidden = !s.pinned;
    if (s.pinned) {
      $("console-pinned-text").textContent = s.pinned.collapsed
        ? "a message waiting for a moderator" : `${s.pinned.handle}: ${(s.pinned.body || "").slice(0, 140)}`;
    }
    this.renderPrompts();
    this.renderPeople();
    this.renderHandover();
    if (focusId && !document.getElementById(focusId)?.isConnected) $("console-heading").focus();
  }

  renderQueue() {
    const s = this.session;
    const list = $("console-queue");
    const focusKey = this.console.contains(document.activeElement) && document.activeElement.dataset.action
      ? `${document.activeElement.dataset.action}:${document.activeElement.dataset.handle}` : this.focusKey;
    const hadQueueFocus = list.contains(document.activeElement) || Boolean(this.focusKey);
    this.focusKey = null;
    $("console-queue-empty").hidden = s.queue.length > 0;
    const rows = s.queue.map((entry, index) => {
      const li = el("li", "console-queue-row");
      li.dataset.handle = entry.handle;
      li.append(el("span", "console-queue-handle", entry.handle));
      const buttons = el("div", "console-buttons");
      const button = (action, label, enabled = true) => {
        const b = el("button", action === "call" ? "" : "secondary", label);
        b.type = "button";
        b.dataset.action = action;
        b.dataset.handle = entry.handle;
        b.dataset.position = String(entry.position || index + 1);
        b.append(el("span", "visually-hidden", ` ${entry.handle}`));
        setAvailable(b, enabled);
        buttons.append(b);
        return b;
      };
      button("call", "Call");
      button("up", "Move up", index > 0);
      button("down", "Move down", index < s.queue.length - 1);
      button("skip", "Skip");
      li.append(buttons);
      return li;
    });
    list.replaceChildren(...rows);
    if (!hadQueueFocus || !focusKey) return;
    const [action, handle] = focusKey.split(":");
    const same = [...list.querySelectorAll("button[data-action]")]
      .find((b) => b.dataset.action === action && b.dataset.handle === handle);
    if (same) { same.focus(); return; }
    // That row is gone (called or skipped): the next row's same button, else "Call next".
    const next = list.querySelector(`button[data-action="${action}"]`);
    (next || $("console-call-next")).focus();
  }

  renderPrompts() {
    const select = $("console-prompt");
    const current = select.value;
    const options = this.prompts.map((prompt) => new Option(prompt.text, String(prompt.id)));
    if (!options.length) options.push(new Option("No prompts in the library", ""));
    select.replaceChildren(...options);
    if (current && [...select.options].some((option) => option.value === current)) select.value = current;
    setAvailable($("console-post-prompt"), this.prompts.length > 0);
  }

  renderPeople() {
    if (!this.isHost() || !this.live) return;
    const list = $("console-people");
    const active = list.contains(document.activeElement) ? document.activeElement : null;
    const key = active ? `${active.dataset.action}:${active.dataset.handle}` : null;
    const hosts = new Set(this.session.hosts.map((person) => person.handle));
    const members = ((this.presence && this.presence.members) || [])
      .filter((person) => !hosts.has(person.handle) && person.role === "member");
    const staff = this.isStaff();
    const inQueue = new Set(this.session.queue.map((entry) => entry.handle));
    list.replaceChildren(...members.map((person) => {
      const li = el("li", "console-person");
      li.append(el("span", "console-person-handle", person.handle));
      const buttons = el("div", "console-buttons");
      const button = (action, label, cls = "secondary") => {
        const b = el("button", cls, label);
        b.type = "button";
        b.dataset.action = action;
        b.dataset.handle = person.handle;
        b.append(el("span", "visually-hidden", ` ${person.handle}`));
        buttons.append(b);
      };
      if (this.session.phase === "sharing" && !inQueue.has(person.handle)
          && this.sharer() !== person.handle) button("add", "Add to queue");
      button("mute", "Mute");
      button("remove", "Remove", "danger");
      if (staff) {
        button("aside", "Take aside");
        button("escalate", "Escalate");
      }
      li.append(buttons);
      return li;
    }));
    if (!members.length) list.append(el("li", "hint", "Nobody else is here yet."));
    if (key) {
      const [action, handle] = key.split(":");
      const same = [...list.querySelectorAll("button[data-action]")]
        .find((b) => b.dataset.action === action && b.dataset.handle === handle);
      (same || $("console-people-heading").closest("section").querySelector("button") || $("console-heading")).focus();
    }
  }

  renderHandover() {
    const coHosts = this.session.hosts.filter((person) => person.role === "co_host"
      && (!this.me || person.handle !== this.me.handle));
    const amHost = this.session.hosts.some((person) => person.role === "host"
      && this.me && person.handle === this.me.handle);
    const box = $("console-handover-box");
    box.hidden = !(amHost && coHosts.length);
    const select = $("console-handover");
    const current = select.value;
    select.replaceChildren(...coHosts.map((person) => new Option(person.handle, person.handle)));
    if (current) select.value = current;
  }
}
