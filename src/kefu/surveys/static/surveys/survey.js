// Conditional survey questions: a fieldset with data-show-key is shown only while the answer to
// that question is one of data-show-values (e.g. "why?" only after a dissatisfied answer).
(function () {
  "use strict";
  function update(form) {
    form.querySelectorAll("[data-show-key]").forEach(function (box) {
      var key = box.getAttribute("data-show-key");
      var wanted = JSON.parse(box.getAttribute("data-show-values") || "[]");
      var picked = form.querySelector('[name="' + key + '"]:checked');
      var show = picked !== null && wanted.indexOf(picked.value) !== -1;
      box.hidden = !show;
      box.querySelectorAll("input, textarea").forEach(function (el) { el.disabled = !show; });
    });
  }
  document.querySelectorAll("[data-survey-form]").forEach(function (form) {
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
