// A click in a field marked `data-select-on-click` selects its whole value, ready to copy (the
// new API key's box). A file of ours, not an inline `onclick`: the CSP allows only scripts from
// our own origin.
document.addEventListener("click", (event) => {
  const field = event.target.closest("[data-select-on-click]");
  if (field) {
    field.select();
  }
});
