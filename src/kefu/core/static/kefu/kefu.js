/* Kefu's small shared behaviours. No inline scripts: the page's CSP forbids them. */
(function () {
  "use strict";
  function csrf() { return document.body ? document.body.dataset.csrf : ""; }

  // HTMX requests carry the CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrf();
  });

  // <form data-confirm="…"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // <button data-copy="#id"> copies the text of an element.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim());
      button.classList.add("btn-success");
    }
  });

  // Keyboard shortcuts: elements declare them with data-shortcut="g c" or "/".
  var pending = "";
  var pendingTimer = null;
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var key = pending ? pending + " " + event.key : event.key;
    var element = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (element) {
      event.preventDefault();
      pending = "";
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName)) { element.focus(); } else { element.click(); }
      return;
    }
    if (!pending && document.querySelector('[data-shortcut^="' + CSS.escape(event.key) + ' "]')) {
      pending = event.key;
      clearTimeout(pendingTimer);
      pendingTimer = setTimeout(function () { pending = ""; }, 1200);
    } else {
      pending = "";
    }
  });

  window.Kefu = { csrf: csrf };
})();
