// Live view of an incident's conversation: asks for new messages every 2 s
// and appends them. Text is only ever set with textContent (never as HTML):
// customers write whatever they want.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var chat = document.getElementById("chat");
  var status = document.getElementById("chat-status");
  if (!chat) {
    return;
  }
  var url = chat.getAttribute("data-messages-url");
  var lastId = parseInt(chat.getAttribute("data-last-id"), 10) || 0;
  var timer = null;

  function nearBottom() {
    return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
  }

  function append(message) {
    var item = document.createElement("li");
    item.className = "msg msg--" + (/^(user|bot|agent|system)$/.test(message.role) ? message.role : "system");
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = message.role_label + " · " + message.at_display;
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    item.appendChild(meta);
    item.appendChild(text);
    chat.appendChild(item);
  }

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function poll() {
    fetch(url + "?after=" + lastId, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          say("Su sesión expiró: vuelva a iniciar sesión para seguir la conversación.");
          return null;
        }
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (body) {
        if (body === null) {
          return;
        }
        var stick = nearBottom();
        body.messages.forEach(function (message) {
          if (message.id > lastId) {
            append(message);
            lastId = message.id;
          }
        });
        if (stick && body.messages.length) {
          chat.scrollTop = chat.scrollHeight;
        }
        say("");
        timer = window.setTimeout(poll, POLL_MS);
      })
      .catch(function () {
        say("Sin conexión con el servidor; reintentando…");
        timer = window.setTimeout(poll, POLL_MS * 2);
      });
  }

  chat.scrollTop = chat.scrollHeight;
  timer = window.setTimeout(poll, POLL_MS);
  window.addEventListener("pagehide", function () {
    window.clearTimeout(timer);
  });
})();
