// Small helpers shared by the room page and the moderation dashboard.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Exponential backoff with jitter, so a restarted server is not hit by everyone at once.
export function backoffDelay(attempt) {
  return Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

export function sendFrame(ws, frame) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

export function setConnectionState(stateEl, state, text) {
  stateEl.dataset.state = state;
  stateEl.textContent = text;
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

// The protocol's names as the server's frame catalogue gives them (chat/frames.py), served
// with the page as the `protocol` json_script: no script keeps its own copy, and a name the
// server does not have throws where it is read instead of silently never matching.
export function servedProtocol() {
  const served = JSON.parse(document.getElementById("protocol").textContent);
  return {
    FRAME: servedNames(served.frames.room, "room frame type"),
    STAFF_FRAME: servedNames(served.frames.staff, "staff frame type"),
    ERROR: servedNames(served.errors, "error code"),
  };
}

function servedNames(names, what) {
  const table = Object.freeze(Object.fromEntries(names.map((name) => [name, name])));
  return new Proxy(table, {
    get(target, name) {
      if (typeof name === "string" && !Object.hasOwn(target, name)) {
        throw new Error(`The server has no ${what} "${name}".`);
      }
      return target[name];
    },
  });
}

export function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- take-aside: a private one-to-one conversation (docs/protocol.md, "take_aside_*") ------
// The same panel serves both people: the member (on the room socket) and the staff member
// (on the staff socket). `aside.you` says which side this page is on.

const ASIDE_ENDED = {
  declined: { member: "You said not now. That's completely fine.", staff: "said not now." },
  closed: { member: "This private conversation has ended.", staff: "This private conversation has ended." },
};

export class AsideConversation {
  // send(frame) -> bool; announce(text); onDismiss(conversation) when the ended panel is closed.
  constructor(aside, { send, announce, onDismiss }) {
    this.id = aside.id;
    this.you = aside.you;
    this.send = send;
    this.announce = announce;
    this.onDismiss = onDismiss;
    this.pending = new Map(); // client_id -> body, until take_aside_ack
    this.shown = new Set();   // seq
    this.build(aside);
    this.update(aside);
    for (const message of aside.messages || []) this.addMessage(message);
  }

  get other() {
    return this.you === "member" ? this.aside.staff.handle : this.aside.member.handle;
  }

  build(aside) {
    this.aside = aside;
    const id = `aside-${aside.id}`;
    const root = el("section", "aside-panel");
    root.id = id;
    root.dataset.asideId = String(aside.id);
    root.setAttribute("aria-labelledby", `${id}-title`);
    this.title = el("h2", "aside-title");
    this.title.id = `${id}-title`;
    this.title.tabIndex = -1;
    this.privacy = el("p", "aside-private");
    this.status = el("p", "aside-status");
    this.status.setAttribute("role", "status");

    // The member's invitation: accept or decline, by keyboard or pointer.
    this.invite = el("div", "aside-invite");
    this.inviteText = el("p", "aside-invite-text");
    const actions = el("div", "aside-actions");
    this.acceptButton = el("button", "", "Accept");
    this.acceptButton.type = "button";
    this.declineButton = el("button", "secondary", "Not now");
    this.declineButton.type = "button";
    actions.append(this.acceptButton, this.declineButton);
    this.invite.append(this.inviteText, actions);
    this.acceptButton.addEventListener("click", () => this.reply(true));
    this.declineButton.addEventListener("click", () => this.reply(false));

    this.list = el("ol", "aside-messages");
    this.list.id = `${id}-messages`;
    this.list.setAttribute("aria-live", "polite");
    this.list.setAttribute("aria-relevant", "additions");

    this.form = el("form", "aside-composer");
    this.form.autocomplete = "off";
    this.form.noValidate = true;
    this.input = el("textarea");
    this.input.id = `${id}-input`;
    this.input.name = "body";
    this.input.rows = 2;
    this.input.maxLength = 2000;
    this.inputLabel = el("label", "");
    this.inputLabel.htmlFor = this.input.id;
    this.sendButton = el("button", "", "Send privately");
    this.sendButton.type = "submit";
    this.error = el("p", "form-errors aside-error");
    this.error.id = `${id}-error`;
    this.error.setAttribute("role", "alert");
    this.input.setAttribute("aria-describedby", this.error.id);
    this.form.append(this.inputLabel, this.input, this.sendButton, this.error);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });

    this.leaveButton = el("button", "secondary aside-leave",
      this.you === "member" ? "Leave private chat" : "End private chat");
    this.leaveButton.type = "button";
    this.leaveButton.addEventListener("click", () => this.leave());
    this.dismissButton = el("button", "secondary aside-dismiss", "Close");
    this.dismissButton.type = "button";
    this.dismissButton.addEventListener("click", () => {
      this.root.remove();
      if (this.onDismiss) this.onDismiss(this);
    });

    root.append(this.title, this.privacy, this.invite, this.status, this.list, this.form,
      this.leaveButton, this.dismissButton);
    this.root = root;
  }

  update(aside) {
    const before = this.aside ? this.aside.state : null;
    this.aside = { ...this.aside, ...aside };
    const { state } = this.aside;
    const other = this.other;
    const invited = state === "invited";
    const open = state === "open";
    const ended = state === "declined" || state === "closed";
    this.root.dataset.state = state;
    if (this.you === "member") {
      this.title.textContent = invited ? "An invitation to talk privately" : `Private chat with ${other}`;
      // The server's words when it sends them (reviewed copy); the same sense otherwise.
      this.inviteText.textContent = this.aside.detail
        || `${other} from the team would like to talk with you privately.`;
      this.privacy.textContent = `Private: only you and ${other} can see this. The room can't. You can leave whenever you like.`;
    } else {
      this.title.textContent = `Private chat with ${other}`;
      this.privacy.textContent = `Private: only you and ${other} can see this. ${other} stays anonymous.`;
    }
    this.inputLabel.textContent = `Private message to ${other}`;
    this.invite.hidden = !(invited && this.you === "member");
    this.acceptButton.disabled = false;
    this.declineButton.disabled = false;
    this.form.hidden = !open;
    this.list.hidden = invited && !this.list.childElementCount;
    this.leaveButton.hidden = ended || (invited && this.you === "member");
    this.leaveButton.textContent = invited ? "Withdraw the invitation" : (this.you === "member" ? "Leave private chat" : "End private chat");
    this.dismissButton.hidden = !ended;
    let statusText = "";
    if (invited && this.you === "staff") statusText = `Waiting for ${other} to accept.`;
    else if (state === "declined") statusText = this.you === "member" ? ASIDE_ENDED.declined.member : `${other} ${ASIDE_ENDED.declined.staff}`;
    else if (state === "closed") statusText = ASIDE_ENDED.closed[this.you];
    if (this.status.textContent !== statusText) this.status.textContent = statusText;
    if (ended) {
      for (const li of this.list.querySelectorAll("li.pending")) {
        li.classList.add("failed");
        li.querySelector(".msg-status").textContent = "Not sent";
      }
      this.pending.clear();
    }
    return { before, state };
  }

  reply(accept) {
    this.error.textContent = "";
    if (!this.send({ type: "take_aside_reply", aside_id: this.id, accept })) {
      this.showError("You're not connected right now. Please try again in a moment.");
      return;
    }
    this.acceptButton.disabled = true;
    this.declineButton.disabled = true;
  }

  leave() {
    if (!this.send({ type: "take_aside_leave", aside_id: this.id })) {
      this.showError("You're not connected right now. Please try again in a moment.");
    }
  }

  submit() {
    const body = this.input.value;
    if (!body.trim()) {
      this.showError("Your message is empty.");
      this.input.focus();
      return;
    }
    this.error.textContent = "";
    const clientId = newClientId();
    this.pending.set(clientId, body);
    this.insertPending(clientId, body);
    this.input.value = "";
    this.input.focus();
    this.send({ type: "take_aside_send", aside_id: this.id, client_id: clientId, body });
  }

  // After a reconnect: whatever was not acknowledged goes again, with the same client_id.
  resend() {
    if (this.aside.state !== "open") return;
    for (const [clientId, body] of this.pending) {
      this.send({ type: "take_aside_send", aside_id: this.id, client_id: clientId, body });
    }
  }

  owns(clientId) {
    return this.pending.has(clientId);
  }

  pendingFor(clientId) {
    return this.list.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);
  }

  insertPending(clientId, body) {
    const li = el("li", "aside-message mine pending");
    li.dataset.clientId = clientId;
    li.append(el("p", "msg-meta", "You"), el("div", "msg-body", body), el("p", "msg-status", "Sending…"));
    this.list.hidden = false;
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
  }

  addMessage(frame) {
    if (this.shown.has(frame.seq)) return;
    this.shown.add(frame.seq);
    const mine = frame.from === this.you;
    const li = el("li", `aside-message${mine ? " mine" : ""}`);
    li.dataset.seq = String(frame.seq);
    const meta = el("p", "msg-meta");
    meta.append(el("span", "msg-handle", mine ? "You" : frame.handle));
    if (frame.from === "staff" && !mine) meta.append(" ", el("span", "badge role-staff", "Team"));
    if (frame.sent_at) {
      const time = el("time", "", new Date(frame.sent_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
      time.dateTime = frame.sent_at;
      meta.append(" ", time);
    }
    const body = el("div", "msg-body");
    body.innerHTML = frame.html; // server-made by chat/rendering.py: escaped, links only
    li.append(meta, body);
    const pending = mine && frame.client_id ? this.pendingFor(frame.client_id) : null;
    if (pending) {
      this.pending.delete(frame.client_id);
      pending.replaceWith(li);
    } else {
      // In seq order; pending sends stay at the end.
      const before = [...this.list.children].find((other) =>
        other.classList.contains("pending") || Number(other.dataset.seq) > frame.seq);
      this.list.insertBefore(li, before || null);
    }
    this.list.hidden = false;
    this.list.scrollTop = this.list.scrollHeight;
  }

  ack(frame) {
    this.pending.delete(frame.client_id);
    const pending = this.pendingFor(frame.client_id);
    if (!pending) return;
    if (this.shown.has(frame.seq)) pending.remove();
    else pending.querySelector(".msg-status").textContent = "Sent";
  }

  // A refusal of one of our sends: the text goes back in the box, with the reason.
  refuse(frame) {
    const body = this.pending.get(frame.client_id);
    this.pending.delete(frame.client_id);
    const pending = this.pendingFor(frame.client_id);
    if (pending) pending.remove();
    if (body !== undefined && !this.input.value.trim()) this.input.value = body;
    this.showError(frame.detail);
  }

  retryLater(frame) {
    const body = this.pending.get(frame.client_id);
    if (body === undefined) return;
    const wait = (frame.retry_after || 2) * 1000;
    setTimeout(() => this.send({ type: "take_aside_send", aside_id: this.id, client_id: frame.client_id, body }), wait);
    this.showError(frame.detail);
  }

  showError(text) {
    this.error.textContent = text;
  }

  focus() {
    if (!this.form.hidden) this.input.focus();
    else if (!this.invite.hidden) this.acceptButton.focus();
    else this.title.focus();
  }
}
