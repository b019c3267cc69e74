// Garrison portal: the live tail of the events page. New events arrive as
// server-sent events (see crates/garrison-web/src/live.rs) and are added
// at the top of the table. Every text is attacker-controlled: it is only
// ever written with textContent, never parsed as markup.
"use strict";
(() => {
  const table = document.getElementById("live-events");
  const rows = document.getElementById("event-rows");
  const status = document.getElementById("live-status");
  const pause = document.getElementById("live-pause");
  const url = table ? table.getAttribute("data-stream") : null;
  if (!table || !rows || !status || !url) return;
  if (!window.EventSource) {
    status.textContent = "This browser cannot show live updates; reload the page for new events.";
    return;
  }
  const showTenant = table.hasAttribute("data-show-tenant");
  const MAX_ROWS = 500;
  const seen = new Set();
  for (const tr of rows.querySelectorAll("tr[data-id]")) seen.add(tr.getAttribute("data-id"));
  let paused = false;
  let held = [];
  let skipped = 0;
  let live = "Connecting…";

  const cell = (text, className) => {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  };

  const row = (e) => {
    const tr = document.createElement("tr");
    tr.setAttribute("data-id", e.id);
    tr.className = "new";
    const time = document.createElement("td");
    time.className = "nowrap";
    const link = document.createElement("a");
    link.href = e.url;
    link.textContent = e.time;
    time.appendChild(link);
    tr.appendChild(time);
    if (showTenant) tr.appendChild(cell(e.tenant));
    const sev = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = `sev sev-${e.level}`;
    badge.textContent = String(e.severity);
    sev.appendChild(badge);
    tr.appendChild(sev);
    tr.appendChild(cell(e.source));
    tr.appendChild(cell(e.parser));
    tr.appendChild(cell(e.summary));
    tr.appendChild(cell(e.message, "message"));
    return tr;
  };

  const show = () => {
    let text = live;
    if (paused) text += ` Paused: ${held.length} new event${held.length === 1 ? "" : "s"} waiting.`;
    if (skipped > 0) {
      text += ` ${skipped} event${skipped === 1 ? " was" : "s were"} skipped because they arrived faster than this page could show them; search for the complete list.`;
    }
    status.textContent = text;
  };

  const add = (e) => {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    const empty = document.getElementById("no-events");
    if (empty) empty.remove();
    rows.insertBefore(row(e), rows.firstChild);
    while (rows.children.length > MAX_ROWS) {
      const last = rows.lastElementChild;
      seen.delete(last.getAttribute("data-id"));
      last.remove();
    }
  };

  const source = new EventSource(url);
  source.addEventListener("ready", () => {
    live = "Live: new events appear at the top.";
    status.setAttribute("data-live", "");
    show();
  });
  source.addEventListener("event", (message) => {
    let e;
    try {
      e = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    if (paused) {
      held.push(e);
      if (held.length > MAX_ROWS) held = held.slice(-MAX_ROWS);
      show();
    } else {
      add(e);
    }
  });
  source.addEventListener("lagged", (message) => {
    try {
      skipped += Number(JSON.parse(message.data).skipped) || 0;
    } catch (_) {
      skipped += 1;
    }
    show();
  });
  source.addEventListener("error", () => {
    status.removeAttribute("data-live");
    live = source.readyState === EventSource.CLOSED
      ? "Live updates stopped; reload the page to resume."
      : "Reconnecting…";
    show();
  });

  if (pause) {
    pause.hidden = false;
    pause.addEventListener("click", () => {
      paused = !paused;
      pause.textContent = paused ? "Resume" : "Pause";
      if (!paused) {
        for (const e of held) add(e);
        held = [];
      }
      show();
    });
  }
  show();
})();
