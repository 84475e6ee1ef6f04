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
