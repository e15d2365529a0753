/* Kefu live-chat embed: <script src="https://KEFU/chat/widget.js" data-widget="KEY" async></script>
   Adds a chat button and, when opened, the chat window (an iframe served by Kefu). */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget][src*='/chat/widget.js']");
  if (!script || window.__kefuChat) { return; }
  window.__kefuChat = true;
  var key = script.getAttribute("data-widget");
  var base = new URL(script.src, location.href).origin;
  var lang = script.getAttribute("data-lang") || (document.documentElement.lang || navigator.language || "zh-CN");
  var color = script.getAttribute("data-color") || "#1677ff";
  var label = /^en/i.test(lang) ? "Chat with us" : "在线客服";
  var host = document.createElement("div");
  host.setAttribute("data-kefu-chat", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var style = document.createElement("style");
  style.textContent =
    ".b{position:fixed;right:20px;bottom:20px;z-index:2147483646;border:0;border-radius:28px;padding:12px 18px;" +
    "font:600 15px/1.2 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;color:#fff;background:" + color + ";" +
    "box-shadow:0 6px 20px rgba(0,0,0,.2);cursor:pointer}.b .n{display:none;margin-left:8px;background:#ff4d4f;border-radius:10px;padding:1px 7px;font-size:12px}" +
    ".b.u .n{display:inline-block}.f{position:fixed;right:20px;bottom:84px;z-index:2147483647;width:380px;height:600px;max-height:calc(100vh - 110px);" +
    "border:0;border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.25);background:#fff;display:none}.f.o{display:block}" +
    "@media (max-width:600px){.f{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}.f.o+.b{display:none}}";
  root.appendChild(style);
  var frame = document.createElement("iframe");
  frame.className = "f";
  frame.title = label;
  frame.setAttribute("allow", "clipboard-write");
  var button = document.createElement("button");
  button.className = "b";
  button.type = "button";
  button.innerHTML = "<span></span><span class='n'>1</span>";
  button.firstChild.textContent = label;
  root.appendChild(frame);
  root.appendChild(button);
  var loaded = false;
  function open() {
    if (!loaded) {
      frame.src = base + "/chat/w/" + encodeURIComponent(key) + "/?origin=" + encodeURIComponent(location.origin) + "&lang=" + encodeURIComponent(lang);
      loaded = true;
    }
    frame.classList.add("o");
    button.classList.remove("u");
    try { sessionStorage.setItem("kefu-chat-open", "1"); } catch (e) { /* storage blocked */ }
  }
  function close() {
    frame.classList.remove("o");
    try { sessionStorage.removeItem("kefu-chat-open"); } catch (e) { /* storage blocked */ }
  }
  button.addEventListener("click", function () { frame.classList.contains("o") ? close() : open(); });
  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== frame.contentWindow || !event.data) { return; }
    if (event.data.kefu === "close") { close(); }
    if (event.data.kefu === "unread" && !frame.classList.contains("o")) { button.classList.add("u"); }
  });
  function mount() {
    document.body.appendChild(host);
    var resume = false;
    try { resume = sessionStorage.getItem("kefu-chat-open") === "1"; } catch (e) { /* storage blocked */ }
    if (resume) { open(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
