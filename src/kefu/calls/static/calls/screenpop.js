/* Screen pop: when a call rings at this agent, show the caller's card (fetched from the
   access-checked page) at once. */
(function () {
  "use strict";
  var box = document.getElementById("kefu-screenpop");
  if (!box) { return; }

  function show(callId) {
    var url = box.dataset.popUrl.replace("/0/pop/", "/" + callId + "/pop/");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var card = holder.firstElementChild;
        if (!card) { return; }
        var old = box.querySelector('[data-call="' + callId + '"]');
        if (old) { old.remove(); }
        box.prepend(card);
      });
  }

  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-screenpop-close]");
    if (button) { button.closest(".kefu-screenpop").remove(); }
  });

  document.addEventListener("kefu:push", function (event) {
    var payload = event.detail;
    if (payload && payload.type === "call.ringing" && payload.call) { show(payload.call); }
  });
})();
