/* Work offered to the agent: one compact tray under the top bar (it takes its own room and never
   covers the page), the most urgent offer first, the others behind "Show all". Hiding the tray
   hides the offers it holds until new work is offered; the count in the top bar brings them
   back. The tray follows the server: pushes add and withdraw offers, and the list is read
   again on every page, on reconnection and every half minute. */
(function () {
  "use strict";
  var widget = document.getElementById("kefu-presence");
  if (!widget) { return; }
  var slot = document.getElementById("kefu-tray");
  var counter = widget.querySelector("[data-testid=offer-count]");
  var STORE = "kefu.offers.hidden";
  var offers = {};   // item id -> {item, title, queue, kind, kind_label, expires}
  var expanded = false;
  var tray = null;

  function hiddenIds() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function setHidden(ids) {
    try { window.localStorage.setItem(STORE, JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }

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

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function build() {
    tray = el("section", "kefu-offer-tray");
    tray.dataset.testid = "offer-tray";
    tray.setAttribute("aria-live", "polite");
    tray.setAttribute("aria-label", widget.dataset.offer);
    tray.hidden = true;
    (slot || document.body).appendChild(tray);
  }

  function secondsLeft(offer) {
    return offer.expires ? Math.max(0, Math.round((offer.expires - Date.now()) / 1000)) : null;
  }

  function row(offer) {
    var line = el("div", "kefu-offer");
    line.dataset.item = offer.item;
    line.dataset.testid = "offer";
    var kind = el("span", "badge text-bg-primary kefu-offer-kind", offer.kind_label);
    var title = el("span", "kefu-offer-title", offer.title);
    title.title = offer.title;
    var queue = el("span", "kefu-offer-queue text-muted", offer.queue);
    var left = el("span", "kefu-offer-left text-danger");
    left.dataset.testid = "offer-left";
    var seconds = secondsLeft(offer);
    if (seconds !== null) { left.textContent = seconds + " " + widget.dataset.seconds; }
    var accept = el("button", "btn btn-sm btn-primary py-0", widget.dataset.accept);
    accept.type = "button";
    accept.dataset.testid = "offer-accept";
    var decline = el("button", "btn btn-sm btn-outline-secondary py-0", widget.dataset.decline);
    decline.type = "button";
    decline.dataset.testid = "offer-decline";
    accept.addEventListener("click", function () {
      accept.disabled = decline.disabled = true;
      post(offer.item, "accept").then(function (answer) {
        drop(offer.item);
        if (answer.error) { window.Kefu.live.toast(answer.error, ""); return; }
        if (answer.url) { window.location.href = answer.url; }
        else { document.dispatchEvent(new CustomEvent("kefu:routing-changed")); }
      });
    });
    decline.addEventListener("click", function () {
      accept.disabled = decline.disabled = true;
      post(offer.item, "decline").then(function () { drop(offer.item); });
    });
    [kind, title, queue, left, accept, decline].forEach(function (part) { line.appendChild(part); });
    return line;
  }

  function sorted() {
    return Object.keys(offers).map(function (id) { return offers[id]; }).sort(function (a, b) {
      return (a.expires || Infinity) - (b.expires || Infinity) || a.item - b.item;
    });
  }

  function render() {
    if (!tray) { build(); }
    var all = sorted();
    var hidden = hiddenIds();
    var shown = all.filter(function (offer) { return hidden.indexOf(String(offer.item)) < 0; });
    counter.hidden = all.length === 0;
    counter.querySelector("span").textContent = String(all.length);
    tray.replaceChildren();
    tray.hidden = shown.length === 0;
    if (!shown.length) { return; }
    var head = el("div", "kefu-offer-head");
    head.appendChild(el("strong", "", widget.dataset.offer));
    var count = el("span", "badge rounded-pill text-bg-warning", String(shown.length));
    count.dataset.testid = "offer-tray-count";
    head.appendChild(count);
    var list = el("div", "kefu-offer-list");
    (expanded ? shown : shown.slice(0, 1)).forEach(function (offer) { list.appendChild(row(offer)); });
    var tools = el("div", "kefu-offer-tools");
    if (shown.length > 1) {
      var more = el("button", "btn btn-sm btn-link py-0",
                    expanded ? widget.dataset.less : widget.dataset.more + " (" + shown.length + ")");
      more.type = "button";
      more.dataset.testid = "offer-more";
      more.addEventListener("click", function () { expanded = !expanded; render(); });
      tools.appendChild(more);
    }
    var close = el("button", "btn-close");
    close.type = "button";
    close.title = widget.dataset.dismiss;
    close.setAttribute("aria-label", widget.dataset.dismiss);
    close.dataset.testid = "offer-dismiss";
    close.addEventListener("click", function () {
      setHidden(hiddenIds().concat(shown.map(function (offer) { return String(offer.item); })));
      render();
    });
    tools.appendChild(close);
    tray.appendChild(head);
    tray.appendChild(list);
    tray.appendChild(tools);
  }

  function remember(offer) {
    offers[offer.item] = {
      item: offer.item, title: offer.title, queue: offer.queue, kind: offer.kind,
      kind_label: offer.kind_label, expires: offer.expires_at ? Date.parse(offer.expires_at) : 0
    };
  }

  function drop(item) {
    delete offers[item];
    render();
  }

  // The server's list is the truth: offers gone from it leave the tray, and offers the agent
  // hid are forgotten once they are no longer offered (offered again later, they are new).
  var pushes = 0;  // offers pushed or withdrawn so far
  function sync() {
    var before = pushes;
    fetch(widget.dataset.offersUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        if (pushes !== before) { sync(); return; }  // the list may predate a push: read it again
        offers = {};
        answer.offers.forEach(remember);
        var open = Object.keys(offers);
        setHidden(hiddenIds().filter(function (id) { return open.indexOf(id) >= 0; }));
        render();
      })
      .catch(function () { /* the next push or poll brings the list */ });
  }

  counter.addEventListener("click", function () {
    setHidden([]);
    expanded = true;
    render();
    if (tray) { tray.scrollIntoView({ block: "nearest" }); }
  });

  setInterval(function () {
    var changed = false;
    sorted().forEach(function (offer) {
      var seconds = secondsLeft(offer);
      if (seconds === null) { return; }
      if (seconds <= 0) { delete offers[offer.item]; changed = true; return; }
      var left = tray && tray.querySelector('[data-item="' + offer.item + '"] [data-testid=offer-left]');
      if (left) { left.textContent = seconds + " " + widget.dataset.seconds; }
    });
    if (changed) { render(); }
  }, 1000);
  setInterval(sync, 30000);
  document.addEventListener("kefu:connected", sync);
  sync();

  document.addEventListener("kefu:push", function (event) {
    var payload = event.detail;
    if (payload.type === "routing.offer") { pushes += 1; remember(payload); render(); }
    if (payload.type === "routing.withdrawn") { pushes += 1; drop(payload.item); }
  });
})();
