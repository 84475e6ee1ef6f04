// Directory: filter without reloading and keep "here now" counts live.
const groups = document.getElementById("room-groups");
const form = document.getElementById("room-filters");
const focusSelect = document.getElementById("filter-focus");
const audienceSelect = document.getElementById("filter-audience");
const REFRESH_MS = 15000;

function applyFilters() {
  const focus = focusSelect.value;
  const audience = audienceSelect.value;
  for (const card of groups.querySelectorAll(".room-card")) {
    const visible = (!focus || card.dataset.focus === focus) &&
      (!audience || card.dataset.audience === audience);
    card.hidden = !visible;
  }
  let anyVisible = false;
  for (const section of groups.querySelectorAll(".room-group")) {
    section.hidden = !section.querySelector(".room-card:not([hidden])");
    anyVisible ||= !section.hidden;
  }
  document.getElementById("no-rooms").hidden = anyVisible;
  const params = new URLSearchParams();
  if (focus) params.set("focus_area", focus);
  if (audience) params.set("audience", audience);
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// Whether anyone from the team is around, and so whether staffed-only rooms are open.
function showDuty(count) {
  const status = document.getElementById("duty-status");
  if (!status || status.dataset.onDuty === String(count)) return;
  status.dataset.onDuty = String(count);
  status.textContent = count ? "A moderator or peer supporter is on duty now."
    : "Nobody from the team is on duty right now.";
  for (const tag of groups.querySelectorAll(".staffed-only")) {
    tag.dataset.open = String(count > 0);
    tag.textContent = count ? "Open while staff are on duty"
      : "Closed until someone from the team is on duty";
  }
}

async function refreshCounts() {
  try {
    const response = await fetch(groups.dataset.api, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const onDuty = data.on_duty_count ?? data.on_duty;
    if (typeof onDuty === "number") showDuty(onDuty);
    for (const room of data.rooms) {
      const el = groups.querySelector(`.presence-count[data-slug="${CSS.escape(room.slug)}"]`);
      if (el) {
        el.textContent = `${room.present} here now`;
        el.dataset.present = String(room.present);
      }
    }
  } catch {
    // Offline for a moment; the next refresh tries again.
  }
}

if (groups && form) {
  focusSelect.addEventListener("change", applyFilters);
  audienceSelect.addEventListener("change", applyFilters);
  form.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
  setInterval(refreshCounts, REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshCounts();
  });
}

// Hosted sessions: the server sends UTC instants; show them in this browser's own time zone
// and language, with how soon each one starts.
const sessionList = document.getElementById("hosted-sessions");
const MINUTE_MS = 60000;
const dayFormat = new Intl.DateTimeFormat(undefined,
  { weekday: "short", day: "numeric", month: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const localDay = new Intl.DateTimeFormat("en-CA",
  { year: "numeric", month: "2-digit", day: "2-digit" });

function sessionWhen(start, end) {
  const sameDay = localDay.format(start) === localDay.format(end);
  const endText = sameDay ? timeFormat.format(end)
    : `${dayFormat.format(end)}, ${timeFormat.format(end)}`;
  return `${dayFormat.format(start)}, ${timeFormat.format(start)}–${endText}`;
}

function sessionStatus(start, end, live, now) {
  if (live || (start <= now && now < end)) return "On now";
  if (now >= end) return "Has ended";
  const minutes = Math.ceil((start - now) / MINUTE_MS);
  if (minutes < 60) return `Starts in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `Starts in ${hours} h ${minutes % 60} min`;
  return "";
}

function showSessions() {
  const now = Date.now();
  for (const card of sessionList.querySelectorAll(".session-card")) {
    const start = new Date(card.dataset.startsAt);
    const end = new Date(card.dataset.endsAt);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) continue;
    const when = card.querySelector(".session-when");
    const text = sessionWhen(start, end);
    if (when.textContent !== text) when.textContent = text;
    const status = card.querySelector(".session-status");
    const statusText = sessionStatus(start, end, card.dataset.live === "true", now);
    if (status.textContent !== statusText) status.textContent = statusText;
    status.hidden = !statusText;
  }
}

if (sessionList) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.getElementById("sessions-zone").textContent =
    `Times are shown in your time zone${zone ? ` (${zone.replaceAll("_", " ")})` : ""}.`;
  showSessions();
  setInterval(showSessions, 30000);
}
