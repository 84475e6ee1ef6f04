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
