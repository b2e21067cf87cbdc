// The public pages' small behaviours (no inline scripts: the CSP forbids them).
// Everything works without JavaScript; this only makes it smoother.
document.documentElement.classList.add("js");

// The language select submits its form on change.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]")) el.form.submit();
  // Show the names of the chosen files under a file input.
  if (el.matches("input[type=file]")) {
    const list = document.querySelector(`[data-file-list="${el.id}"]`);
    if (!list) return;
    list.replaceChildren(
      ...Array.from(el.files).map((file) => {
        const item = document.createElement("li");
        item.textContent = `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
        return item;
      }),
    );
  }
});

// One submission per click: a double click must not post twice (the server also
// answers a re-posted complaint form with the complaint the first post created).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-submit-once]")) return;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "1";
  setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
});
// Back to a page from the browser's cache: the form may be used again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-submitting]").forEach((form) => {
    delete form.dataset.submitting;
    form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; });
  });
});

// Copy the tracking number.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || label;
    setTimeout(() => { button.textContent = label; }, 2000);
  }, () => {});
});

// After a refused submission, bring the error summary into view for screen readers.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("form-errors");
  if (summary) summary.focus();
});
