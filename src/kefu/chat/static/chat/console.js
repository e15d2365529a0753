/* The agent console: one socket for all of the agent's chats (and the ones a supervisor
   watches). Each chat keeps the last sequence number seen; a reconnect replays from it, and
   unacknowledged messages are sent again with the same client id, so nothing is lost or
   doubled. */
(function () {
  "use strict";
  var root = document.querySelector("[data-console]");
  if (!root) { return; }
  var t = JSON.parse(document.getElementById("console-i18n").textContent);
  var csrf = document.body.dataset.csrf;
  var chats = {};   // id -> {last, seen:{}, pending:{cid: body/mode}, log: <ol>, label, watch, unread}
  var current = null, ws = null, backoff = 1000, pinger = null;
  var logBox = root.querySelector("[data-log]");

  function newId() { return window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2); }
  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }
  function chat(id) {
    if (!chats[id]) {
      var ol = document.createElement("ol");
      ol.className = "chat-log"; ol.dataset.log = ""; ol.dataset.testid = "agent-log";
      chats[id] = { last: 0, seen: {}, pending: {}, log: ol, label: "", watch: false, unread: 0, agentRead: 0 };
    }
    return chats[id];
  }
  function contiguous(c) { while (c.seen[c.last + 1]) { c.last += 1; } return c.last; }

  function bubble(m) {
    var li = document.createElement("li");
    li.className = m.from + (m.seq ? "" : " pending");
    li.dataset.seq = m.seq || "";
    if (m.cid) { li.dataset.cid = m.cid; }
    var b = document.createElement("div"); b.className = "b";
    if (m.file) {
      var url = root.dataset.fileUrl.replace("999999999", m.file.id);
      if (m.file.image) { var img = document.createElement("img"); img.src = url; img.alt = m.file.name; b.appendChild(img); }
      else { var a = document.createElement("a"); a.href = url; a.target = "_blank"; a.textContent = "📄 " + m.file.name; b.appendChild(a); }
      if (m.body) { var d = document.createElement("div"); d.textContent = m.body; b.appendChild(d); }
    } else { b.textContent = m.body; }
    li.appendChild(b);
    var meta = document.createElement("div"); meta.className = "t";
    var who = m.from === "guest" ? t.customer : (m.from === "whisper" ? t.whisper + " · " + (m.author || "") : (m.author || ""));
    meta.textContent = who + (m.at ? " · " + new Date(m.at).toLocaleTimeString() : " · " + t.sending);
    li.appendChild(meta);
    return li;
  }
  function place(log, li) {
    var seq = parseInt(li.dataset.seq || "0", 10);
    if (!seq) { log.appendChild(li); return; }
    for (var i = log.children.length - 1; i >= 0; i--) {
      var s = parseInt(log.children[i].dataset.seq || "0", 10);
      if (s && s < seq) { log.children[i].after(li); return; }
    }
    log.prepend(li);
  }
  function onMessage(m) {
    var c = chat(m.conv);
    if (c.seen[m.seq]) { return; }
    if (m.cid) { var p = c.log.querySelector("li[data-cid='" + CSS.escape(m.cid) + "']"); if (p) { p.remove(); } delete c.pending[m.cid]; }
    c.seen[m.seq] = true;
    place(c.log, bubble(m));
    var last = contiguous(c);
    if (m.seq > last + 1) { send({ type: "ping", conv: m.conv, last: last }); }
    if (String(m.conv) === String(current)) {
      c.log.scrollTop = c.log.scrollHeight;
      if (m.from === "guest" && !c.watch && document.visibilityState === "visible") { send({ type: "read", conv: m.conv, seq: last }); }
    } else if (m.from === "guest") {
      c.unread += 1; badge(m.conv);
    }
  }
  function badge(id) {
    var item = root.querySelector("[data-conv='" + id + "'] .unread");
    if (item) { item.hidden = !chats[id].unread; item.textContent = chats[id].unread; }
  }
  function status(text) { var s = root.querySelector("[data-status]"); s.hidden = !text; s.textContent = text || ""; }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.ws);
    ws.onopen = function () {
      backoff = 1000; status("");
      Object.keys(chats).forEach(function (id) {
        var c = chats[id];
        send({ type: "join", conv: parseInt(id, 10), last: contiguous(c) });
        Object.keys(c.pending).forEach(function (cid) { send({ type: c.pending[cid].mode, conv: parseInt(id, 10), cid: cid, body: c.pending[cid].body }); });
      });
      clearInterval(pinger);
      pinger = setInterval(function () {
        Object.keys(chats).forEach(function (id) { send({ type: "ping", conv: parseInt(id, 10), last: contiguous(chats[id]) }); });
      }, 20000);
    };
    ws.onmessage = function (event) {
      var m = JSON.parse(event.data);
      if (m.type === "msg") { onMessage(m); }
      else if (m.type === "ack") { var c = chats[m.conv]; if (c) { delete c.pending[m.cid]; } }
      else if (m.type === "typing" && m.from === "guest" && String(m.conv) === String(current)) {
        var ty = root.querySelector("[data-typing]"); ty.textContent = t.typing;
        clearTimeout(window.__ty); window.__ty = setTimeout(function () { ty.textContent = ""; }, 4000);
      } else if (m.type === "error") { root.querySelector("[data-error]").textContent = m.message; }
      else if (m.type === "state" && m.state === "ended" && String(m.conv) === String(current)) { loadPanel(current); }
    };
    ws.onclose = function (event) {
      clearInterval(pinger);
      if (event.code === 4401) { location.reload(); return; }
      status(t.offline);
      setTimeout(connect, Math.min(backoff, 30000) * (0.75 + Math.random() / 2));
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  function loadPanel(id) {
    var item = root.querySelector("[data-conv='" + id + "']");
    if (!item) { return; }
    fetch(item.dataset.panel, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      root.querySelector("[data-side]").innerHTML = html;
      wirePanel();
    });
  }
  function open(id) {
    current = String(id);
    var item = root.querySelector("[data-conv='" + id + "']");
    var c = chat(id);
    c.watch = !!(item && item.dataset.watch); c.unread = 0; badge(id);
    root.querySelectorAll("[data-conv]").forEach(function (el) { el.classList.toggle("active-chat", el.dataset.conv === current); });
    root.querySelector("[data-empty]").hidden = true;
    root.querySelector("[data-thread]").hidden = false;
    root.querySelector("[data-title]").textContent = item ? item.dataset.label : "#" + id;
    var old = root.querySelector("[data-thread] [data-log]");
    old.replaceWith(c.log);
    c.log.scrollTop = c.log.scrollHeight;
    root.querySelector("#mode-msg").disabled = c.watch;
    if (c.watch) { root.querySelector("#mode-whisper").checked = true; }
    send({ type: "read", conv: parseInt(id, 10), seq: contiguous(c) });
    loadPanel(id);
  }
  function joinListed() {
    root.querySelectorAll("[data-conv]").forEach(function (el) {
      var id = el.dataset.conv;
      if (!chats[id]) { chat(id); send({ type: "join", conv: parseInt(id, 10), last: 0 }); }
      el.classList.toggle("active-chat", id === current);
      badge(id);
    });
  }
  root.addEventListener("click", function (e) {
    var item = e.target.closest("[data-conv]");
    if (item && !e.target.closest("form")) { open(item.dataset.conv); }
  });
  root.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches("[data-accept]")) {
      e.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
        .then(function (r) { return r.json(); })
        .then(function (d) { if (d.error) { status(d.error); } else { var id = form.action.match(/\/(\d+)\/accept\//)[1]; location.search = "?open=" + id; } });
    } else if (form.matches("[data-action]")) {
      e.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var box = root.querySelector("[data-action-error]");
          if (d.error) { if (box) { box.textContent = d.error; } return; }
          if (d.url) { window.open(d.url, "_blank"); }
          if (current) { loadPanel(current); }
        });
    } else if (form.matches("[data-compose]")) {
      e.preventDefault();
      var text = form.querySelector("[data-text]");
      var body = text.value.trim();
      if (!body || !current) { return; }
      var mode = form.querySelector("input[name=mode]:checked").value;
      var cid = newId(), c = chat(current);
      c.pending[cid] = { body: body, mode: mode };
      place(c.log, bubble({ from: mode === "whisper" ? "whisper" : "agent", body: body, cid: cid }));
      c.log.scrollTop = c.log.scrollHeight;
      send({ type: mode, conv: parseInt(current, 10), cid: cid, body: body });
      text.value = "";
      root.querySelector("[data-error]").textContent = "";
    }
  });
  root.querySelector("[data-text]").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); root.querySelector("[data-compose]").requestSubmit(); }
  });
  root.querySelector("[data-text]").addEventListener("input", function () { if (current) { send({ type: "typing", conv: parseInt(current, 10) }); } });
  root.querySelector("[data-file]").addEventListener("change", function () {
    var file = this.files[0]; if (!file || !current) { return; }
    var data = new FormData(); data.append("file", file); data.append("cid", newId());
    fetch("/chat/" + current + "/upload/", { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
      .then(function (r) { return r.json(); }).then(function (d) { if (d.error) { root.querySelector("[data-error]").textContent = d.error; } });
    this.value = "";
  });
  function insertText(text) {
    var box = root.querySelector("[data-text]");
    box.value = box.value ? box.value + "\n" + text : text; box.focus();
  }
  function wirePanel() {
    var canned = root.querySelector("[data-canned]");
    if (canned) {
      fetch(canned.dataset.canned, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        d.items.forEach(function (item) { var o = document.createElement("option"); o.value = item.text; o.textContent = item.title; canned.appendChild(o); });
      });
      canned.addEventListener("change", function () { if (canned.value) { insertText(canned.value); canned.value = ""; } });
    }
    var kb = root.querySelector("[data-kb]");
    if (kb) {
      var timer = null;
      kb.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          fetch(kb.dataset.kb + "?q=" + encodeURIComponent(kb.value), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
            var list = root.querySelector("[data-kb-results]"); list.textContent = "";
            d.items.forEach(function (item) {
              var li = document.createElement("li"); var a = document.createElement("a"); a.href = "#"; a.textContent = item.title;
              a.addEventListener("click", function (ev) {
                ev.preventDefault();
                fetch(item.insert, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (x) {
                  if (x.text) { insertText(x.text); } else if (x.error) { root.querySelector("[data-error]").textContent = x.error; }
                });
              });
              li.appendChild(a); list.appendChild(li);
            });
          });
        }, 250);
      });
    }
  }
  document.body.addEventListener("htmx:afterSwap", joinListed);
  joinListed();
  connect();
  var wanted = root.dataset.open || (root.querySelector("[data-conv]") || {}).dataset && root.querySelector("[data-conv]").dataset.conv;
  if (wanted && root.querySelector("[data-conv='" + wanted + "']")) { open(wanted); }
})();
