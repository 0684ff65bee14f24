// Marks the page as scripted (NHS.UK components style themselves on this) and starts them.
// Kept in a file rather than inline so the Content-Security-Policy can forbid inline script.
import { initAll } from "./nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
