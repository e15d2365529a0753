/* The wall board: renders the shared snapshot, live over /ws/wallboard/ (polling the JSON while
   the socket is down), and ticks the agents' state durations every second. */
(function () {
  "use strict";
  var board, t, snapshot = null, skew = 0, socket = null, retry = 1000, pollTimer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function tile(data) {
    var box = el("div", "wb-tile " + (data.level || "ok"));
    box.dataset.testid = "tile-" + data.id;
    box.dataset.level = data.level || "ok";
    box.appendChild(el("div", "v", data.text));
    box.appendChild(el("div", "l", data.label));
    return box;
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || seconds < 0) { return "—"; }
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h > 0 ? h + ":" + mm + ":" + ss : m + ":" + ss;
  }
  function replace(id, nodes) {
    var box = document.getElementById(id);
    box.replaceChildren.apply(box, nodes);
  }
  function render(data) {
    snapshot = data;
    skew = Date.now() - Date.parse(data.computed_at);
    document.getElementById("wb-day").textContent = data.day;
    replace("wb-centre", data.centre.map(tile));
    var queues = data.queues.map(function (q) {
      var row = el("div", "wb-queue");
      row.dataset.testid = "queue-" + q.id;
      row.appendChild(el("span", "n", q.name));
      q.tiles.forEach(function (x) { row.appendChild(tile(x)); });
      row.appendChild(el("span", "wb-muted", t.offered + " " + q.offered));
      return row;
    });
    replace("wb-queues", queues.length ? queues : [el("div", "wb-muted", t.noqueue)]);
    replace("wb-hotline", data.hotline.map(function (q) {
      var row = el("div", "wb-queue");
      row.appendChild(el("span", "n", q.name));
      q.tiles.forEach(function (x) { row.appendChild(tile(x)); });
      return row;
    }));
    replace("wb-breaks", data.breaks.map(function (b) {
      return el("span", "wb-state break me-2", b[0] + " · " + b[1]);
    }));
    var rows = data.agents.map(function (a) {
      var tr = el("tr");
      tr.dataset.testid = "agent-" + a.id;
      tr.dataset.state = a.state;
      tr.appendChild(el("td", "", a.name + (a.no ? " · " + a.no : "")));
      var state = el("td");
      state.appendChild(el("span", "wb-state " + a.state, a.state_label + (a.reason ? " · " + a.reason : "")));
      tr.appendChild(state);
      var since = el("td", "wb-since", duration(a.seconds));
      since.dataset.since = a.since || "";
      tr.appendChild(since);
      tr.appendChild(el("td", "", a.load));
      return tr;
    });
    if (!rows.length) {
      var empty = el("tr"), cell = el("td", "wb-muted", t.none);
      cell.colSpan = 4; empty.appendChild(cell); rows = [empty];
    }
    replace("wb-agents", rows);
  }
  function tick() {
    document.getElementById("wb-clock").textContent = new Date().toLocaleTimeString();
    document.querySelectorAll("#wb-agents .wb-since").forEach(function (td) {
      if (!td.dataset.since) { return; }
      var seconds = Math.floor((Date.now() - skew - Date.parse(td.dataset.since)) / 1000);
      td.textContent = duration(seconds);
    });
  }
  function status(live) {
    document.getElementById("wb-dot").classList.toggle("live", live);
    document.getElementById("wb-status").textContent = live ? t.live : t.stale;
  }
  function poll() {
    fetch(board.dataset.url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) { if (data) { render(data); } }).catch(function () {});
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/wallboard/";
    socket = new WebSocket(url);
    socket.onopen = function () {
      retry = 1000; status(true);
      if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "wallboard") { render(data); }
    };
    socket.onclose = function (event) {
      status(false);
      if (event.code === 4401 || event.code === 4403) { return; }
      if (!pollTimer) { pollTimer = setInterval(poll, 2000); }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    board = document.getElementById("wallboard");
    if (!board) { return; }
    // data-t-offered="…" → t.offered: the page's translated words
    t = {};
    Object.keys(board.dataset).forEach(function (key) {
      if (/^t[A-Z]/.test(key)) { t[key.charAt(1).toLowerCase() + key.slice(2)] = board.dataset[key]; }
    });
    render(JSON.parse(document.getElementById("wb-initial").textContent));
    status(false);
    // Wall mode: the board fills the window without the menus (also ?wall=1, for a display
    // that opens the page by itself); the browser's full screen where it allows it.
    function wall(on) {
      document.body.classList.toggle("kefu-wall-mode", on);
      if (on && board.requestFullscreen && !document.fullscreenElement) {
        board.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement) {
        document.exitFullscreen().catch(function () {});
      }
    }
    document.getElementById("wb-fullscreen").addEventListener("click", function () {
      wall(!document.body.classList.contains("kefu-wall-mode"));
    });
    document.getElementById("wb-fullscreen-exit").addEventListener("click", function () { wall(false); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { wall(false); }
    });
    document.addEventListener("fullscreenchange", function () {
      if (!document.fullscreenElement) { document.body.classList.remove("kefu-wall-mode"); }
    });
    if (new URLSearchParams(location.search).get("wall") === "1") { wall(true); }
    setInterval(tick, 1000);
    tick();
    connect();
  });
})();
