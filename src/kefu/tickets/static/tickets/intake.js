/* 受理: picking the caller shows their card (tier, tags, open work orders, last contacts) and
   fills the contact, the place and the 户号 field. A field the agent typed into is never
   overwritten; one that still holds what an earlier pick filled in is. */
(function () {
  "use strict";
  var box = document.getElementById("intake");
  if (!box) { return; }
  var hidden = document.getElementById("intake-customer-id");
  var cardBox = document.getElementById("intake-customer");
  var results = document.getElementById("intake-results");
  var search = document.getElementById("intake-search");

  function setField(field, value) {
    if (!field || !value) { return; }
    if (field.value && field.value !== field.dataset.filled && field.value !== value) { return; }
    field.value = value;
    field.dataset.filled = value;
  }

  function fill() {
    var card = cardBox.querySelector("[data-customer]");
    if (!card) { return; }
    var form = box.closest("form");
    setField(form.querySelector("[name=contact_name]"), card.dataset.fillName);
    setField(form.querySelector("[name=contact_phone]"), card.dataset.fillPhone);
    setField(form.querySelector("[name=place]"), card.dataset.fillAddress);
    setField(form.querySelector("[name=cf_account]"), card.dataset.fillAccount);
  }

  function pick(id) {
    hidden.value = id;
    results.replaceChildren();
    search.value = "";
    fetch(box.dataset.cardUrl.replace("/0/", "/" + id + "/"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        cardBox.innerHTML = html;  // rendered by Kefu's own template, values escaped there
        fill();
      });
  }

  box.addEventListener("click", function (event) {
    var choice = event.target.closest("[data-pick-id]");
    if (choice) { pick(choice.dataset.pickId); return; }
    if (event.target.closest("[data-action=clear-customer]")) {
      hidden.value = "";
      cardBox.replaceChildren();
    }
  });

  // the form side: a 户号 clicked in the card, and the type's fields swapped in by htmx
  document.addEventListener("click", function (event) {
    var account = event.target.closest("[data-fill-account-value]");
    var field = document.querySelector("[name=cf_account]");
    if (account && field) { field.value = account.dataset.fillAccountValue; field.dataset.filled = field.value; }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "custom-fields") { fill(); }
  });
  fill();
})();
