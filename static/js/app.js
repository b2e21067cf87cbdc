// Small behaviours without inline scripts (the CSP forbids them).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]")) el.form.submit();
  if (el.matches("[data-select-all]")) {
    document.querySelectorAll(el.dataset.selectAll).forEach((box) => { box.checked = el.checked; });
  }
});
