// Marks the page as scripted (NHS.UK components style themselves on this) and starts them.
// Kept in a file rather than inline so the Content-Security-Policy can forbid inline script.
import { initAll } from "./nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// A table wider than the page scrolls inside its own region. Only a region that does scroll
// becomes a tab stop, named after its table, so a keyboard can scroll it and no one tabs
// through the ones that fit.
function markScrolling() {
  for (const wrap of document.querySelectorAll(".ob-table-wrap")) {
    const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls && !wrap.hasAttribute("tabindex")) {
      const caption = wrap.querySelector("caption");
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    } else if (!scrolls && wrap.getAttribute("tabindex") === "0") {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
    }
  }
}
markScrolling();
window.addEventListener("resize", markScrolling);

// "Print" buttons (the board pack): the browser's own print, which also saves as PDF.
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
