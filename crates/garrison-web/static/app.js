// Garrison portal: small progressive enhancements. Every page works
// without this file.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.requestSubmit();
  }
});

document.addEventListener("click", (event) => {
  const el = event.target instanceof Element ? event.target.closest("[data-confirm],[data-copy]") : null;
  if (!el) return;
  const question = el.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const copyId = el.getAttribute("data-copy");
  if (copyId) {
    const source = document.getElementById(copyId);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        el.textContent = "Copied";
      });
    }
  }
});

// An import's page follows its progress while it runs, then reloads to
// show the final counts and rejections.
(() => {
  const box = document.getElementById("import-progress");
  if (!box || !box.hasAttribute("data-running")) return;
  const id = box.getAttribute("data-import");
  const tick = async () => {
    try {
      const res = await fetch(`/api/v1/imports/${encodeURIComponent(id)}`, { credentials: "same-origin" });
      if (!res.ok) return;
      const imp = await res.json();
      const pct = imp.bytes_total > 0 ? Math.min(100, Math.floor((imp.bytes_done * 100) / imp.bytes_total)) : 0;
      document.getElementById("import-bar").value = pct;
      document.getElementById("import-percent").textContent = `${pct}%`;
      const status = document.getElementById("import-status");
      status.textContent = imp.status;
      for (const el of document.querySelectorAll("#import-counts [data-count]")) {
        const v = imp.counts[el.getAttribute("data-count")];
        if (typeof v === "number") el.textContent = String(v);
      }
      if (imp.status !== "queued" && imp.status !== "running") {
        window.location.reload();
        return;
      }
    } catch (_) {
      // Network hiccup: try again on the next tick.
    }
    window.setTimeout(tick, 1000);
  };
  window.setTimeout(tick, 500);
})();
