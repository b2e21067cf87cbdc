// Small behaviours without inline scripts (the CSP forbids them).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]")) el.form.submit();
  if (el.matches("[data-select-all]")) {
    document.querySelectorAll(el.dataset.selectAll).forEach((box) => { box.checked = el.checked; });
  }
});

// --- Workbench -------------------------------------------------------------------
// Bulk actions under the queue: show only the inputs the chosen action needs.
function syncBulkFields(root) {
  root.querySelectorAll("[data-bulk-actions]").forEach((bar) => {
    const select = bar.querySelector("[data-bulk-action]");
    const action = select ? select.value : "";
    bar.querySelectorAll("[data-bulk-field]").forEach((field) => {
      field.hidden = !field.dataset.bulkField.split(" ").includes(action);
    });
  });
}
// Capture phase, and no further: the queue's filter form submits on
// "change from:select", which matches every select of the page, the bulk bar's too
// (a change there would reload the table and lose the selection).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("select") && el.closest("[data-bulk-actions]")) {
    event.stopPropagation();
    syncBulkFields(document);
  }
}, true);
document.addEventListener("DOMContentLoaded", () => syncBulkFields(document));
document.addEventListener("htmx:afterSettle", () => syncBulkFields(document));

document.addEventListener("submit", (event) => {
  const form = event.target;
  // Save this filter: the filter form updates the address bar (hx-push-url), so
  // the query string to save is the current one, not the one the page loaded with.
  if (form.matches("[data-save-filter]")) {
    form.querySelector("input[name=query]").value = window.location.search.replace(/^\?/, "");
  }
  // One submission per click: a double click must not post twice (the server
  // also refuses a reused form token).
  if (form.matches("[data-submit-once]")) {
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
  }
});
// Coming back with the browser's back button restores the page as it was: re-enable.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-submit-once]").forEach((form) => {
    delete form.dataset.submitting;
    form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; });
  });
});

// Complaint detail: a refused htmx form (400/403/409) comes back with HX-Retarget and
// is swapped in, so the reasons show inside the form instead of being dropped.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Complaint detail: the action modal shows "Loading…" rather than the last form.
document.addEventListener("hidden.bs.modal", (event) => {
  if (event.target.id !== "action-modal") return;
  const content = document.getElementById("action-modal-content");
  const loading = document.getElementById("action-modal-loading");
  if (content && loading) content.replaceChildren(loading.content.cloneNode(true));
});
