// stackscripts dashboard: the project's own small script. A running run's output, live (server-sent events);
// runs chosen to compare; a confirmation before a destructive form. Every page works without it.
"use strict";

const KEEP = 512 * 1024; // characters of live output kept per step in the page

function liveRun(box) {
  const run = box.dataset.run;
  let after = box.dataset.after || "0";
  const status = document.getElementById("live-status");
  const source = new EventSource(`/runs/${encodeURIComponent(run)}/live?after=${encodeURIComponent(after)}`);
  const say = (text) => { if (status) status.textContent = text; };
  source.onopen = () => say("connected");
  source.onerror = () => say("reconnecting…");
  source.addEventListener("step", (e) => showStep(JSON.parse(e.data)));
  source.addEventListener("output", (e) => {
    const data = JSON.parse(e.data);
    after = e.lastEventId || after;
    append(stepBox(data.step, null), data.text);
  });
  source.addEventListener("run", (e) => {
    const data = JSON.parse(e.data);
    source.close();
    say(`the run ended: ${data.state}`);
    const state = document.getElementById("run-state");
    if (state) state.replaceChildren(badge(data.state));
    document.querySelectorAll("details.step.current").forEach((d) => d.classList.remove("current"));
    setTimeout(() => window.location.reload(), 1500); // the final table and timeline
  });
  source.addEventListener("error", (e) => { if (e.data) say(JSON.parse(e.data).message); });
}

function badge(state) {
  const span = document.createElement("span");
  span.className = `badge s-${state}`;
  span.textContent = state;
  return span;
}

function stepBox(index, name) {
  let box = document.getElementById(`step-${index}`);
  if (!box) {
    box = document.createElement("details");
    box.className = "step";
    box.id = `step-${index}`;
    box.dataset.step = index;
    const summary = document.createElement("summary");
    const label = document.createElement("span");
    label.className = "name";
    label.textContent = `${index + 1}. ${name || "step " + (index + 1)}`;
    const state = badge("running");
    state.classList.add("step-state");
    summary.append(label, " ", state);
    const pre = document.createElement("pre");
    pre.className = "out";
    pre.dataset.step = index;
    box.append(summary, pre);
    document.getElementById("steps").append(box);
  }
  return box;
}

function showStep(step) {
  const box = stepBox(step.step, step.name);
  const state = box.querySelector(".step-state");
  if (state) { state.className = `badge s-${step.state} step-state`; state.textContent = step.state; }
  if (step.state === "running") {
    document.querySelectorAll("details.step.current").forEach((d) => d.classList.remove("current"));
    box.classList.add("current");
    box.open = true;
  } else {
    box.classList.remove("current");
    if (step.state === "failed") box.open = true;
  }
}

function append(box, text) {
  const pre = box.querySelector("pre.out");
  if (!pre || !text) return;
  const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(document.createTextNode(text));
  if (pre.textContent.length > KEEP * 1.25) { // keep the page light: the earlier output stays in its pages
    pre.textContent = "[… earlier output: see the step's pages]\n" + pre.textContent.slice(-KEEP);
  }
  if (follow) pre.scrollTop = pre.scrollHeight;
}

function compareForms() {
  document.querySelectorAll("form.compare-form").forEach((form) => {
    const button = form.querySelector(".compare-button");
    const count = form.querySelector(".pick-count");
    const update = () => {
      const n = form.querySelectorAll("input.pick:checked").length;
      if (button) button.disabled = n < 2;
      if (count) count.textContent = n < 2 ? "choose two or more" : `${n} chosen`;
    };
    form.addEventListener("change", update);
    update();
  });
}

function confirmations() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("live");
  if (box) liveRun(box);
  compareForms();
  confirmations();
});
