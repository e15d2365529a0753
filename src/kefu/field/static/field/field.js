// Check-in on the engineer's phone: add the position to the form when the phone gives it
// (within a few seconds); check in without it otherwise.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-geo]") || form.dataset.located) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    var send = function () {
      form.dataset.located = "1";
      form.submit();
    };
    if (!navigator.geolocation) return send();
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lng.value = position.coords.longitude.toFixed(6);
        form.elements.accuracy.value = Math.round(position.coords.accuracy || 0);
        send();
      },
      send,
      { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 }
    );
  });
})();
