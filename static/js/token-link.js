// Sign-in and invitation links carry their token after "#". Browsers never send that part
// to a server, so the token never reaches an access log or a Referer header. This moves it
// into the form; a sign-in or invitation form is then sent, which only checks the token and
// names the account: the person still presses Continue. Without JavaScript they type the
// code from the e-mail.
(() => {
  const input = document.querySelector("input[data-token-from-fragment]");
  let token = "";
  try {
    token = decodeURIComponent(window.location.hash.slice(1)).trim();
  } catch {
    return; // a mangled link: the form is still there for the code from the e-mail
  }
  if (!input || !token) return;
  input.value = token;
  // Take the token out of the address bar and the browser history.
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  const form = input.form;
  if (form.hasAttribute("data-token-check")) {
    // Checking spends nothing: the next page names the account and waits for the person.
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  } else {
    // A form with its own question (confirm an enquiry): the code is in, hide its box.
    const field = input.closest("[data-token-field]");
    if (field) field.hidden = true;
  }
})();
