// Konsol lapor-triage: a little plain JavaScript; every page also works without it.
document.addEventListener("DOMContentLoaded", () => {
  // The queue's sort and filter apply as soon as they change.
  const form = document.getElementById("form-saring");
  if (form) {
    for (const el of form.querySelectorAll("select, input")) {
      el.addEventListener("change", () => form.submit());
    }
  }
  // Overriding needs a name: keep the "Alihkan" button disabled until one is typed.
  for (const f of document.querySelectorAll("form.decide")) {
    const input = f.querySelector("input[name=nama]");
    const button = f.querySelector("button.override");
    if (!input || !button) continue;
    const sync = () => { button.disabled = !input.value.trim(); };
    input.addEventListener("input", sync);
    sync();
  }
});
