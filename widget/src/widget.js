/*
 * Web chat widget of the NOC incident-intake assistant.
 *
 * Embed with one tag:
 *   <script src="https://chat.example/widget.js" data-rasa-url="https://rasa.example" defer></script>
 *
 * Talks to Rasa's socketio channel (credentials.yml: user_uttered/bot_uttered,
 * session_persistence: true). Everything shown comes from textContent and
 * createElement: no message content ever goes through innerHTML.
 */
import { io } from "socket.io-client";
import css from "./widget.css";

const STORAGE_PREFIX = "noc-chat:v1:";
const MAX_MESSAGES = 200;
const MAX_INPUT = 1000;
const TYPING_TIMEOUT_MS = 20000;
// Bot answers already shown, by the message they answer (see receive()).
const MAX_SEEN_ANSWERS = 400;
const TICKET_RE = /INC-\d{4}-\d{6}/g;
const SVG_NS = "http://www.w3.org/2000/svg";

// Icon paths (Material Symbols, Apache-2.0), drawn with createElementNS.
const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2Zm2 5v2h12V9H6Zm0 4v2h8v-2H6Z",
  close: "M18.3 5.71 12 12l6.3 6.29-1.41 1.42L10.59 13.4 4.3 19.71 2.89 18.3 9.17 12 2.89 5.71 4.3 4.29l6.29 6.3 6.3-6.3z",
  send: "M3.4 20.4 21 12 3.4 3.6 3.39 10.1 15 12 3.39 13.9z",
  agent:
    "M12 2a7 7 0 0 0-7 7v3.5A2.5 2.5 0 0 0 7.5 15H9V9H7a5 5 0 0 1 10 0h-2v6h2v1a2 2 0 0 1-2 2h-2v2h2a4 4 0 0 0 4-4v-1.06A2.5 2.5 0 0 0 19 12.5V9a7 7 0 0 0-7-7Z",
};

const TEXT = {
  launcher: "Reportar un incidente",
  launcherLabel: (title) => `Abrir el chat: ${title}`,
  close: "Cerrar el chat",
  intro: "Registre una falla y reciba su número de ticket. No comparta contraseñas por este medio.",
  logLabel: "Conversación con el asistente",
  inputLabel: "Escriba su mensaje",
  placeholder: "Escriba su mensaje…",
  send: "Enviar mensaje",
  you: "Usted: ",
  bot: "Asistente: ",
  quickReplies: "Respuestas sugeridas",
  typing: "El asistente está escribiendo…",
  footnote: "Enter: enviar · Mayús+Enter: nueva línea · Esc: cerrar",
  status: {
    idle: "Asistente virtual del NOC",
    connecting: "Conectando…",
    online: "En línea",
    offline: "Sin conexión. Reintentando…",
  },
  image: "Imagen enviada por el asistente",
};

// ---------------------------------------------------------------- config

function findScript() {
  if (document.currentScript) return document.currentScript;
  return document.querySelector("script[data-rasa-url]") || document.querySelector('script[src*="widget.js"]');
}

function readConfig(script) {
  const data = (script && script.dataset) || {};
  const protocol = location.protocol === "https:" ? "https:" : "http:";
  const fallback = `${protocol}//${location.hostname || "127.0.0.1"}:5005`;
  let url;
  try {
    url = new URL((data.rasaUrl || "").trim() || fallback, location.href);
  } catch (_) {
    url = new URL(fallback);
  }
  // socket.io reads a path in the URL as a namespace: connect to the origin
  // and put a path (Rasa behind a proxy under /rasa) in front of /socket.io.
  const basePath = url.pathname.replace(/\/+$/, "");
  return {
    rasaUrl: url.origin + basePath,
    origin: url.origin,
    socketPath: (data.socketPath || "").trim() || `${basePath}/socket.io`,
    title: (data.title || "").trim() || "Soporte NOC",
  };
}

// ---------------------------------------------------------------- storage

function newSessionId() {
  // Same shape as Rasa's own ids (uuid4().hex); getRandomValues works on
  // plain-http pages too, unlike crypto.randomUUID.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An id kept in sessionStorage (a session's, a message's), or a new one if it is not one. */
function storedId(value) {
  return isString(value) && /^[\w-]{8,64}$/.test(value) ? value : newSessionId();
}

/** An outbox entry: the text and the id the server knows the message by. */
function outgoing(text, id) {
  return { id: storedId(id), text };
}

function isString(value) {
  return typeof value === "string";
}

function cleanQuickReplies(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((b) => b && isString(b.title) && isString(b.payload))
    .map((b) => ({ title: b.title, payload: b.payload }));
}

function cleanMessage(m) {
  if (!m || (m.role !== "user" && m.role !== "bot")) return null;
  const out = { role: m.role, text: isString(m.text) ? m.text : "", at: Number(m.at) || Date.now() };
  if (m.role === "bot") {
    out.quickReplies = cleanQuickReplies(m.quickReplies);
    if (isString(m.image) && /^https?:\/\//i.test(m.image)) out.image = m.image;
  }
  if (!out.text && !out.image) return null;
  return out;
}

class Store {
  constructor(key) {
    this.key = key;
    this.state = this.load();
  }

  load() {
    const empty = { sessionId: newSessionId(), messages: [], outbox: [], seen: [], open: false };
    let raw = null;
    try {
      raw = window.sessionStorage.getItem(this.key);
    } catch (_) {
      return empty; // storage blocked: the conversation lasts until reload
    }
    if (!raw) return empty;
    try {
      const data = JSON.parse(raw);
      return {
        sessionId: storedId(data.sessionId),
        messages: (Array.isArray(data.messages) ? data.messages : []).map(cleanMessage).filter(Boolean),
        // Strings: an outbox kept by the widget before messages had ids.
        outbox: (Array.isArray(data.outbox) ? data.outbox : [])
          .map((m) => (isString(m) ? outgoing(m) : m && isString(m.text) ? outgoing(m.text, m.id) : null))
          .filter(Boolean),
        seen: (Array.isArray(data.seen) ? data.seen : []).filter(isString).slice(-MAX_SEEN_ANSWERS),
        open: data.open === true,
      };
    } catch (_) {
      return empty;
    }
  }

  save() {
    const s = this.state;
    if (s.messages.length > MAX_MESSAGES) s.messages.splice(0, s.messages.length - MAX_MESSAGES);
    if (s.seen.length > MAX_SEEN_ANSWERS) s.seen.splice(0, s.seen.length - MAX_SEEN_ANSWERS);
    try {
      window.sessionStorage.setItem(this.key, JSON.stringify(s));
    } catch (_) {
      /* quota or blocked storage: keep going in memory */
    }
  }
}

// ---------------------------------------------------------------- DOM helpers

/** createElement with attributes; children are nodes or strings (text nodes). */
function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children || []) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

/** Appends text to node, ticket numbers in <strong>: text nodes only. */
function appendText(node, text) {
  let last = 0;
  for (const match of text.matchAll(TICKET_RE)) {
    node.append(text.slice(last, match.index));
    node.append(el("strong", { class: "ticket", text: match[0] }));
    last = match.index + match[0].length;
  }
  node.append(text.slice(last));
}

function clock(at) {
  try {
    return new Date(at).toLocaleTimeString("es", { hour: "2-digit", minute: "2-digit" });
  } catch (_) {
    return "";
  }
}

// ---------------------------------------------------------------- widget

class ChatWidget {
  constructor(config) {
    this.config = config;
    this.store = new Store(STORAGE_PREFIX + config.rasaUrl);
    this.socket = null;
    this.confirmed = false;
    // Outbox ids sent on the current socket and not yet acknowledged.
    this.inflight = new Set();
    this.typingTimer = null;
    // First message of the bot's current answer: a long answer is scrolled
    // to its start, not past it.
    this.answerStart = null;
    this.uid = `noc-chat-${Math.random().toString(36).slice(2, 8)}`;
  }

  mount() {
    this.host = el("div", { id: "noc-chat-widget", "data-noc-chat": "" });
    const root = this.host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", { text: css }));
    }
    this.root = root;
    this.build();
    document.body.append(this.host);

    this.renderHistory();
    // Connect only once the widget is used, or straight away when this tab
    // already has a conversation (a reload in the middle of one).
    if (this.store.state.messages.length || this.store.state.outbox.length || this.store.state.open) {
      this.connect();
    }
    if (this.store.state.open) this.open({ focus: false });
  }

  build() {
    const { title } = this.config;
    const id = (s) => `${this.uid}-${s}`;

    this.badge = el("span", { class: "badge", hidden: true });
    this.launcher = el(
      "button",
      {
        type: "button",
        class: "launcher",
        "aria-label": TEXT.launcherLabel(title),
        "aria-expanded": "false",
        "aria-controls": id("panel"),
      },
      [icon("chat"), el("span", { text: TEXT.launcher }), this.badge],
    );

    this.statusEl = el("p", { class: "status", id: id("status"), role: "status", "data-state": "idle" });
    this.statusEl.textContent = TEXT.status.idle;
    this.closeButton = el("button", { type: "button", class: "close", "aria-label": TEXT.close }, [icon("close")]);
    const header = el("div", { class: "header" }, [
      el("div", { class: "avatar" }, [icon("agent")]),
      el("div", { class: "heading" }, [el("h2", { class: "title", id: id("title"), text: title }), this.statusEl]),
      this.closeButton,
    ]);

    this.log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": TEXT.logLabel,
      // Focusable so keyboard users can scroll a long conversation.
      tabindex: "0",
    });
    // Drawn at the end of the log but hidden from screen readers, which hear
    // typingStatus instead (the log would announce it as a message).
    this.typing = el("div", { class: "typing", hidden: true, "aria-hidden": "true" }, [
      el("span", { class: "dot" }),
      el("span", { class: "dot" }),
      el("span", { class: "dot" }),
    ]);
    this.typingStatus = el("div", { class: "sr-only", role: "status" });

    this.input = el("textarea", {
      class: "input",
      id: id("input"),
      rows: "1",
      maxlength: String(MAX_INPUT),
      placeholder: TEXT.placeholder,
      autocomplete: "off",
      "aria-describedby": id("footnote"),
    });
    this.sendButton = el("button", { type: "submit", class: "send", "aria-label": TEXT.send }, [icon("send")]);
    this.form = el("form", { class: "composer", novalidate: true }, [
      el("label", { class: "sr-only", for: id("input"), text: TEXT.inputLabel }),
      this.input,
      this.sendButton,
    ]);

    this.panel = el(
      "section",
      {
        class: "panel",
        id: id("panel"),
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": id("title"),
        "aria-describedby": id("intro"),
        hidden: true,
      },
      [
        header,
        el("p", { class: "intro", id: id("intro"), text: TEXT.intro }),
        this.log,
        this.typingStatus,
        this.form,
        el("p", { class: "footnote", id: id("footnote"), text: TEXT.footnote }),
      ],
    );

    this.root.append(this.launcher, this.panel);

    this.launcher.addEventListener("click", () => this.open({ focus: true }));
    this.closeButton.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !event.isComposing) {
        event.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitInput();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submitInput();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
  }

  // -------------------------------------------------------------- open/close

  open({ focus }) {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.launcher.setAttribute("aria-expanded", "true");
    this.badge.hidden = true;
    if (!this.store.state.open) {
      this.store.state.open = true;
      this.store.save();
    }
    this.connect();
    this.scrollToLatest(false);
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.state.open = false;
    this.store.save();
    this.launcher.focus();
  }

  isOpen() {
    return !this.panel.hidden;
  }

  // -------------------------------------------------------------- socket

  connect() {
    if (this.socket) return;
    this.setStatus("connecting");
    // WebSocket only: Rasa's socket.io server sends no CORS headers, so the
    // long-polling transport cannot work from another origin anyway.
    const socket = io(this.config.origin, {
      path: this.config.socketPath,
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 10000,
    });
    this.socket = socket;

    // Fires on the first connection and on every reconnection: (re)join the
    // conversation's room with the same session id.
    socket.on("connect", () => {
      this.confirmed = false;
      socket.emit("session_request", { session_id: this.store.state.sessionId });
    });
    socket.on("session_confirm", (sessionId) => {
      const id = isString(sessionId) ? sessionId : sessionId && sessionId.session_id;
      if (isString(id) && id && id !== this.store.state.sessionId) {
        this.store.state.sessionId = id;
        this.store.save();
      }
      this.confirmed = true;
      this.setStatus("online");
      this.flush();
    });
    socket.on("bot_uttered", (data) => this.receive(data));
    socket.on("disconnect", (reason) => {
      this.confirmed = false;
      // What got no answer on this socket is sent again on the next one.
      this.inflight.clear();
      this.markPending();
      this.setStatus("offline");
      // The server closed the socket on purpose: socket.io does not retry
      // by itself in that case.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 2000);
    });
    socket.on("connect_error", () => this.setStatus("offline"));
  }

  setStatus(state) {
    if (this.statusEl.dataset.state === state) return;
    this.statusEl.dataset.state = state;
    this.statusEl.textContent = TEXT.status[state];
  }

  /**
   * Sends what the outbox holds and this socket has not sent yet. A message
   * leaves the outbox when the server acknowledges it (after the bot's
   * answers); one whose socket dies first is sent again, with the same id,
   * on the next connection, perhaps to another server: the server processes
   * a message id once and answers a copy with the saved answers, which
   * receive() does not show twice.
   */
  flush() {
    const { state } = this.store;
    const socket = this.socket;
    if (!socket || !socket.connected || !this.confirmed) return;
    for (const item of state.outbox) {
      if (this.inflight.has(item.id)) continue;
      this.inflight.add(item.id);
      socket.emit("user_uttered", { message: item.text, session_id: state.sessionId, message_id: item.id }, () => {
        // Any acknowledgement: answered, or refused with a notice (too long,
        // too many). Sending it again would not change that.
        this.inflight.delete(item.id);
        const index = state.outbox.findIndex((m) => m.id === item.id);
        if (index >= 0) state.outbox.splice(index, 1);
        this.store.save();
        this.markPending();
      });
    }
    this.markPending();
  }

  // -------------------------------------------------------------- messages

  submitInput() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.autosize();
    this.sendUser(text, text);
  }

  /** Shows `text` as the user's message and sends `payload` to Rasa. */
  sendUser(text, payload) {
    this.clearQuickReplies();
    this.answerStart = null;
    this.addMessage({ role: "user", text: text.slice(0, MAX_INPUT), at: Date.now() });
    this.store.state.outbox.push(outgoing(payload.slice(0, MAX_INPUT)));
    this.store.save();
    this.connect();
    this.showTyping();
    this.markPending();
    this.flush();
  }

  receive(data) {
    if (!data || typeof data !== "object") return;
    // The server numbers the answers to each message (reply_to, index); a
    // copy of a message sent again after a reconnection gets its saved
    // answers once more, and those already shown are skipped.
    if (isString(data.reply_to) && Number.isInteger(data.index)) {
      const key = `${data.reply_to}#${data.index}`;
      const { seen } = this.store.state;
      if (seen.includes(key)) return;
      seen.push(key);
    }
    this.hideTyping();
    const quickReplies = cleanQuickReplies(data.quick_replies || data.buttons);
    let text = isString(data.text) ? data.text : "";
    let image;
    const attachment = data.attachment;
    if (attachment && attachment.type === "image" && attachment.payload && isString(attachment.payload.src)) {
      if (/^https?:\/\//i.test(attachment.payload.src)) image = attachment.payload.src;
    }
    if (!text && !image && quickReplies.length) text = " ";
    const message = cleanMessage({ role: "bot", text, image, quickReplies, at: Date.now() });
    if (!message) return;
    this.clearQuickReplies();
    this.addMessage(message);
    if (!this.isOpen()) this.badge.hidden = false;
  }

  addMessage(message) {
    this.store.state.messages.push(message);
    this.store.save();
    const node = this.renderMessage(message);
    this.log.append(node);
    if (message.role === "bot") {
      if (message.quickReplies.length) this.log.append(this.renderQuickReplies(message.quickReplies));
      if (!this.answerStart) this.answerStart = node;
    }
    this.scrollToLatest(true);
  }

  renderHistory() {
    const { messages } = this.store.state;
    for (const message of messages) this.log.append(this.renderMessage(message));
    const last = messages[messages.length - 1];
    if (last && last.role === "bot" && last.quickReplies.length) {
      this.log.append(this.renderQuickReplies(last.quickReplies));
    }
    this.markPending();
  }

  renderMessage(message) {
    const bubble = el("div", { class: "bubble" });
    if (message.image) {
      bubble.append(el("img", { src: message.image, alt: TEXT.image, loading: "lazy", referrerpolicy: "no-referrer" }));
    }
    if (message.text.trim()) appendText(bubble, message.text);
    return el("div", { class: `msg msg--${message.role}` }, [
      el("span", { class: "sr-only", text: message.role === "user" ? TEXT.you : TEXT.bot }),
      bubble,
      el("span", { class: "meta", "aria-hidden": "true", text: clock(message.at) }),
    ]);
  }

  renderQuickReplies(buttons) {
    const group = el("div", { class: "quick-replies", role: "group", "aria-label": TEXT.quickReplies });
    for (const button of buttons) {
      const node = el("button", { type: "button", class: "quick-reply", text: button.title });
      node.addEventListener("click", () => {
        this.sendUser(button.title, button.payload);
        this.input.focus();
      });
      group.append(node);
    }
    return group;
  }

  clearQuickReplies() {
    for (const group of this.log.querySelectorAll(".quick-replies")) group.remove();
    for (const message of this.store.state.messages) {
      if (message.quickReplies && message.quickReplies.length) message.quickReplies = [];
    }
  }

  /** Greys out the user messages still waiting in the outbox. */
  markPending() {
    const users = this.log.querySelectorAll(".msg--user");
    // Not yet sent on a live socket: typed offline, or sent on one that died.
    const waiting = this.store.state.outbox.filter((m) => !this.inflight.has(m.id)).length;
    users.forEach((node, i) => node.classList.toggle("msg--pending", i >= users.length - waiting));
  }

  showTyping() {
    this.typing.hidden = false;
    this.log.append(this.typing); // keep it after the last message
    this.typingStatus.textContent = TEXT.typing;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_TIMEOUT_MS);
    this.scrollToLatest(true);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
    this.typingStatus.textContent = "";
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 3, 120)}px`;
  }

  /** To the bottom, but never past the start of the bot's current answer. */
  scrollToLatest(smooth) {
    const { log } = this;
    let top = log.scrollHeight - log.clientHeight;
    if (this.answerStart && this.answerStart.isConnected) {
      top = Math.min(top, this.answerStart.offsetTop - 12);
    }
    const reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    log.scrollTo({ top: Math.max(0, top), behavior: smooth && !reduced ? "smooth" : "auto" });
  }
}

// ---------------------------------------------------------------- start

(function start() {
  if (window.__nocChatWidget) return; // the tag was included twice
  const config = readConfig(findScript());
  const widget = new ChatWidget(config);
  window.__nocChatWidget = widget;
  if (document.body) widget.mount();
  else document.addEventListener("DOMContentLoaded", () => widget.mount(), { once: true });
})();
