// Re-submit the selection when a select changes. The form works without this script
// (it has a "Show" button); nothing here talks to anything but this site.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("selection");
  if (!form) {
    return;
  }
  const order = ["source", "country", "region", "actor", "event_type"];
  form.addEventListener("change", (event) => {
    const name = event.target.name;
    // A new source or country makes the finer choices meaningless: start them over.
    if (name === "source" || name === "country") {
      for (const finer of order.slice(order.indexOf(name) + 1)) {
        const field = form.elements.namedItem(finer);
        if (field) {
          field.value = "";
        }
      }
    }
    // Blank fields mean "all": leave them out of the address, so links stay short.
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (value) {
        params.set(key, value);
      }
    }
    form.setAttribute("aria-busy", "true");
    window.location.assign(`${form.getAttribute("action")}?${params}`);
  });
});
