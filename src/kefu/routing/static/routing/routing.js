/* Work offers pushed to the agent: a card with the time left, Accept and Decline. */
(function () {
  "use strict";
  var widget = document.getElementById("kefu-presence");
  var box = document.getElementById("kefu-offers");
  if (!widget || !box) { return; }

  function actionUrl(item, action) {
    return widget.dataset.actionUrl.replace("/0/accept/", "/" + item + "/" + action + "/");
  }

  function post(item, action) {
    return fetch(actionUrl(item, action), {
      method: "POST",
      headers: { "X-CSRFToken": document.body.dataset.csrf, "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) { return response.json(); });
  }

  function remove(item) {
    var card = box.querySelector('[data-item="' + item + '"]');
    if (card) { card.remove(); }
  }

  function show(offer) {
    remove(offer.item);
    var card = document.createElement("div");
    card.className = "kefu-offer card shadow";
    card.dataset.item = offer.item;
    card.dataset.testid = "offer";
    var body = document.createElement("div");
    body.className = "card-body p-2";
    var head = document.createElement("div");
    head.className = "small text-muted";
    head.textContent = widget.dataset.offer + " · " + offer.queue + " · " + offer.kind_label;
    var title = document.createElement("div");
    title.className = "fw-semibold my-1";
    title.textContent = offer.title;
    var left = document.createElement("div");
    left.className = "small text-danger";
    var buttons = document.createElement("div");
    buttons.className = "d-flex gap-2 mt-1";
    var accept = document.createElement("button");
    accept.className = "btn btn-sm btn-primary";
    accept.textContent = widget.dataset.accept;
    accept.dataset.testid = "offer-accept";
    var decline = document.createElement("button");
    decline.className = "btn btn-sm btn-outline-secondary";
    decline.textContent = widget.dataset.decline;
    decline.dataset.testid = "offer-decline";
    buttons.appendChild(accept);
    buttons.appendChild(decline);
    body.appendChild(head);
    body.appendChild(title);
    body.appendChild(left);
    body.appendChild(buttons);
    card.appendChild(body);
    box.appendChild(card);

    var expires = offer.expires_at ? Date.parse(offer.expires_at) : 0;
    var timer = setInterval(function () {
      if (!expires) { return; }
      var seconds = Math.max(0, Math.round((expires - Date.now()) / 1000));
      left.textContent = seconds + " " + widget.dataset.seconds;
      if (seconds <= 0) { clearInterval(timer); card.remove(); }
    }, 500);
    accept.addEventListener("click", function () {
      clearInterval(timer);
      post(offer.item, "accept").then(function (answer) {
        card.remove();
        if (answer.error) { window.Kefu.live.toast(answer.error, ""); return; }
        if (answer.url) { window.location.href = answer.url; }
        else { document.dispatchEvent(new CustomEvent("kefu:routing-changed")); }
      });
    });
    decline.addEventListener("click", function () {
      clearInterval(timer);
      post(offer.item, "decline").then(function () { card.remove(); });
    });
  }

  // Offers made before this page opened (e.g. right at sign-in) are shown too.
  function pending() {
    fetch(widget.dataset.pendingUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (items) {
        items.forEach(function (item) {
          show({ item: item.id, title: item.title, queue: item.queue_name, kind_label: item.kind_label,
                 expires_at: item.offer_expires_at, url: "" });
        });
      })
      .catch(function () { /* the next push will bring new offers */ });
  }
  pending();

  document.addEventListener("kefu:push", function (event) {
    var payload = event.detail;
    if (payload.type === "routing.offer") { show(payload); }
    if (payload.type === "routing.withdrawn") { remove(payload.item); }
  });
})();
