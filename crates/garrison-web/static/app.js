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
