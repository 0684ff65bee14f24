// Charts for the system plan, drawn from the JSON the page embeds (json_script), so the
// Content-Security-Policy needs no inline script. Every chart has a table of the same figures
// beside or below it for people who cannot see it.
/* global Chart */
const data = JSON.parse(document.getElementById("chart-data").textContent);

// The pages' number format on the charts' own axes and tooltips (the tables beside them are
// the server's): whole £000, thousands separated, negatives in brackets. Intl rounds halves
// away from zero, as the server does.
const whole = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
function figure(value) {
  const number = Number(value);
  const text = whole.format(Math.abs(number));
  return number < 0 && text !== "0" ? `(${text})` : text;
}
const axis = (title) => ({ title: { display: true, text: title }, ticks: { callback: figure } });
// Risk-share money is in pounds and pence: the what-if's tooltips say it to the penny.
const pennies = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
function pence(value) {
  const number = Number(value);
  const text = `£${pennies.format(Math.abs(number))}`;
  return number < 0 && text !== "£0.00" ? `(${text})` : text;
}
const blue = "#005eb8";
const red = "#d5281b";
const green = "#007f3b";

function bridge(canvas, items, totalLabel) {
  // A waterfall: each bar (an organisation, or a step from last year's outturn) floats from
  // the running total; the last bar is the total from zero.
  let running = 0;
  const bars = [];
  const colours = [];
  for (const item of items) {
    const value = Number(item.value);
    bars.push([running, running + value]);
    colours.push(value < 0 ? red : green);
    running += value;
  }
  bars.push([0, running]);
  colours.push(blue);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: [...items.map((i) => i.label), totalLabel],
      datasets: [{ label: "£000", data: bars, backgroundColor: colours }],
    },
    options: {
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          // A floating bar is [from, to]: its figure is the step, the last bar the total.
          callbacks: { label: (ctx) => `£000: ${figure(ctx.raw[1] - ctx.raw[0])}` },
        },
      },
      scales: { y: axis("£000") },
    },
  });
}

function profile(canvas, months, values) {
  new Chart(canvas, {
    type: "line",
    data: {
      labels: months,
      datasets: [{ label: "Surplus / (deficit), £000", data: values.map(Number), borderColor: blue }],
    },
    options: {
      animation: false,
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${figure(ctx.parsed.y)}` } },
      },
      scales: { y: axis("£000") },
    },
  });
}

const bridgeCanvas = document.getElementById("bridge-chart");
if (bridgeCanvas && data.bridge.length) bridge(bridgeCanvas, data.bridge, data.total_label || "System");
const profileCanvas = document.getElementById("profile-chart");
if (profileCanvas) profile(profileCanvas, data.months, data.surplus);

function whatif(canvas, chart) {
  // One line per partner: what it pays (−) or receives (+) as activity or spend moves.
  const palette = [blue, red, green, "#330072", "#ed8b00", "#00a499", "#7c2855", "#425563"];
  new Chart(canvas, {
    type: "line",
    data: {
      labels: chart.labels,
      datasets: chart.series.map((s, i) => ({
        label: s.label,
        data: s.values.map(Number),
        borderColor: palette[i % palette.length],
      })),
    },
    options: {
      animation: false,
      plugins: {
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${pence(ctx.parsed.y)}` } },
      },
      scales: {
        x: { title: { display: true, text: "Activity or spend against plan" } },
        y: axis("£"),
      },
    },
  });
}

const whatifCanvas = document.getElementById("whatif-chart");
if (whatifCanvas) whatif(whatifCanvas, data);
