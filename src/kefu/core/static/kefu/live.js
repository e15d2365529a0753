/* One WebSocket per page: notifications for me, and live changes of what the page shows.
   Pages listen to "kefu:push" events; "kefu:connected" fires on every (re)connection (use
   Kefu.live.onConnected to hear the one that may have happened before the page script ran). */
(function () {
  "use strict";
  var data = document.getElementById("kefu-i18n");
  window.Kefu = window.Kefu || {};
  window.Kefu.t = data ? JSON.parse(data.textContent) : {};
  var socket = null;
  var delay = 1000;
  var queue = [];

  function url() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live/";
  }

  function connect() {
    socket = new WebSocket(url());
    socket.onopen = function () {
      delay = 1000;
      document.dispatchEvent(new CustomEvent("kefu:connected"));
      queue.splice(0).forEach(send);
    };
    socket.onmessage = function (message) {
      var payload;
      try { payload = JSON.parse(message.data); } catch (e) { return; }
      if (payload.type === "subscribed") {
        // Which live feeds this page receives, e.g. data-live-groups="user ticket-42".
        var groups = (document.body.dataset.liveGroups || "").split(" ").filter(Boolean);
        if (groups.indexOf(payload.group) < 0) { groups.push(payload.group); }
        document.body.dataset.liveGroups = groups.join(" ");
      }
      document.dispatchEvent(new CustomEvent("kefu:push", { detail: payload }));
    };
    socket.onclose = function (event) {
      document.body.dataset.liveGroups = "";
      if (event.code === 4401) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    } else {
      queue.push(message);
    }
  }

  function toast(title, body, href) {
    var box = document.getElementById("kefu-toasts");
    if (!box) { return; }
    var item = document.createElement("a");
    item.className = "kefu-toast";
    item.href = href || "#";
    var strong = document.createElement("strong");
    strong.textContent = title;
    item.appendChild(strong);
    if (body) {
      var text = document.createElement("div");
      text.textContent = body;
      item.appendChild(text);
    }
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  document.addEventListener("kefu:push", function (event) {
    var payload = event.detail;
    if (payload.type === "notification") {
      var count = document.getElementById("bell-count");
      if (count) {
        count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
        count.classList.remove("d-none");
      }
      toast(payload.title, payload.body, payload.url);
    }
  });

  // Run fn on every (re)connection, and now if the socket is open already: a page script that
  // runs after the socket opened (it was still downloading) must not miss the first one.
  function onConnected(fn) {
    document.addEventListener("kefu:connected", fn);
    if (socket && socket.readyState === WebSocket.OPEN) { fn(); }
  }

  window.Kefu.live = { send: send, toast: toast, onConnected: onConnected };
  if (document.body && document.body.dataset.live === "1") { connect(); }
})();
