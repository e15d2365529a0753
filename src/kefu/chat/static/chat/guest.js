/* The chat window inside the widget's iframe. Keeps the guest token, the last sequence number
   seen and the messages not yet acknowledged in localStorage, so a reload or a dropped network
   resumes the same chat with nothing lost or shown twice. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("chat-cfg").textContent);
  var t = JSON.parse(document.getElementById("chat-i18n").textContent);
  var storeKey = "kefu-chat:" + cfg.key;
  var $ = function (id) { return document.getElementById(id); };
  var state = load();
  var seen = {};          // seq -> true (what is on screen)
  var links = {};         // the public seq before a message -> its seq
  var ws = null, backoff = 1000, pingTimer = null, queueTimer = null, agentRead = 0, ended = false, rating = 0;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function fmt(text, values) { return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); }
  function show(id) {
    ["prechat", "offline", "talk", "done"].forEach(function (p) { $(p).hidden = p !== id; });
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function post(url, body, extra) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) { headers["X-Chat-Token"] = state.token; }
    return fetch(url, Object.assign({ method: "POST", headers: headers, body: JSON.stringify(body), credentials: "omit" }, extra || {}))
      .then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }
  function formErrors(form, data) {
    var box = form.querySelector("[data-err]");
    var parts = [];
    if (data && data.fields) { Object.keys(data.fields).forEach(function (k) { parts = parts.concat(data.fields[k]); }); }
    box.textContent = parts.length ? parts.join(" ") : (data && data.error) || t.error;
  }

  // --- rendering ---------------------------------------------------------------------------
  function bubble(m) {
    var li = document.createElement("li");
    li.className = "m " + m.from;
    li.dataset.seq = m.seq || "";
    if (m.cid) { li.dataset.cid = m.cid; }
    var body = document.createElement("div");
    body.className = "b";
    if (m.file) {
      var url = cfg.urls.file.replace("{id}", m.file.id) + "?t=" + encodeURIComponent(state.token);
      if (m.file.image) {
        var img = document.createElement("img"); img.src = url; img.alt = m.file.name; body.appendChild(img);
      } else {
        var a = document.createElement("a"); a.textContent = "📄 " + m.file.name; a.href = url; a.target = "_blank"; a.rel = "noopener"; body.appendChild(a);
      }
      if (m.body) { var p = document.createElement("div"); p.textContent = m.body; body.appendChild(p); }
    } else {
      body.textContent = m.body;
    }
    li.appendChild(body);
    var meta = document.createElement("div");
    meta.className = "t";
    var who = m.from === "guest" ? t.you : (m.from === "agent" ? (m.author || t.agent) : "");
    var when = m.at ? new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : t.sending;
    meta.textContent = (who ? who + " · " : "") + when;
    if (m.from === "guest") { var r = document.createElement("span"); r.className = "rd"; r.textContent = " · " + t.read; meta.appendChild(r); }
    li.appendChild(meta);
    return li;
  }
  function place(li) {
    var log = $("log");
    var seq = parseInt(li.dataset.seq || "0", 10);
    if (!seq) { log.appendChild(li); return; }
    var items = log.children;
    for (var i = items.length - 1; i >= 0; i--) {
      var s = parseInt(items[i].dataset.seq || "0", 10);
      if (s && s < seq) { items[i].after(li); return; }
    }
    log.prepend(li);
  }
  function render(m) {
    if (m.seq && seen[m.seq]) { return; }
    if (m.cid) {
      var pending = $("log").querySelector("li[data-cid='" + CSS.escape(m.cid) + "']");
      if (pending) { pending.remove(); }
    }
    seen[m.seq] = true;
    // whispers take numbers the customer never sees: each message names the public one before it
    if (m.seq) { links[typeof m.prev === "number" ? m.prev : m.seq - 1] = m.seq; }
    place(bubble(m));
    markRead();
    scroll();
  }
  function scroll() { var log = $("log"); log.scrollTop = log.scrollHeight; }
  function markRead() {
    document.querySelectorAll(".m.guest").forEach(function (li) {
      var s = parseInt(li.dataset.seq || "0", 10);
      li.classList.toggle("is-read", s > 0 && s <= agentRead);
    });
  }
  function contiguous() {
    var last = state.last || 0;
    while (links[last] > last) { last = links[last]; }
    if (last !== state.last) { state.last = last; save(); }
    return last;
  }

  // --- the socket --------------------------------------------------------------------------
  function connect() {
    if (!state.token) { return; }
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.ws;
    ws = new WebSocket(url);
    ws.onopen = function () {
      backoff = 1000;
      $("status-line").textContent = "";
      // a fresh page shows the whole chat; a reconnect asks only for what it has not seen
      var from = Object.keys(seen).length ? contiguous() : 0;
      ws.send(JSON.stringify({ type: "hello", token: state.token, last: from }));
      (state.pending || []).forEach(function (p) { ws.send(JSON.stringify({ type: "msg", cid: p.cid, body: p.body })); });
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { send({ type: "ping", last: contiguous() }); }, 20000);
    };
    ws.onmessage = function (event) {
      var m = JSON.parse(event.data);
      if (m.type === "msg") {
        render(m);
        var last = contiguous();
        if (m.seq > last) { send({ type: "ping", last: last }); } // a real gap: fetch what is missing
        if (m.from !== "guest" && document.visibilityState === "visible") { send({ type: "read", seq: last }); }
        if (m.from !== "guest" && document.visibilityState !== "visible") { parent.postMessage({ kefu: "unread" }, "*"); }
      } else if (m.type === "ack") {
        state.pending = (state.pending || []).filter(function (p) { return p.cid !== m.cid; });
        save();
      } else if (m.type === "state" || m.type === "pong") {
        if (m.state) { onState(m); }
      } else if (m.type === "typing" && m.from === "agent") {
        $("typing").hidden = false; $("typing").textContent = t.typing;
        clearTimeout(window.__typingOff);
        window.__typingOff = setTimeout(function () { $("typing").hidden = true; }, 4000);
      } else if (m.type === "read" && m.from === "agent") {
        agentRead = Math.max(agentRead, m.seq); markRead();
      } else if (m.type === "error") {
        $("compose-err").textContent = m.message;
      }
    };
    ws.onclose = function (event) {
      clearInterval(pingTimer);
      if (event.code === 4403) { reset(); return; }
      if (ended) { return; }
      $("status-line").textContent = t.connecting;
      var wait = Math.min(backoff, 30000) * (0.75 + Math.random() / 2);
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, wait);
    };
  }
  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); } }
  function onState(m) {
    if (typeof m.agent_read_seq === "number") { agentRead = Math.max(agentRead, m.agent_read_seq); markRead(); }
    var q = $("queue");
    if (m.state === "waiting" && m.position) {
      q.hidden = false;
      q.textContent = fmt(t.position, { n: m.position, m: Math.max(1, Math.round(m.wait_seconds / 60)) });
      clearInterval(queueTimer);
      queueTimer = setInterval(function () { send({ type: "queue" }); }, 15000);
    } else if (m.state !== "waiting") {
      q.hidden = true; clearInterval(queueTimer);
    }
    if (m.state === "active" && m.agent) { $("status-line").textContent = m.agent; }
    if (m.state === "ended" && !ended) {
      ended = true;
      $("compose").hidden = true;
      $("rate").hidden = false;
      if (m.survey_url) { $("survey").hidden = false; $("survey-link").href = m.survey_url; $("survey-link").textContent = t.survey; }
    }
  }
  function reset() {
    state = {}; save(); try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
    ended = false; seen = {}; links = {}; $("log").textContent = "";
    begin();
  }

  // --- composing ---------------------------------------------------------------------------
  function sendText(text) {
    var body = text.trim();
    if (!body) { return; }
    var cid = newId();
    state.pending = (state.pending || []).concat([{ cid: cid, body: body }]);
    save();
    place(bubble({ from: "guest", body: body, cid: cid }));
    scroll();
    send({ type: "msg", cid: cid, body: body });
  }
  $("compose").addEventListener("submit", function (e) {
    e.preventDefault(); $("compose-err").textContent = "";
    sendText($("text").value); $("text").value = "";
  });
  $("text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("compose").requestSubmit(); }
  });
  $("text").addEventListener("input", function () { send({ type: "typing" }); });
  $("emoji-btn").addEventListener("click", function () { $("emoji").hidden = !$("emoji").hidden; });
  $("emoji").addEventListener("click", function (e) {
    if (e.target.tagName === "BUTTON") { $("text").value += e.target.textContent; $("text").focus(); }
  });
  $("file").addEventListener("change", function () {
    var file = this.files[0]; if (!file) { return; }
    var data = new FormData(); data.append("file", file); data.append("cid", newId());
    fetch(cfg.urls.upload, { method: "POST", body: data, headers: { "X-Chat-Token": state.token }, credentials: "omit" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.error) { $("compose-err").textContent = d.fields && d.fields.file ? d.fields.file.join(" ") : d.error; }
      });
    this.value = "";
  });
  $("end").addEventListener("click", function () {
    post(cfg.urls.end, {}).then(function () { send({ type: "ping", last: contiguous() }); });
  });
  document.querySelectorAll("[data-star]").forEach(function (b) {
    b.addEventListener("click", function () {
      rating = parseInt(b.dataset.star, 10);
      document.querySelectorAll("[data-star]").forEach(function (x) { x.classList.toggle("on", parseInt(x.dataset.star, 10) <= rating); });
    });
  });
  $("rate-send").addEventListener("click", function () {
    if (!rating) { return; }
    post(cfg.urls.rate, { rating: rating, comment: $("rate-comment").value }).then(function (r) {
      $("rate").querySelector("p").textContent = r.status === 200 ? t.thanks : (r.data.fields ? Object.values(r.data.fields).join(" ") : t.error);
      if (r.status === 200) { $("rate-send").hidden = true; }
    });
  });
  $("close").addEventListener("click", function () { parent.postMessage({ kefu: "close" }, "*"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { send({ type: "read", seq: contiguous() }); }
  });
  window.addEventListener("online", function () { if (!ws || ws.readyState > 1) { backoff = 1000; connect(); } });

  // --- forms -------------------------------------------------------------------------------
  function formData(form) {
    var out = { origin: cfg.origin, lang: cfg.lang };
    new FormData(form).forEach(function (v, k) { out[k] = v; });
    return out;
  }
  $("prechat").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = this;
    post(cfg.urls.start, formData(form)).then(function (r) {
      if (r.status === 201) { state = { token: r.data.token, last: 0, pending: [] }; save(); show("talk"); connect(); }
      else if (r.data.offline) { show("offline"); }
      else { formErrors(form, r.data); }
    }).catch(function () { formErrors(form, null); });
  });
  $("offline").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = this;
    post(cfg.urls.offline, formData(form)).then(function (r) {
      if (r.status === 201) { $("done-text").textContent = fmt(t.sent, { n: r.data.ticket }); show("done"); }
      else { formErrors(form, r.data); }
    }).catch(function () { formErrors(form, null); });
  });
  function begin() {
    if (state.token) { show("talk"); connect(); return; }
    fetch(cfg.urls.status, { credentials: "omit" }).then(function (r) { return r.json(); })
      .then(function (d) { show(d.online ? "prechat" : "offline"); })
      .catch(function () { show("prechat"); });
  }
  begin();
})();
