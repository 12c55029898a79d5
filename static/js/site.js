// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Stop a double click from sending a form twice (the server also refuses duplicates).
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
        button.setAttribute("aria-disabled", "true");
      }
    });
  }
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
