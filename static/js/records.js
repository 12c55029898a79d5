// Record uploads, enhanced: each file goes up in short chunk requests with its own
// progress bar for the whole file, resuming where it stopped after a dropped connection
// or a closed laptop (and, if the page was closed, when the same file is chosen again);
// drag and drop, limits checked before anything is sent, and states that update by
// themselves. Without JavaScript the same form posts every file at once and the page
// says what happened to each.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const list = document.getElementById("record-list");
  if (form) enhanceUploads(form);
  if (list || form) pollStates(form ? form.dataset.statusUrl : null);
});

function enhanceUploads(form) {
  const input = form.querySelector('input[type="file"]');
  const progress = document.getElementById("upload-progress");
  const zone = document.getElementById("drop-zone");
  const maxSize = Number(form.dataset.maxSize);
  const maxFiles = Number(form.dataset.maxFiles);
  for (const hint of form.querySelectorAll(".js-only")) hint.hidden = false;

  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change"));
  });

  form.addEventListener("submit", async (event) => {
    const files = Array.from(input.files);
    if (!files.length) return; // let the server say what is missing
    event.preventDefault();
    if (files.length > maxFiles) {
      announce(progress, `You chose ${files.length} files. Please upload at most ${maxFiles} at a time.`, true);
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    progress.replaceChildren();
    let anyStored = false;
    const combine = form.querySelector('input[name="combine"]');
    if (combine && combine.checked && files.length > 1) {
      // The pages of one letter travel together, so the server can put them in order.
      const row = progressRow(progress, `${files.length} photos, combined into one PDF`);
      anyStored = await sendOne(form, input.name, files, row);
      button.disabled = false;
      if (anyStored) window.setTimeout(showFreshPage, 1200);
      return;
    }
    for (const file of files) {
      const row = progressRow(progress, file.name);
      if (file.size > maxSize) {
        row.finish(`${file.name} is too large: the limit is ${form.dataset.maxSizeLabel} a file. Nothing was sent.`, false);
        continue;
      }
      if (file.size === 0) {
        row.finish(`${file.name} is empty (0 bytes). Please choose it again.`, false);
        continue;
      }
      // A file that fits in one chunk goes up in one request either way; larger ones go
      // in chunks that survive a dropped connection.
      const result = form.dataset.uploadUrl && file.size > FIRST_CHUNK
        ? await sendResumable(form, input.name, file, row)
        : await sendOne(form, input.name, file, row);
      anyStored = anyStored || result;
    }
    button.disabled = false;
    if (anyStored) window.setTimeout(showFreshPage, 1200);
  });
}

function sendOne(form, fieldName, file, row) {
  return new Promise((resolve) => {
    const data = new FormData(form);
    data.delete(fieldName);
    for (const one of Array.isArray(file) ? file : [file]) data.append(fieldName, one, one.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) row.update(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (body && body.results && body.results.length) {
        const result = body.results[0];
        row.finish(result.message, result.ok || result.duplicate);
        resolve(result.ok);
      } else {
        row.finish((body && body.errors) || "The upload did not work. Please try again.", false);
        resolve(false);
      }
    });
    const failed = () => {
      row.finish("The upload did not finish (the connection dropped). Nothing was stored; please try again.", false);
      resolve(false);
    };
    request.addEventListener("error", failed);
    request.addEventListener("abort", failed);
    request.send(data);
  });
}

// --- Resumable uploads (intake/resumable.py has the server side) -------------------

const FIRST_CHUNK = 1024 * 1024;
const MIN_CHUNK = 256 * 1024;
const MAX_RETRIES = 12;

function csrfToken(form) {
  const field = form.querySelector('input[name="csrfmiddlewaretoken"]');
  return field ? field.value : "";
}

// The same file chosen again (after closing the page) continues the same upload.
function resumeKey(form, file) {
  return `mc-upload ${form.dataset.uploadUrl} ${file.name} ${file.size} ${file.lastModified}`;
}

function remember(key, url) {
  try {
    if (url) window.localStorage.setItem(key, url);
    else window.localStorage.removeItem(key);
  } catch { /* private browsing: resuming within the page still works */ }
}

function recalled(key) {
  try { return window.localStorage.getItem(key); } catch { return null; }
}

// One XMLHttpRequest as a promise: {status, body} or {status: 0} when the network failed.
function call(method, url, { form, body = null, headers = {}, onProgress = null } = {}) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRFToken", csrfToken(form));
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    if (onProgress) {
      request.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    }
    request.addEventListener("load", () => {
      let parsed = null;
      try { parsed = JSON.parse(request.responseText); } catch { /* not JSON */ }
      resolve({ status: request.status, body: parsed });
    });
    const failed = () => resolve({ status: 0, body: null });
    request.addEventListener("error", failed);
    request.addEventListener("abort", failed);
    request.addEventListener("timeout", failed);
    request.send(body);
  });
}

const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

async function sendResumable(form, fieldName, file, row) {
  const key = resumeKey(form, file);
  let url = recalled(key);
  let offset = 0;
  if (url) {
    const known = await call("GET", url, { form });
    if (known.status === 200 && known.body) offset = known.body.offset;
    else url = null;
  }
  if (!url) {
    const data = new FormData(form);
    data.delete(fieldName);
    data.delete("combine");
    data.append("name", file.name);
    data.append("size", String(file.size));
    const started = await call("POST", form.dataset.uploadUrl, { form, body: data });
    if (started.status !== 201 || !started.body) {
      row.finish((started.body && started.body.errors) || "The upload could not start. Please try again.", false);
      return false;
    }
    url = started.body.url;
    remember(key, url);
  }
  // Chunks grow while the connection is quick and shrink when it is slow, so each
  // request stays short (a few seconds) whatever the connection.
  let chunk = FIRST_CHUNK;
  const chunkMax = Number(form.dataset.chunkMax) || 8 * 1024 * 1024;
  let retries = 0;
  row.update(offset / file.size);
  while (offset < file.size) {
    const end = Math.min(offset + chunk, file.size);
    const began = Date.now();
    const sent = await call("PATCH", url, {
      form,
      body: file.slice(offset, end),
      headers: { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
      onProgress: (loaded) => row.update((offset + loaded) / file.size),
    });
    if (sent.status === 200 && sent.body) {
      retries = 0;
      offset = sent.body.offset;
      row.update(offset / file.size);
      const seconds = (Date.now() - began) / 1000;
      if (seconds < 2) chunk = Math.min(chunk * 2, chunkMax);
      else if (seconds > 6) chunk = Math.max(Math.floor(chunk / 2), MIN_CHUNK);
      if (sent.body.results && sent.body.results.length) {
        remember(key, null);
        const result = sent.body.results[0];
        row.finish(result.message, result.ok || result.duplicate);
        return result.ok;
      }
      continue;
    }
    if (sent.status === 409 && sent.body && typeof sent.body.offset === "number") {
      offset = sent.body.offset; // the server has a different amount: carry on from there
      continue;
    }
    if (sent.status === 0 || sent.status >= 500) {
      // Connection dropped or the laptop slept: wait, ask how much arrived, go on.
      retries += 1;
      if (retries > MAX_RETRIES) {
        row.finish(`${file.name}: the connection keeps dropping. What was sent is kept: choose the same file again later to carry on.`, false);
        return false;
      }
      row.status(`Connection lost. Trying again (${retries} of ${MAX_RETRIES})…`);
      await pause(Math.min(1000 * 2 ** (retries - 1), 30000));
      const known = await call("GET", url, { form });
      if (known.status === 200 && known.body) offset = known.body.offset;
      else if (known.status === 404) {
        remember(key, null);
        row.finish(`${file.name}: this upload has expired. Please choose the file again.`, false);
        return false;
      }
      row.status("");
      continue;
    }
    remember(key, null);
    row.finish((sent.body && sent.body.errors) || "The upload did not work. Please try again.", false);
    return false;
  }
  return false;
}

function progressRow(container, name) {
  const item = document.createElement("li");
  item.className = "mb-2";
  const label = document.createElement("p");
  label.className = "mb-1 small text-break";
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload progress for ${name}`);
  bar.className = "w-100";
  const note = document.createElement("p");
  note.className = "mb-0 small";
  item.append(label, bar, note);
  container.append(item);
  return {
    update(fraction) { bar.value = Math.round(fraction * 100); },
    status(message) { note.textContent = message; },
    finish(message, ok) {
      bar.value = ok ? 100 : bar.value;
      note.textContent = "";
      label.textContent = message;
      label.classList.add(ok ? "text-success" : "text-danger", "fw-semibold");
    },
  };
}

// Fetch the page afresh with a GET. reload() would repeat the POST when this page is the
// answer to one (after an error): the browser asks to resend the form, and the old errors
// come back over a successful upload.
function showFreshPage() {
  window.location.replace(window.location.pathname + window.location.search);
}

function announce(container, message, isError) {
  const item = document.createElement("li");
  item.textContent = message;
  item.className = isError ? "text-danger fw-semibold" : "";
  container.replaceChildren(item);
}

function pollStates(url) {
  const pending = () => document.querySelectorAll(".state-received, .state-checking").length;
  if (!url || !pending()) return;
  const hint = document.getElementById("refresh-hint");
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      // Reload once something settled, so thumbnails, links and the checklist refresh.
      const settled = body.records.some((record) => {
        const node = document.querySelector(`[data-state-for="${record.id}"]`);
        return node && !record.pending && (node.classList.contains("state-received") || node.classList.contains("state-checking"));
      });
      if (settled) { showFreshPage(); return; }
    } catch { /* offline for a moment: try again */ }
    window.setTimeout(tick, 2000);
  };
  if (hint) hint.textContent = "Some files are still being checked; this page updates by itself.";
  window.setTimeout(tick, 1500);
}
