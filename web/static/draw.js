// draw.js draws one run's JSON record ('teardown run --json') as a
// sequence diagram in an <svg>, as far as a cursor in simulated time: the
// hosts' lifelines, application calls beside them, packets as arrows
// (dashed while in flight, crossed when dropped), state changes, notes.
// Every event gets a row of its own, so no two labels share a line.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const ROW = 18, TOP = 40, WIDTH = 900;

// items lists a record's events in time order, and instants every time
// something happens (arrivals included), so the page can step through them.
function timeline(rep) {
  const items = [];
  // Within one instant the record's arrays do not say which came first
  // across kinds; the page takes what an arrival does (state changes,
  // calls it wakes), then the calls made next, then what they send. The
  // SVG and text downloads keep the exact order.
  const order = { state: 0, ret: 1, call: 2, packet: 3, note: 4 };
  rep.apps.forEach((app) => app.calls.forEach((c) => {
    items.push({ kind: "call", t: c.t_ns, host: app.host, c });
    if (c.end_ns !== undefined && c.end_ns !== c.t_ns) items.push({ kind: "ret", t: c.end_ns, host: app.host, c });
  }));
  rep.wire.forEach((p, i) => items.push({ kind: "packet", t: p.t_ns, host: p.from, p, i }));
  (rep.states || []).forEach((s) => items.push({ kind: "state", t: s.t_ns, host: s.host, s }));
  (rep.notes || []).forEach((n) => items.push({ kind: "note", t: n.t_ns, host: n.host || "", n }));
  // Stable: the record's own order within a kind.
  items.forEach((it, k) => { it.k = k; });
  items.sort((a, b) => a.t - b.t || order[a.kind] - order[b.kind] || a.k - b.k);
  const times = new Set(items.map((it) => it.t));
  rep.wire.forEach((p) => { if (p.arrive_ns !== undefined) times.add(p.arrive_ns); });
  const instants = [...times].sort((a, b) => a - b);
  // Rows: each instant starts a row; each item at it has one.
  const rowOf = new Map();
  let row = 0;
  for (const t of instants) {
    rowOf.set(t, row);
    const n = items.filter((it) => it.t === t).length;
    row += Math.max(n, 1);
  }
  const seen = new Map();
  for (const it of items) {
    const k = seen.get(it.t) || 0;
    it.row = rowOf.get(it.t) + k;
    seen.set(it.t, k + 1);
  }
  return { items, instants, rowOf, rows: row };
}

// timelineOf is rep's timeline, computed once.
function timelineOf(rep) {
  return rep._tl || (rep._tl = timeline(rep));
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function ms(ns) { return (ns / 1e6).toFixed(3); }

// packetStyle is the drawing class of a packet, as the SVG renderer's.
function packetStyle(p) {
  const k = "|" + p.kind + "|";
  if (k.includes("|RST|") || p.kind === "Reset") return "rst";
  if (k.includes("|FIN|") || p.kind === "Close" || p.kind === "CloseReq") return "fin";
  if (k.includes("|SYN|") || p.kind === "Request" || p.kind === "Response") return "syn";
  if (p.len > 0) return "data";
  return "ack";
}

// relative numbers: each direction's sequence numbers from its first.
function relativeSeq(rep) {
  const base = new Map();
  const side = (p) => p.from + ":" + (p.sport || 0);
  const peer = (p) => p.to + ":" + (p.dport || 0);
  for (const p of rep.wire) if (!base.has(side(p))) base.set(side(p), p.seq);
  return (p) => {
    const mod = p.proto === "dccp" ? 2 ** 48 : 2 ** 32;
    const rel = (v, b) => (b === undefined ? v : (v - b + mod) % mod);
    let s = p.kind + " seq=" + rel(p.seq, base.get(side(p)));
    const hasAck = p.proto === "dccp" ? !["Request", "Data"].includes(p.kind) : ("|" + p.kind + "|").includes("|ACK|");
    if (hasAck) s += " ack=" + rel(p.ack, base.get(peer(p)));
    if (p.len) s += " len=" + p.len;
    if (p.extra) s += " " + p.extra;
    return s;
  };
}

// quote shows data in a label, shortened (the tooltip has all of it).
function quote(s) {
  const q = JSON.stringify(s);
  return q.length > 14 ? q.slice(0, 12) + "…\"" : q;
}

function callLabel(c) {
  const arg = ["send", "write"].includes(c.call) && c.detail !== undefined ? quote(c.detail) : (c.arg || "");
  return c.call + "(" + arg + ")";
}

function resultLabel(c) {
  let r = c.result;
  if (r === "data" && c.detail !== undefined) r += " " + quote(c.detail);
  else if (r === "ok" && c.bytes) r += " " + c.bytes + (c.bytes === 1 ? " byte" : " bytes");
  return r;
}

// callText gives a call's label the whole call as its tooltip.
function callText(text, c) {
  const arg = c.arg ? " arg " + c.arg : "";
  const detail = c.detail !== undefined ? " " + JSON.stringify(c.detail) : "";
  text.appendChild(el("title", {}, `${c.call}${arg} → ${c.result}${detail} (${ms(c.t_ns)}` +
    (c.end_ns !== undefined && c.end_ns !== c.t_ns ? ` to ${ms(c.end_ns)}` : "") + " ms)"));
  return text;
}

function isError(c) { return !["ok", "data", "eof", "blocked"].includes(c.result); }

// drawTrace draws rep into svg as far as cursor (ns; Infinity: all).
// onPacket(p), if given, is called when a packet's arrow is clicked.
function drawTrace(svg, rep, cursor, onPacket) {
  const tl = timelineOf(rep);
  const label = rep._label || (rep._label = relativeSeq(rep));
  const hosts = rep.hosts;
  const n = hosts.length;
  const left = 300, right = WIDTH - 300;
  const x = new Map(hosts.map((h, i) => [h, n === 1 ? WIDTH / 2 : left + (right - left) * i / (n - 1)]));
  const height = TOP + (tl.rows + 1) * ROW;
  const yOf = (row) => TOP + row * ROW + ROW / 2;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
  svg.appendChild(el("rect", { x: 0, y: 0, width: WIDTH, height, fill: "#fff" }));
  for (const h of hosts) {
    svg.appendChild(el("text", { x: x.get(h), y: 20, "text-anchor": "middle", class: "host" }, h));
    svg.appendChild(el("line", { x1: x.get(h), y1: 28, x2: x.get(h), y2: height - 4, class: "lifeline" }));
  }
  const shown = tl.instants.filter((t) => t <= cursor);
  for (const t of shown) {
    svg.appendChild(el("text", { x: 4, y: yOf(tl.rowOf.get(t)) + 4, class: "time" }, ms(t)));
  }
  const first = hosts[0];
  // Calls sit outside the lifelines: the first host's on its left, the
  // others' on their right.
  const callX = (h) => (h === first ? x.get(h) - 10 : x.get(h) + 10);
  const callAnchor = (h) => (h === first ? "end" : "start");
  for (const it of tl.items) {
    if (it.t > cursor) continue;
    const y = yOf(it.row);
    if (it.kind === "packet") {
      drawPacket(svg, it, y, tl, yOf, x, cursor, label(it.p), onPacket);
    } else if (it.kind === "call") {
      const c = it.c;
      const done = c.end_ns !== undefined && c.end_ns <= cursor;
      const text = c.end_ns === c.t_ns ? callLabel(c) + " → " + resultLabel(c) : callLabel(c) + " blocks…";
      const cls = "call" + (c.end_ns === c.t_ns && isError(c) ? " err" : "");
      svg.appendChild(callText(el("text", { x: callX(it.host), y: y + 4, "text-anchor": callAnchor(it.host), class: cls }, text), c));
      if (c.end_ns !== c.t_ns) {
        const endRow = done ? tl.items.find((o) => o.kind === "ret" && o.c === c).row : null;
        const y2 = done ? yOf(endRow) : yOf(tl.rowOf.get(shown[shown.length - 1]));
        const bx = it.host === first ? x.get(it.host) - 5 : x.get(it.host) + 5;
        svg.appendChild(el("line", { x1: bx, y1: y, x2: bx, y2, stroke: "#999", "stroke-dasharray": "2 2" }));
      }
    } else if (it.kind === "ret") {
      const c = it.c;
      svg.appendChild(callText(el("text", { x: callX(it.host), y: y + 4, "text-anchor": callAnchor(it.host),
        class: "call" + (isError(c) ? " err" : "") }, callLabel(c) + " → " + resultLabel(c)), c));
    } else if (it.kind === "state") {
      const s = it.s;
      const inner = it.host === first;
      const g = el("text", { x: x.get(it.host) + (inner ? 6 : -6), y: y + 4, "text-anchor": inner ? "start" : "end",
        class: "state" }, `[${s.from} → ${s.to}]`);
      g.appendChild(el("title", {}, (s.reason || "") + (s.conn ? " (" + s.conn + ")" : "")));
      svg.appendChild(g);
    } else if (it.kind === "note") {
      const nx = it.host ? x.get(it.host) : WIDTH / 2;
      svg.appendChild(el("text", { x: nx, y: y + 4, "text-anchor": "middle", class: "note" }, it.n.text));
    }
  }
  if (cursor !== Infinity && shown.length) { // below what has happened
    const next = tl.instants[shown.length];
    const y = next === undefined ? height - ROW / 2 : yOf(tl.rowOf.get(next)) - ROW / 2;
    svg.appendChild(el("line", { x1: 0, y1: y, x2: WIDTH, y2: y, class: "now" }));
  }
}

function drawPacket(svg, it, y1, tl, yOf, x, cursor, text, onPacket) {
  const p = it.p;
  const x1 = x.get(p.from), x2 = x.get(p.to);
  const style = packetStyle(p);
  const g = el("g", { class: "pkt " + style, "data-index": it.i });
  let ex = x2, ey = y1, cls = "";
  if (p.dropped) {
    ex = (x1 + x2) / 2; ey = y1 + ROW; cls = " dropped";
  } else if (p.arrive_ns !== undefined && p.arrive_ns !== p.t_ns) {
    ey = yOf(tl.rowOf.get(p.arrive_ns)) - ROW / 2;
    if (p.arrive_ns > cursor) { // in flight: as far as the cursor
      const now = tl.instants.filter((t) => t <= cursor).pop();
      const yc = yOf(tl.rowOf.get(now)) - ROW / 2;
      const f = Math.max(0, Math.min(1, (yc - y1) / (ey - y1)));
      ex = x1 + (x2 - x1) * f; ey = y1 + (ey - y1) * f; cls = " flight";
    }
  }
  g.setAttribute("class", "pkt " + style + cls);
  g.appendChild(el("line", { x1, y1, x2: ex, y2: ey }));
  if (!cls) { // the arrow head
    const dir = Math.sign(x2 - x1) || 1;
    g.appendChild(el("path", { d: `M${ex},${ey} l${-8 * dir},-4 l0,8 z`, fill: "currentColor", class: "head" }));
  }
  if (p.dropped) {
    g.appendChild(el("path", { d: `M${ex - 5},${ey - 5} l10,10 M${ex + 5},${ey - 5} l-10,10`, class: "cross" }));
  }
  const toRight = x2 > x1;
  g.appendChild(el("text", { x: x1 + (toRight ? 10 : -10), y: y1 - 3, "text-anchor": toRight ? "start" : "end" }, text));
  g.appendChild(el("title", {}, `${p.from} → ${p.to} at ${ms(p.t_ns)} ms` +
    (p.arrive_ns !== undefined ? `, arrives ${ms(p.arrive_ns)} ms` : "") + (p.dropped ? ", dropped" : "") +
    (onPacket ? " (click: drop what " + p.from + " sends at this instant)" : "")));
  if (onPacket) g.addEventListener("click", () => onPacket(p));
  svg.appendChild(g);
}
