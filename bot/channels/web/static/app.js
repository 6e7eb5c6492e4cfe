// Anshin web chat. Holds only the current screen's button ids, in memory; stores nothing in the browser.
"use strict";

(() => {
  const FALLBACK_EXIT = "https://www.yahoo.co.jp/";
  const FALLBACK_ERROR = "うまくつながりませんでした。今すぐ危ないときは110番に電話してください。\n" +
    "Could not connect. If you are in danger now, call 110.";
  // Links in service texts: web addresses, Japanese phone numbers, #short codes, 3-digit hotlines.
  const LINK = /(https?:\/\/[^\s、。()()「」<>"]+)|(?<![\d#A-Za-z-])(0\d{1,4}-\d{1,6}(?:-\d{1,5})?|#\d{4}|110|119|189|188)(?![\dA-Za-z:-])/g;

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const input = $("message");
  const select = $("lang-select");
  const ui = { locale: "", texts: {}, exitUrl: FALLBACK_EXIT };
  let buttons = new Map(); // the current screen's button ids, nothing else
  let busy = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function newTabLink(href, label, className) {
    const a = el("a", className, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.append(el("span", "sr-only", " " + (ui.texts.new_tab || "")));
    return a;
  }

  // Text with phone numbers as tel: links and web addresses as new-tab links; never innerHTML.
  function linked(text) {
    const out = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      out.append(text.slice(last, match.index));
      let shown = match[0];
      if (match[1]) {
        const trimmed = shown.replace(/[.,;:!?]+$/, "");
        const href = safeUrl(trimmed);
        out.append(href ? newTabLink(href, trimmed, "inline-link") : trimmed);
        shown = trimmed;
      } else {
        const a = el("a", "tel", shown);
        a.href = "tel:" + shown.replace(/-/g, "").replace("#", "%23");
        out.append(a);
      }
      last = match.index + shown.length;
    }
    out.append(text.slice(last));
    return out;
  }

  function clearButtons() {
    buttons = new Map();
    for (const old of log.querySelectorAll(".buttons")) old.remove();
  }

  function addUser(text) {
    const li = el("li", "msg user");
    li.append(el("span", "sr-only", (ui.texts.you || "") + ": "), el("span", "", text));
    log.append(li);
  }

  function addReply(reply) {
    const li = el("li", reply.emergency ? "msg bot emergency" : "msg bot");
    li.tabIndex = -1;
    li.dataset.referrals = (reply.referrals || []).join(" ");
    li.append(el("span", "sr-only", (ui.texts.bot || "Anshin") + ": "));
    const p = el("p", "text");
    p.append(linked(reply.text || ""));
    li.append(p);
    const box = el("div", "buttons");
    for (const row of reply.buttons || []) {
      const line = el("div", "row");
      for (const b of row) {
        if (b.url) {
          const href = safeUrl(b.url);
          if (href) line.append(newTabLink(href, b.label, "btn link"));
        } else if (b.id) {
          const button = el("button", "btn", b.label);
          button.type = "button";
          const key = String(buttons.size);
          buttons.set(key, { id: b.id, label: b.label });
          button.dataset.key = key;
          line.append(button);
        }
      }
      if (line.childElementCount) box.append(line);
    }
    if (box.childElementCount) li.append(box);
    log.append(li);
    return li;
  }

  function addError() {
    const li = el("li", "msg bot error");
    li.setAttribute("role", "alert");
    const p = el("p", "text");
    p.append(linked(ui.texts.error || FALLBACK_ERROR));
    li.append(p);
    log.append(li);
  }

  // The locale a reply was written in, read from its last button id ("1:<locale>:...").
  function replyLocale(replies) {
    const last = replies[replies.length - 1];
    const ids = (last && last.buttons ? last.buttons.flat() : []).filter((b) => b.id).map((b) => b.id);
    const parts = ids.length ? ids[ids.length - 1].split(":") : [];
    return parts.length === 5 ? parts[1] : "";
  }

  async function send(event, echo) {
    if (busy) return;
    busy = true;
    // On first load the page stays at its top (the privacy note) and focus stays at the start of the page, so
    // that quick exit is the first Tab stop; every later answer is scrolled to and focused.
    const first = log.childElementCount === 0;
    if (echo) addUser(echo);
    try {
      const response = await fetch("api/event", {
        method: "POST", headers: { "Content-Type": "application/json" }, cache: "no-store",
        credentials: "omit", referrerPolicy: "no-referrer",
        body: JSON.stringify(Object.assign({}, event, ui.locale ? { lang: ui.locale } : {})),
      });
      const answer = await response.json();
      if (!response.ok || !Array.isArray(answer.replies)) throw new Error("status " + response.status);
      clearButtons();
      let newest = null;
      for (const reply of answer.replies) newest = newest || addReply(reply);
      const locale = replyLocale(answer.replies);
      if (locale && locale !== ui.locale) await loadUi(locale);
      if (newest && !first) {
        // The chat (main) scrolls, not the page: the answer's first words come right under the bar.
        const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        newest.scrollIntoView({ block: "start", behavior: calm ? "auto" : "smooth" });
        newest.focus({ preventScroll: true });
      }
    } catch (_) {
      addError();
    } finally {
      busy = false;
    }
  }

  async function loadUi(lang) {
    try {
      const response = await fetch("api/ui?lang=" + encodeURIComponent(lang), { cache: "no-store", credentials: "omit" });
      const data = await response.json();
      if (!response.ok) return;
      ui.locale = data.locale;
      ui.texts = data.texts || {};
      ui.exitUrl = safeUrl(data.exit_url) || FALLBACK_EXIT;
      document.documentElement.lang = data.lang;
      document.title = ui.texts.title;
      $("quick-exit").textContent = ui.texts.quick_exit;
      $("quick-exit").title = ui.texts["quick_exit.hint"] + " (Esc)";
      $("lang-label").textContent = ui.texts.language;
      log.setAttribute("aria-label", ui.texts.log);
      $("message-label").textContent = ui.texts["input.label"];
      input.placeholder = ui.texts["input.placeholder"];
      $("send").textContent = ui.texts.send;
      $("privacy-note").replaceChildren(linked(ui.texts.privacy_note));
      select.replaceChildren(...data.locales.map((l) => {
        const option = el("option", "", l.name);
        option.value = l.code;
        option.lang = l.code.replace("_", "-");
        option.selected = l.code === data.locale;
        return option;
      }));
    } catch (_) {
      // keep the texts already shown; the quick exit works without them
    }
  }

  function quickExit() {
    buttons = new Map();
    log.replaceChildren();
    input.value = "";
    try { sessionStorage.clear(); } catch (_) { /* nothing kept there anyway */ }
    try {
      window.top.location.replace(ui.exitUrl);
    } catch (_) {
      window.location.replace(ui.exitUrl);
    }
  }

  $("quick-exit").addEventListener("click", quickExit);
  // Esc leaves from anywhere, as on other safety sites; not while an input method is composing (Esc cancels a
  // Japanese conversion there).
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      quickExit();
    }
  });
  log.addEventListener("click", (e) => {
    const target = e.target instanceof Element ? e.target.closest("button.btn") : null;
    const pressed = target ? buttons.get(target.dataset.key) : null;
    if (pressed && !busy) send({ press: pressed.id }, pressed.label);
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send({ text: text }, text);
  });
  select.addEventListener("change", async () => {
    await loadUi(select.value);
    send({ start: "" });
  });

  const params = new URLSearchParams(location.search);
  const start = (params.get("start") || "").slice(0, 64);
  loadUi(params.get("lang") || navigator.language || "ja").then(() => send({ start: start }));
})();
