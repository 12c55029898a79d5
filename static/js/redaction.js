// Redaction review: draw boxes with the mouse over the page picture, and show which proposed
// boxes are kept. Without this file the page still works: checkboxes keep or remove boxes and
// the word list adds them (the keyboard way).
(function () {
  "use strict";
  const page = document.getElementById("redaction-page");
  const form = document.getElementById("redaction-form");
  if (!page || !form) return;
  const list = document.getElementById("drawn-list");
  const width = Number(page.dataset.width);
  const height = Number(page.dataset.height);
  page.classList.add("drawing");

  // Keep the drawn overlay of each proposed box in step with its checkbox.
  form.querySelectorAll("input[name=keep]").forEach((checkbox) => {
    const box = page.querySelector(`.redaction-box[data-index="${checkbox.value}"]`);
    const sync = () => box && box.classList.toggle("removed", !checkbox.checked);
    checkbox.addEventListener("change", sync);
    if (box) {
      box.addEventListener("click", () => {
        checkbox.checked = !checkbox.checked;
        sync();
      });
    }
  });

  function toPicture(event) {
    const rect = page.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
    const y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height);
    return { x: (x / rect.width) * width, y: (y / rect.height) * height };
  }

  function place(element, a, b) {
    const left = Math.min(a.x, b.x);
    const top = Math.min(a.y, b.y);
    element.style.left = `${(100 * left) / width}%`;
    element.style.top = `${(100 * top) / height}%`;
    element.style.width = `${(100 * Math.abs(b.x - a.x)) / width}%`;
    element.style.height = `${(100 * Math.abs(b.y - a.y)) / height}%`;
  }

  let start = null;
  let drawing = null;
  page.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.classList.contains("redaction-box")) return;
    event.preventDefault();
    start = toPicture(event);
    drawing = document.createElement("div");
    drawing.className = "redaction-box drawn";
    page.appendChild(drawing);
    page.setPointerCapture(event.pointerId);
  });
  page.addEventListener("pointermove", (event) => {
    if (drawing) place(drawing, start, toPicture(event));
  });
  page.addEventListener("pointerup", (event) => {
    if (!drawing) return;
    const end = toPicture(event);
    const box = [
      Math.round(Math.min(start.x, end.x)),
      Math.round(Math.min(start.y, end.y)),
      Math.round(Math.max(start.x, end.x)),
      Math.round(Math.max(start.y, end.y)),
    ];
    const element = drawing;
    drawing = null;
    if (box[2] - box[0] < 4 || box[3] - box[1] < 4) {
      element.remove();
      return;
    }
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "drawn";
    input.value = box.join(",");
    form.appendChild(input);
    const item = document.createElement("li");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => {
      input.remove();
      element.remove();
      item.remove();
    });
    item.textContent = `Box drawn by hand (${box.join(", ")}) `;
    item.appendChild(remove);
    list.appendChild(item);
    const none = form.querySelector("input[name=no_identifiers]");
    if (none) none.checked = false;
  });
})();
