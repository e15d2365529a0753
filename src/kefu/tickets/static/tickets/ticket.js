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
  document.addEventListener("kefu:connected", function () {
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

  // Standard replies with this work order's values.
  var canned = document.getElementById("canned");
  if (canned && body) {
    canned.addEventListener("change", function () {
      if (!canned.value) { return; }
      var url = canned.dataset.url.replace(/\/0\/$/, "/" + canned.value + "/");
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        var start = body.selectionStart || body.value.length;
        body.value = body.value.slice(0, start) + data.text + body.value.slice(start);
        body.focus();
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
        var start = body.selectionStart || body.value.length;
        body.value = body.value.slice(0, start) + data.text + body.value.slice(start);
        body.focus();
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
