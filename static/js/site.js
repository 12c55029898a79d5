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
  // "Who is filling in this enquiry?": the questions for a family member or carer show
  // only once that is the answer. The server ignores them for a patient either way.
  const who = document.querySelectorAll("input[name=filling_in_for]");
  const familyOnly = new Set(
    [...document.querySelectorAll("[data-family-only]")].map((input) =>
      input.closest("[id^=div_id_]"),
    ),
  );
  const showFamilyOnly = () => {
    const family = [...who].some((radio) => radio.checked && radio.value === "family");
    for (const question of familyOnly) if (question) question.hidden = !family;
  };
  for (const radio of who) radio.addEventListener("change", showFamilyOnly);
  if (who.length) showFamilyOnly();
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
