/* The ticket page: live updates from colleagues, "is writing" hints, standard replies, modals. */
(function () {
  "use strict";
  var page = document.getElementById("ticket-page");
  if (!page) { return; }
  var ticketId = page.dataset.ticket;
  var me = page.dataset.user;

  // Status moves: the modal learns which move was clicked.
  var moveModal = document.getElementById("move-modal");
  if (moveModal) {
    moveModal.addEventListener("show.bs.modal", function (event) {
      var button = event.relatedTarget;
      window.dispatchEvent(new CustomEvent("kefu-move", { detail: { to: button.dataset.move, name: button.dataset.moveName } }));
      document.getElementById("move-title").textContent = button.dataset.label;
    });
  }

  // Live: join this work order's group; show who changed it and refresh the timeline.
  window.Kefu.live.onConnected(function () {
    window.Kefu.live.send({ subscribe: "ticket", id: ticketId });
  });
  var typingTimer = null;
  document.addEventListener("kefu:push", function (event) {
    var data = event.detail;
    if (String(data.ticket) !== String(ticketId)) { return; }
    if (data.type === "ticket.changed" && String(data.actor) !== String(me)) {
      var banner = document.getElementById("live-banner");
      document.getElementById("live-text").textContent = data.actor_name + " · " + (window.Kefu.t.changed || "changed this work order");
      banner.classList.remove("d-none");
      if (window.htmx) {
        window.htmx.ajax("GET", page.dataset.timelineUrl, { target: "#timeline", swap: "outerHTML" });
      }
    } else if (data.type === "ticket.typing" && String(data.user) !== String(me)) {
      var hint = document.getElementById("typing");
      hint.textContent = data.name + " " + (window.Kefu.t.typing || "is writing…");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { hint.textContent = ""; }, 6000);
    }
  });
  var reload = document.getElementById("live-reload");
  if (reload) { reload.addEventListener("click", function () { window.location.reload(); }); }

  // Tell colleagues on the page that a reply is being written (at most every 3 s).
  var body = document.getElementById("reply-body");
  var lastTyping = 0;
  if (body) {
    body.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 3000 && window.Kefu.live) {
        lastTyping = now;
        window.Kefu.live.send({ typing: ticketId });
      }
    });
  }

  // Put a block of text (a standard reply, an article) where the cursor was, or at the end when
  // the box was not used yet, on lines of its own: never glued to the text around it.
  var cursor = null;
  if (body) {
    ["input", "click", "keyup", "select"].forEach(function (name) {
      body.addEventListener(name, function () { cursor = body.selectionEnd; });
    });
  }
  function insertBlock(text) {
    var at = cursor === null ? body.value.length : Math.min(cursor, body.value.length);
    var before = body.value.slice(0, at);
    var after = body.value.slice(at);
    if (before && !/\n$/.test(before)) { text = "\n" + text; }
    if (after && !/^\n/.test(after)) { text = text + "\n"; }
    body.value = before + text + after;
    cursor = before.length + text.length;
    body.focus();
    body.setSelectionRange(cursor, cursor);
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Standard replies with this work order's values.
  var canned = document.getElementById("canned");
  if (canned && body) {
    canned.addEventListener("change", function () {
      if (!canned.value) { return; }
      var url = canned.dataset.url.replace(/\/0\/$/, "/" + canned.value + "/");
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        insertBlock(data.text);
        canned.value = "";
      });
    });
  }

  // Knowledge-base panel: put an article's link or text into the reply.
  document.querySelectorAll("[data-insert-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!body) { return; }
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
      fetch(button.dataset.insertUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        if (!data.text) { window.alert(data.error || "?"); return; }
        insertBlock(data.text);
      });
    });
  });

  // A reply accepted from a department lands in the reply box.
  if (body && !body.value) {
    fetch(page.dataset.draftUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.text && !body.value) { body.value = data.text; }
    });
  }
})();
