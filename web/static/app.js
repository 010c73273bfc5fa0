// app.js runs the page: it loads the lab (Go compiled to WebAssembly),
// fills the pickers, runs the chosen scenario in one or two variants side
// by side, steps through the runs instant by instant, and analyses
// uploaded captures. Tests read document.body.dataset: ready, busy, runs
// (how many runs finished), step and steps.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { cat: null, panes: [], steps: [], idx: -1, timer: null, drops: [], runs: 0 };

function setStatus(text, error) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

// loadLab instantiates main.wasm: fetched over HTTP, or from main.wasm.js
// (the same bytes in base64) when the page is opened from a file, where
// fetch is not allowed.
async function loadLab() {
  const go = new Go();
  const ready = new Promise((resolve) => { window.teardownReady = resolve; });
  let inst;
  if (location.protocol !== "file:") {
    try {
      const resp = await fetch("main.wasm");
      if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
      inst = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
    } catch (e) {
      console.warn("main.wasm: " + e + "; trying main.wasm.js");
    }
  }
  if (!inst) {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "main.wasm.js";
      s.onload = resolve;
      s.onerror = () => reject(new Error("cannot load main.wasm.js"));
      document.head.appendChild(s);
    });
    const bin = atob(window.TEARDOWN_WASM);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    inst = await WebAssembly.instantiate(bytes, go.importObject);
  }
  go.run(inst.instance);
  await ready;
}

function option(sel, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  sel.appendChild(o);
}

function scenario() { return state.cat.scenarios.find((s) => s.id === $("scenario").value); }

function fillScenarios() {
  for (const s of state.cat.scenarios) option($("scenario"), s.id, s.id + (s.needs ? " (not runnable)" : ""));
}

// fillVariants fills the variant, comparison and profile pickers for the
// chosen scenario: the comparison defaults to the next variant ("fixed").
function fillVariants() {
  const s = scenario();
  for (const id of ["variant", "compare", "profile"]) $(id).replaceChildren();
  for (const v of s.variants) {
    option($("variant"), v.name, v.name + " — " + v.summary);
    option($("compare"), v.name, v.name);
  }
  option($("compare"), "", "(none)");
  $("compare").value = s.variants.length > 1 ? s.variants[1].name : "";
  option($("profile"), "", "(the variant's own)");
  const listed = s.profiles || [];
  for (const p of listed) option($("profile"), p, p);
  for (const p of state.cat.profiles) if (!listed.includes(p)) option($("profile"), p, p);
  syncFaults();
}

// The half-close and linger toggles pick the scenario's variants of
// those names; they are off where the scenario has none.
function syncFaults() {
  const names = scenario().variants.map((v) => v.name);
  for (const [id, name] of [["fault-halfclose", "shutdown"], ["fault-linger", "linger"]]) {
    $(id).disabled = !names.includes(name);
    $(id).checked = $("variant").value === name;
  }
}

function toggleFault(name, on) {
  const names = scenario().variants.map((v) => v.name);
  $("variant").value = on ? name : names[0];
  if ($("compare").value === $("variant").value) $("compare").value = on ? names[0] : (names[1] || "");
  syncFaults();
  run();
}

function request(variant) {
  const lat = parseFloat($("latency").value);
  return {
    scenario: $("scenario").value, variant, profile: $("profile").value,
    seed: Math.max(1, parseInt($("seed").value, 10) || 1),
    latency_ns: lat > 0 ? Math.round(lat * 1e6) : 0, lose: state.drops,
  };
}

async function run() {
  const s = scenario();
  if (s.needs) { setStatus(s.id + " cannot run yet: it needs " + s.needs, true); return; }
  const variants = [$("variant").value];
  if ($("compare").value && $("compare").value !== variants[0]) variants.push($("compare").value);
  document.body.dataset.busy = "true";
  setStatus("running " + s.id + "…");
  const t0 = performance.now();
  try {
    const outs = await Promise.all(variants.map((v) => teardown.run(JSON.stringify(request(v)))));
    state.panes = outs.map((o) => {
      const out = JSON.parse(o.outcome);
      return { out, rep: out.trace, pcap: o.pcap };
    });
    buildPanes();
    state.steps = [...new Set(state.panes.flatMap((p) => timelineOf(p.rep).instants))].sort((a, b) => a - b);
    stop();
    go(-1);
    state.runs++;
    setStatus(`${s.id}: ran ${variants.join(" and ")} in ${Math.round(performance.now() - t0)} ms, in this page`);
  } catch (e) {
    setStatus(String(e.message || e), true);
  } finally {
    document.body.dataset.busy = "false";
    document.body.dataset.runs = String(state.runs);
  }
}

function download(blob, name, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.textContent = text;
  return a;
}

function downloads(out, pcap) {
  const d = document.createElement("div");
  d.className = "downloads";
  if (pcap) d.appendChild(download(new Blob([pcap], { type: "application/vnd.tcpdump.pcap" }), out.name + ".pcap", "pcap"));
  d.appendChild(download(new Blob([out.svg], { type: "image/svg+xml" }), out.name + ".svg", "SVG"));
  const json = out.json || JSON.stringify(out.trace, null, 2) + "\n";
  d.appendChild(download(new Blob([json], { type: "application/json" }), out.name + ".json", "JSON"));
  if (out.text) d.appendChild(download(new Blob([out.text], { type: "text/plain" }), out.name + ".txt", "text"));
  return d;
}

function buildPanes() {
  $("panes").replaceChildren();
  state.panes.forEach((p, i) => {
    const div = document.createElement("section");
    div.className = "pane";
    div.id = "pane-" + i;
    const h = document.createElement("h2");
    h.textContent = `${p.rep.scenario} · ${p.rep.variant} · ${p.rep.profile} · seed ${p.rep.seed}`;
    p.svg = document.createElementNS(SVGNS, "svg");
    p.verdict = document.createElement("div");
    p.verdict.className = "verdict";
    p.explanation = document.createElement("p");
    p.explanation.className = "explanation";
    div.append(h, p.svg, p.verdict, p.explanation, downloads(p.out, p.pcap));
    $("panes").appendChild(div);
  });
}

// go moves the cursor to step i (-1: before the first instant) and
// redraws every pane; the verdict shows once its run has been stepped
// through.
function go(i) {
  state.idx = Math.max(-1, Math.min(i, state.steps.length - 1));
  const cursor = state.idx < 0 ? -1 : state.steps[state.idx];
  const atEnd = state.idx === state.steps.length - 1;
  for (const p of state.panes) {
    drawTrace(p.svg, p.rep, atEnd ? Infinity : cursor, dropAt);
    const last = timelineOf(p.rep).instants.at(-1);
    if (atEnd || cursor >= last) {
      p.verdict.replaceChildren(...p.out.verdict.map((l) => Object.assign(document.createElement("p"), { textContent: l })));
      p.verdict.className = "verdict " + (p.out.verdict.length === 2 && p.out.verdict[0].startsWith("No data") &&
        p.out.verdict[1].startsWith("No application") ? "good" : "bad");
      p.explanation.textContent = p.out.explanation;
    } else {
      p.verdict.replaceChildren(Object.assign(document.createElement("p"), { textContent: "The verdict shows when the run has ended (End, or step on)." }));
      p.verdict.className = "verdict";
      p.explanation.textContent = "";
    }
  }
  $("clock").textContent = state.idx < 0 ? `start (0 of ${state.steps.length} instants)` :
    `t = ${ms(cursor)} ms (${state.idx + 1} of ${state.steps.length} instants)`;
  document.body.dataset.step = String(state.idx + 1);
  document.body.dataset.steps = String(state.steps.length);
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  $("play").textContent = "Play";
}

function play() {
  if (state.timer) { stop(); return; }
  if (state.idx >= state.steps.length - 1) go(-1);
  $("play").textContent = "Pause";
  state.timer = setInterval(() => {
    go(state.idx + 1);
    if (state.idx >= state.steps.length - 1) stop();
  }, 500);
}

// dropAt toggles dropping what p's sender sends at p's instant, and runs
// again.
function dropAt(p) {
  const k = state.drops.findIndex((d) => d.from === p.from && d.at_ns === p.t_ns);
  if (k >= 0) state.drops.splice(k, 1);
  else state.drops.push({ from: p.from, at_ns: p.t_ns });
  showDrops();
  run();
}

function showDrops() {
  $("drops").textContent = state.drops.length === 0 ? "Drop: click a packet to drop what its sender sends at that instant." :
    "Dropping what " + state.drops.map((d) => `${d.from} sends at ${ms(d.at_ns)} ms`).join(", ") + ".";
}

async function analyseFile(file) {
  document.body.dataset.busy = "true";
  setStatus("analysing " + file.name + "…");
  try {
    const a = JSON.parse(await teardown.analyze(new Uint8Array(await file.arrayBuffer())));
    const box = $("analysis");
    box.replaceChildren();
    for (const c of a.conns || []) {
      const sec = document.createElement("section");
      sec.className = "pane conn";
      const h = document.createElement("h2");
      h.textContent = c.title;
      const svg = document.createElementNS(SVGNS, "svg");
      drawTrace(svg, c.trace, Infinity);
      const v = document.createElement("div");
      v.className = "verdict";
      v.replaceChildren(...c.verdict.map((l) => Object.assign(document.createElement("p"), { textContent: l })));
      const ex = Object.assign(document.createElement("p"), { className: "explanation", textContent: c.explanation });
      const name = file.name.replace(/\.[^.]*$/, "") + "-conn" + (box.children.length + 1);
      sec.append(h, svg, v, ex, downloads({ name, svg: c.svg, trace: c.trace }));
      box.appendChild(sec);
    }
    const pre = Object.assign(document.createElement("pre"), { id: "analysis-text", textContent: a.text });
    box.appendChild(pre);
    setStatus(file.name + ": " + (a.conns || []).length + " connection(s) drawn" + (a.error ? "; " + a.error : ""), !!a.error);
  } catch (e) {
    setStatus(file.name + ": " + (e.message || e), true);
  } finally {
    document.body.dataset.busy = "false";
    document.body.dataset.analyses = String((parseInt(document.body.dataset.analyses || "0", 10)) + 1);
  }
}

function keys(e) {
  if (e.target.closest && e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
  const act = { ArrowRight: () => { stop(); go(state.idx + 1); }, ArrowLeft: () => { stop(); go(state.idx - 1); },
    " ": play, r: () => { stop(); go(-1); }, End: () => { stop(); go(state.steps.length - 1); } }[e.key];
  if (act) { e.preventDefault(); act(); }
}

function wire() {
  // A picker gives the keys back once chosen: → steps instead of choosing.
  for (const sel of document.querySelectorAll("select")) sel.addEventListener("change", () => sel.blur());
  $("scenario").addEventListener("change", () => { state.drops = []; showDrops(); fillVariants(); run(); });
  for (const id of ["variant", "compare", "profile", "seed", "latency"]) {
    $(id).addEventListener("change", () => { if (id === "variant") syncFaults(); run(); });
  }
  $("fault-halfclose").addEventListener("change", (e) => toggleFault("shutdown", e.target.checked));
  $("fault-linger").addEventListener("change", (e) => toggleFault("linger", e.target.checked));
  $("clear-drops").addEventListener("click", () => { state.drops = []; showDrops(); run(); });
  $("run").addEventListener("click", run);
  $("step").addEventListener("click", () => { stop(); go(state.idx + 1); });
  $("back").addEventListener("click", () => { stop(); go(state.idx - 1); });
  $("reset").addEventListener("click", () => { stop(); go(-1); });
  $("end").addEventListener("click", () => { stop(); go(state.steps.length - 1); });
  $("play").addEventListener("click", play);
  $("upload").addEventListener("change", (e) => { if (e.target.files[0]) analyseFile(e.target.files[0]); });
  document.addEventListener("keydown", keys);
}

// The query string may preselect: ?scenario=ID&variant=V&compare=V&profile=P&seed=N.
function fromQuery() {
  const q = new URLSearchParams(location.search);
  if (q.get("scenario") && state.cat.scenarios.some((s) => s.id === q.get("scenario"))) $("scenario").value = q.get("scenario");
  fillVariants();
  for (const id of ["variant", "compare", "profile"]) {
    if (q.has(id) && [...$(id).options].some((o) => o.value === q.get(id))) $(id).value = q.get(id);
  }
  if (q.has("seed")) $("seed").value = q.get("seed");
  syncFaults();
}

(async () => {
  try {
    await loadLab();
    state.cat = JSON.parse(teardown.catalogue());
    fillScenarios();
    $("latency").value = state.cat.latency_ns / 1e6;
    fromQuery();
    wire();
    document.body.dataset.ready = "true";
    await run();
  } catch (e) {
    setStatus("The lab did not load: " + (e.message || e), true);
  }
})();
