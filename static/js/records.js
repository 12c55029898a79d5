// Record uploads, enhanced: one request per file with its own progress bar, drag and
// drop, limits checked before anything is sent, and states that update by themselves.
// Without JavaScript the same form posts every file at once and the page says what
// happened to each.
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
      if (anyStored) window.setTimeout(() => window.location.reload(), 1200);
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
      const result = await sendOne(form, input.name, file, row);
      anyStored = anyStored || result;
    }
    button.disabled = false;
    if (anyStored) window.setTimeout(() => window.location.reload(), 1200);
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
  item.append(label, bar);
  container.append(item);
  return {
    update(fraction) { bar.value = Math.round(fraction * 100); },
    finish(message, ok) {
      bar.value = ok ? 100 : bar.value;
      label.textContent = message;
      label.classList.add(ok ? "text-success" : "text-danger", "fw-semibold");
    },
  };
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
      if (settled) { window.location.reload(); return; }
    } catch { /* offline for a moment: try again */ }
    window.setTimeout(tick, 2000);
  };
  if (hint) hint.textContent = "Some files are still being checked; this page updates by itself.";
  window.setTimeout(tick, 1500);
}
