// The plan grid, made to behave like a spreadsheet on top of the accessible table the server
// renders (which works as one form without this script):
// - arrow keys, Enter and Shift+Enter move between cells; Enter never posts the page;
// - a block copied from Excel or LibreOffice (tab-separated rows) pastes from the focused cell,
//   all or nothing: the server checks every cell and stores none if any is bad;
// - "Fill right" copies a month across the rest of the year; "Spread a year total" asks the
//   server to spread an amount evenly or in the profile of the last submitted version;
// - Undo (button or Ctrl+Z) takes back the last change, a whole paste as one step;
// - every outcome is announced through the status live region.
// The server renders every figure (one number format); this script only sends what was typed
// and puts the cells it gets back in place by id.

const form = document.getElementById("grid-form");
if (form && form.dataset.grid) start(form);

function start(form) {
  const table = document.getElementById("grid");
  const body = table.tBodies[0];
  const status = document.getElementById("grid-status");
  const tools = document.getElementById("grid-tools");
  const bar = document.getElementById("cellbar");
  const dialog = document.getElementById("spread-dialog");
  const undoButton = tools.querySelector('[data-grid-action="undo"]');
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const history = []; // what each successful change replaced, newest last
  let queue = Promise.resolve(); // saves go one after another, each reading the cells afresh
  let lastInput = null; // the cell the tools act on

  tools.hidden = false;
  bar.hidden = false;
  // A number pad on touch screens (set here rather than repeated in the page for every cell).
  for (const input of form.querySelectorAll('input[name^="v:"]')) input.inputMode = "decimal";
  for (const el of document.querySelectorAll(".ob-js-hide")) el.hidden = true;

  // --- where things are ------------------------------------------------------------------

  const MONTHS = 12;
  const isInput = (el) => el instanceof HTMLInputElement && el.name.startsWith("v:");
  const inputIn = (td) => td && td.querySelector('input[name^="v:"]');
  // What the cell holds in the draft: the figure it was shown with, unless it shows something
  // refused or not saved, when the server says what is stored.
  const saved = (input) => input.dataset.stored ?? input.defaultValue;
  // How many things this page itself has said (a paste refused, a fill, an undo), so the
  // server's late answer to an earlier save cannot talk over them.
  let said = 0;
  const started = (name) => form.querySelector(`input[name="e:${name.slice(2)}"]`);

  function place(input) {
    const td = input.closest("td");
    return { row: td.parentElement.sectionRowIndex, month: td.cellIndex };
  }

  function rowName(tr) {
    return `${tr.dataset.line}:${tr.dataset.cp || ""}`;
  }

  function focusCell(row, month, step = 0) {
    const rows = body.rows;
    month = Math.min(Math.max(month, 1), MONTHS);
    // Up and down skip the rows worked out for you, as nothing can be typed there.
    while (row >= 0 && row < rows.length) {
      const input = inputIn(rows[row].cells[month]);
      if (input) {
        input.focus();
        input.select();
        return true;
      }
      if (!step) return false;
      row += step;
    }
    return false;
  }

  // --- keys --------------------------------------------------------------------------------

  table.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!isInput(input) || event.altKey) return;
    const { row, month } = place(input);
    const all = input.selectionStart === 0 && input.selectionEnd === input.value.length;
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z" && !event.shiftKey) {
      if (input.value === saved(input) && history.length) {
        event.preventDefault();
        undo();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (key === "Enter") {
      event.preventDefault(); // never post the whole grid
      commit(input);
      focusCell(row + (event.shiftKey ? -1 : 1), month, event.shiftKey ? -1 : 1);
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      event.preventDefault();
      focusCell(row + (key === "ArrowDown" ? 1 : -1), month, key === "ArrowDown" ? 1 : -1);
    } else if (key === "ArrowLeft" && (all || input.selectionEnd === 0)) {
      if (month > 1) {
        event.preventDefault();
        focusCell(row, month - 1);
      }
    } else if (key === "ArrowRight" && (all || input.selectionStart === input.value.length)) {
      if (month < MONTHS) {
        event.preventDefault();
        focusCell(row, month + 1);
      }
    } else if (key === "Escape" && input.value !== saved(input)) {
      event.preventDefault();
      input.value = saved(input); // take back what was typed, or keep someone else's figure
      input.select();
    }
  });

  // A typed figure is saved when the cell is left, as in a spreadsheet. A cell taken out of
  // the page because the server's answer replaced it was not left by anyone (Chromium says
  // focusout for it all the same): saving it would send again figures that are on their way.
  let replacing = false;
  table.addEventListener("focusout", (event) => {
    if (isInput(event.target) && !replacing && event.target.isConnected) commit(event.target);
  });

  // Arriving in a cell selects its figure, so typing replaces it, as in a spreadsheet; a
  // second click puts the caret where it lands.
  let justFocused = null;
  table.addEventListener("focusin", (event) => {
    if (!isInput(event.target)) return;
    lastInput = event.target;
    justFocused = event.target;
    event.target.select();
    showCell(event.target);
  });
  table.addEventListener("mouseup", (event) => {
    if (event.target === justFocused) event.preventDefault(); // keep the selection
    justFocused = null;
  });

  function commit(input) {
    if (input.value === saved(input) || input.dataset.sent === input.value) return;
    // A cell of a change that was refused (a pasted block, say) goes again with the rest of
    // that change: all of it, or none, as the first time.
    const held = input.closest("td.ob-unsaved, td.ob-cell--error")
      ? [...form.querySelectorAll("td.ob-unsaved input[name^='v:'], td.ob-cell--error input[name^='v:']")]
      : [input];
    for (const each of held) each.dataset.sent = each.value;
    save(held.length > 1 ? "paste" : "grid", held.map((each) => ({ name: each.name, value: each.value })), (ok) => {
      if (ok) return;
      for (const each of held) delete each.dataset.sent; // leaving the cell again retries
    });
  }

  // --- paste -------------------------------------------------------------------------------

  table.addEventListener("paste", (event) => {
    const input = event.target;
    if (!isInput(input)) return;
    const text = (event.clipboardData || window.clipboardData).getData("text/plain");
    const block = text
      .replace(/\r\n?/g, "\n")
      .replace(/\n$/, "")
      .split("\n")
      .map((line) => line.split("\t"));
    if (block.length === 1 && block[0].length === 1) return; // one value: an ordinary paste
    event.preventDefault();
    const { row, month } = place(input);
    const width = Math.max(...block.map((line) => line.length));
    const rows = body.rows;
    if (month + width - 1 > MONTHS || row + block.length > rows.length) {
      const months = MONTHS - month + 1;
      announce(
        `Nothing was pasted: the block is ${block.length} row${block.length > 1 ? "s" : ""} by ` +
          `${width} column${width > 1 ? "s" : ""}, and from here there ` +
          `${months === 1 ? "is 1 month" : `are ${months} months`} to March and ` +
          `${rows.length - row} row${rows.length - row === 1 ? "" : "s"} to the end of the section. ` +
          "Copy the months only (not a year total), or start further left or up.",
        true,
      );
      return;
    }
    const cells = [];
    block.forEach((line, i) => {
      const tr = rows[row + i];
      line.forEach((value, j) => {
        cells.push({ name: `v:${rowName(tr)}:${month + j}`, value: value.trim() });
      });
    });
    save("paste", cells);
  });

  // --- the tools ---------------------------------------------------------------------------

  tools.addEventListener("click", (event) => {
    const button = event.target.closest("[data-grid-action]");
    if (!button) return;
    const action = button.dataset.gridAction;
    if (action === "undo") return undo();
    if (!lastInput || !document.contains(lastInput)) {
      lastInput = form.querySelector('input[name^="v:"]');
    }
    if (!lastInput) return;
    if (action === "fill") fillRight(lastInput);
    if (action === "spread") openSpread(lastInput);
  });

  function fillRight(input) {
    const { row, month } = place(input);
    const tr = body.rows[row];
    if (month === MONTHS) {
      announce("March is the last month: there is nothing to its right to fill.", true);
      return;
    }
    const cells = [];
    for (let m = month; m <= MONTHS; m += 1) {
      cells.push({ name: `v:${rowName(tr)}:${m}`, value: input.value });
    }
    input.dataset.sent = input.value;
    save("fill", cells, () => focusCell(row, month));
  }

  function openSpread(input) {
    const tr = input.closest("tr");
    dialog.querySelector("#spread-line").textContent = tr.cells[0].textContent.replace(/,\s*$/, "");
    dialog.dataset.row = String(tr.sectionRowIndex);
    dialog.querySelector("#spread-total").value = "";
    dialog.showModal();
    dialog.querySelector("#spread-total").focus();
  }

  dialog.addEventListener("close", () => {
    const row = Number(dialog.dataset.row);
    const tr = body.rows[row];
    // Back to the cell the spread was asked from (put in place afresh if it was saved).
    const back = () => {
      const again = lastInput && form.querySelector(`input[name="${lastInput.name}"]`);
      if (again) again.focus();
      else focusCell(row, 1);
    };
    if (dialog.returnValue !== "spread" || !tr) {
      back();
      return;
    }
    const data = new FormData(dialog.querySelector("form"));
    const names = [];
    for (let m = 1; m <= MONTHS; m += 1) names.push(`v:${rowName(tr)}:${m}`);
    save("spread", names.map((name) => ({ name, value: null })), () => back(), {
      line: tr.dataset.line,
      counterparty: tr.dataset.cp || "",
      total: data.get("total") || "",
      method: data.get("method") || "even",
    });
  });

  // --- saving, and putting the answer in place ---------------------------------------------

  // cells: [{name: "v:LINE:CP:M", value}] (value null: the server works it out, as for a
  // spread); every cell also sends the value it started from, so nobody's change is lost.
  function save(source, cells, then, extra = {}) {
    const asked = said; // what had been said when this change was made, not when it goes
    queue = queue.then(() => send(source, cells, extra, asked).then((ok) => then && then(ok)));
    return queue;
  }

  async function send(source, cells, extra, asked = said) {
    const body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("source", source);
    for (const [key, value] of Object.entries(extra)) body.append(key, value);
    const before = cells.map((cell) => {
      const was = started(cell.name);
      const from = was ? was.value : "";
      if (cell.value !== null) body.append(cell.name, cell.value);
      body.append(`e:${cell.name.slice(2)}`, from);
      return { name: cell.name, from };
    });
    busy(true);
    let response;
    try {
      response = await fetch(form.dataset.grid, {
        method: "POST",
        body,
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
    } catch {
      busy(false);
      announce("Nothing was saved: the connection failed. Check it and try again.", true);
      return false;
    }
    busy(false);
    if (![200, 409, 422].includes(response.status)) {
      announce(`Nothing was saved: the server answered ${response.status}. Try again.`, true);
      return false;
    }
    const sent = Object.fromEntries(cells.map((cell) => [cell.name, cell.value]));
    putInPlace(await response.text(), sent, response.status, said !== asked);
    if (response.status !== 200) {
      history.push({ failed: before.map((cell) => cell.name) });
    } else if (source !== "undo") {
      const changes = before
        .map((cell) => ({ ...cell, to: started(cell.name)?.value ?? "" }))
        .filter((cell) => cell.from !== cell.to);
      if (changes.length) history.push({ changes });
    }
    undoButton.disabled = history.length === 0;
    if (lastInput) showCell(form.querySelector(`input[name="${lastInput.name}"]`) || lastInput);
    return response.status === 200;
  }

  // `overtaken`: something newer was said while this save was on its way (a refused paste,
  // say); its plain news ("Nothing changed.") then stays unsaid, its errors never do.
  function putInPlace(html, sent, code, overtaken = false) {
    const stored = code === 200;
    const template = document.createElement("template");
    template.innerHTML = html;
    const active = document.activeElement;
    let placed;
    replacing = true;
    try {
      placed = putEach(template, sent, stored, overtaken, active);
    } finally {
      replacing = false;
    }
    if (code === 422) {
      // The figures refused stay in their cells to be put right. Leaving one unchanged does
      // not send the block again (it would be refused again); changing any of them does. A
      // conflict (409) is different: leaving the cell again is how yours replaces theirs. A
      // cell kept because someone is typing in it is not among those placed.
      for (const input of placed) {
        if (input.closest("td.ob-unsaved, td.ob-cell--error")) input.dataset.sent = input.value;
      }
    }
  }

  // Puts each element of the answer in place of the one with its id; returns the cells placed.
  function putEach(template, sent, stored, overtaken, active) {
    const placed = [];
    for (const fresh of [...template.content.children]) {
      if (fresh.tagName === "TEMPLATE") continue;
      const old = fresh.id && document.getElementById(fresh.id);
      if (!old) continue;
      if (old === status) {
        const error = fresh.classList.contains("ob-grid-status--error");
        if (error || !overtaken) announce(fresh.textContent.trim(), error, true);
        continue;
      }
      const typing = old.contains(active) && isInput(active) ? active : null;
      if (typing && active.value !== sent[active.name] && active.value !== active.defaultValue) {
        // The person is already typing something new here: keep it. If what was sent is now
        // stored, their next save starts from it; if not (someone else's figure came first),
        // the cell keeps starting from what they saw, so that save is refused, not silent.
        if (stored) {
          const was = started(active.name);
          const now = fresh.querySelector(`input[name="e:${active.name.slice(2)}"]`);
          if (was && now) was.value = now.value;
          active.defaultValue = inputIn(fresh)?.defaultValue ?? active.defaultValue;
        }
        continue;
      }
      old.replaceWith(fresh);
      for (const each of fresh.querySelectorAll('input[name^="v:"]')) placed.push(each);
      const input = inputIn(fresh);
      if (input) input.inputMode = "decimal";
      if (typing) {
        if (input) {
          input.focus();
          input.select();
        }
      }
    }
    return placed;
  }

  // Undo waits for the saves already on their way, so it takes back the newest change.
  function undo() {
    queue = queue.then(undoLast);
    return queue;
  }

  async function undoLast() {
    const last = history.pop();
    undoButton.disabled = history.length === 0;
    if (!last) return;
    if (last.failed) {
      // Nothing was stored: put the stored figures back in the cells that were marked.
      const page = await fetch(window.location.href, { credentials: "same-origin" });
      const template = document.createElement("template");
      template.innerHTML = await page.text();
      for (const name of last.failed) {
        const [, line, cp, month] = name.split(":");
        const id = `cell-${line}-${cp || "x"}-${month}`;
        const fresh = template.content.getElementById(id);
        const old = document.getElementById(id);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      }
      announce("The cells are back as they were saved.", false);
      return;
    }
    // Put back what each cell held, provided nobody has changed it since.
    const cells = last.changes.map((cell) => ({ name: cell.name, value: cell.from }));
    const focus = document.activeElement;
    await send("undo", cells, {});
    if (isInput(focus) && !document.contains(focus)) {
      form.querySelector(`input[name="${focus.name}"]`)?.focus();
    }
  }

  // --- what the focused cell holds ---------------------------------------------------------

  let shown = "";
  let timer = 0;
  function showCell(input) {
    const [, line, cp, month] = input.name.split(":");
    const query = new URLSearchParams({ line, counterparty: cp, month });
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (shown === query.toString()) return;
      shown = query.toString();
      const response = await fetch(`${form.dataset.cell}?${query}`, { credentials: "same-origin" });
      if (response.ok && shown === query.toString()) bar.innerHTML = await response.text();
    }, 150);
  }

  // --- saying what happened ------------------------------------------------------------------

  function announce(message, error, fromServer = false) {
    if (!fromServer) said += 1;
    status.classList.toggle("ob-grid-status--error", Boolean(error));
    // Emptied first, so the same words twice ("Saved 1 figure.") are read out twice.
    status.textContent = "";
    requestAnimationFrame(() => {
      status.textContent = message;
    });
    shown = ""; // a change may have a new last-changed line to show
  }

  function busy(on) {
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  performance.mark("ob-grid-ready"); // the grid answers keys and paste from here
}
