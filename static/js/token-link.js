// Sign-in and invitation links carry their token after "#". Browsers never send that part
// to a server, so the token never reaches an access log or a Referer header. This moves it
// into the form and sends the form, which only checks the token and names the account:
// the person still presses Continue. Without JavaScript they type the code from the e-mail.
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
  if (input.form.requestSubmit) input.form.requestSubmit();
  else input.form.submit();
})();
