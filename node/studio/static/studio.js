// Mesh Art Studio: the budget slider refreshes the cost panel; files can be dropped on the form.
// Everything works without this script (the forms submit normally).
"use strict";

function setupBudget() {
  const form = document.querySelector("[data-budget-form]");
  if (!form) return;
  const slider = form.querySelector("input[type=range]");
  const output = form.querySelector("[data-budget-value]");
  const signBudget = document.querySelector("[data-sign-budget]");
  let timer = null;
  let asked = 0;
  const refresh = async () => {
    const value = slider.value;
    const ticket = ++asked;
    const url = `${form.getAttribute("action")}/cost?budget=${encodeURIComponent(value)}`;
    const panel = document.querySelector("[data-cost]");
    panel.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok || ticket !== asked) return;
      const html = await response.text();
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.querySelector("[data-cost]");
      if (fresh) panel.replaceWith(fresh);
      if (signBudget) signBudget.value = value;
      history.replaceState(null, "", `${form.getAttribute("action")}?budget=${encodeURIComponent(value)}`);
    } finally {
      const current = document.querySelector("[data-cost]");
      if (current) current.removeAttribute("aria-busy");
    }
  };
  slider.addEventListener("input", () => {
    output.textContent = `${slider.value} KiB`;
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
}

function setupDrop() {
  const form = document.querySelector("[data-drop]");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((name) => form.addEventListener(name, () => form.classList.remove("dragging")));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupBudget();
  setupDrop();
  document.documentElement.dataset.studio = "ready";
});
