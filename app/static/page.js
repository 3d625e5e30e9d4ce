// The try-it page: sends what is typed to /tag or /tag/batch and draws the answer. No library.
// The API key, when the service needs one, is kept in sessionStorage only (this tab, until closed).
"use strict";

(function () {
  const KEY = "slot-tagger-api-key";
  const KNOWN = ["departure", "destination", "date"];
  const ZONES = ["UTC", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Europe/London", "Europe/Paris", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney"];
  const body = document.body;
  const keyRequired = body.dataset.keyRequired === "true";
  const maxText = Number(body.dataset.maxText);
  const maxBatch = Number(body.dataset.maxBatch);
  const $ = (id) => document.getElementById(id);
  const form = $("form"), text = $("text"), context = $("context"), key = $("key");
  const status = $("status"), error = $("error"), results = $("results"), output = $("output");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  function storedKey() {
    try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }
  function storeKey(value) {
    try {
      if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY);
    } catch (e) { /* storage off: the key lives in the field only */ }
  }

  function mode() { return form.elements.mode.value; }

  function lines(value) {
    return value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line);
  }

  function updateMode() {
    const batch = mode() === "batch";
    $("text-label").textContent = batch ? "Texts, one a line" : "Text";
    text.rows = batch ? 6 : 3;
    $("context-box").hidden = batch;
    updateCount();
  }

  function updateCount() {
    const n = mode() === "batch" ? lines(text.value).length : text.value.length;
    $("count").textContent = mode() === "batch"
      ? `${n.toLocaleString("en")} of at most ${maxBatch.toLocaleString("en")} lines.`
      : `${n.toLocaleString("en")} of at most ${maxText.toLocaleString("en")} characters.`;
  }

  // What went wrong, as a sentence a person understands.
  function explain(status, detail, retryAfter) {
    const messages = Array.isArray(detail) ? detail.map((d) => d.msg) : [];
    switch (status) {
      case 401:
        return keyRequired
          ? "The API key is missing or wrong. Type the key this service was started with, then try again."
          : "The service refused the request: it needs an API key.";
      case 413:
        return "That is more text than the service takes in one request. Send less, or split it.";
      case 422: {
        const limit = messages.find((m) => / the limit is /.test(m));
        if (limit) return `Too long for this service: ${limit}. Shorten it and try again.`;
        const said = messages.length ? messages.slice(0, 3).join("; ") : "it could not be read";
        return `The service could not use this request: ${said}.`;
      }
      case 429:
      case 503: {
        const wait = retryAfter ? ` in ${retryAfter} second${retryAfter === "1" ? "" : "s"}` : " shortly";
        return `The service is busy right now. Try again${wait}.`;
      }
      case 504:
        return "Tagging took longer than the service allows. Try a shorter text, or fewer lines.";
      default:
        return status >= 500
          ? `The service failed on this request (HTTP ${status}). Try again; if it keeps failing, tell whoever runs it.`
          : `The service answered HTTP ${status}: ${typeof detail === "string" ? detail : "unexpected"}.`;
    }
  }

  function showError(message) {
    status.textContent = "";
    error.textContent = message;
  }

  function describeValue(value) {
    if (!value) return "";
    if (value.type === "place") {
      const where = [value.name, value.state, value.country].filter((x) => x).join(", ");
      const codes = value.iata && value.iata.length ? ` (${value.iata.join(", ")})` : "";
      return `${where}${codes}${value.ambiguous ? ", one of several" : ""}`;
    }
    if (value.type === "date") {
      if (value.date) return value.grain && value.grain !== "day" ? `${value.date} (${value.grain})` : value.date;
      if (value.start || value.end) return `${value.start || "?"} to ${value.end || "?"}`;
    }
    return JSON.stringify(value);
  }

  function labelClass(label) {
    return KNOWN.includes(label) ? `label-${label}` : "label-other";
  }

  function percent(confidence) {
    return `${Math.round(confidence * 100)}%`;
  }

  // The text with its spans marked, and a table of the spans: label, words, value, confidence.
  function drawOne(result) {
    const item = el("div", { class: "item" });
    const sentence = el("p", { class: "sentence" });
    let at = 0;
    const spans = [...result.spans].sort((a, b) => a.start - b.start);
    for (const span of spans) {
      if (span.start < at) continue;
      sentence.append(result.text.slice(at, span.start));
      sentence.append(el("mark", {
        class: `span ${labelClass(span.label)}`,
        title: `${span.label}, ${percent(span.confidence)}`,
      }, result.text.slice(span.start, span.end), el("span", { class: "tag" }, span.label)));
      at = span.end;
    }
    sentence.append(result.text.slice(at));
    item.append(sentence);
    if (result.refused) {
      item.append(el("p", { class: "refused" }, `Not tagged: ${result.refused.reason}`));
    } else if (!spans.length) {
      item.append(el("p", { class: "refused" }, "No departure, destination or date found."));
    } else {
      const rows = spans.map((s) => el("tr", {},
        el("td", {}, el("span", { class: `span ${labelClass(s.label)}` }, s.label)),
        el("td", {}, s.text),
        el("td", {}, describeValue(s.value)),
        el("td", { class: "num" }, percent(s.confidence))));
      item.append(el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Label"), el("th", { scope: "col" }, "Words"),
          el("th", { scope: "col" }, "Value"), el("th", { scope: "col" }, "Confidence"))),
        el("tbody", {}, ...rows))));
    }
    return item;
  }

  function draw(answer) {
    const list = answer.results || [answer];
    output.replaceChildren(...list.map(drawOne));
    $("json").textContent = JSON.stringify(answer, null, 2);
    results.hidden = false;
    const model = list.length ? list[0].model : null;
    const found = list.reduce((n, r) => n + r.spans.length, 0);
    status.textContent = `${list.length === 1 ? "1 text" : `${list.length} texts`} tagged, ` +
      `${found} span${found === 1 ? "" : "s"} found` + (model ? ` (model ${model.name} ${model.version}).` : ".");
  }

  function request() {
    const options = {};
    const reference = $("reference").value;
    const zone = $("timezone").value.trim();
    if (reference) options.reference_date = reference;
    if (zone) options.timezone = zone;
    if (mode() === "batch") {
      return { path: "/tag/batch", body: { texts: lines(text.value), ...options } };
    }
    const turns = lines(context.value);
    return { path: "/tag", body: { text: text.value, ...(turns.length ? { context: turns } : {}), ...options } };
  }

  async function submit(event) {
    event.preventDefault();
    error.textContent = "";
    const { path, body: payload } = request();
    if (path === "/tag/batch" && !payload.texts.length) {
      showError("Type at least one line to tag.");
      text.focus();
      return;
    }
    if (keyRequired) {
      storeKey(key.value.trim());
      if (!key.value.trim()) {
        showError("This service needs an API key: type it in the API key field first.");
        key.focus();
        return;
      }
    }
    const headers = { "content-type": "application/json" };
    if (keyRequired) headers.authorization = `Bearer ${key.value.trim()}`;
    $("submit").disabled = true;
    status.textContent = "Tagging…";
    let response;
    try {
      response = await fetch(path, { method: "POST", headers, body: JSON.stringify(payload) });
    } catch (e) {
      showError(navigator.onLine === false
        ? "You are offline: the page cannot reach the service. Reconnect and try again."
        : "Could not reach the service: the network is down or the server has stopped. Try again in a moment.");
      return;
    } finally {
      $("submit").disabled = false;
    }
    let answer = null;
    try { answer = await response.json(); } catch (e) { answer = null; }
    if (!response.ok) {
      showError(explain(response.status, answer && answer.detail, response.headers.get("retry-after")));
      if (response.status === 401 && keyRequired) {
        storeKey("");
        key.focus();
        key.select();
      }
      return;
    }
    if (!answer) {
      showError("The service answered with something that is not JSON. Try again.");
      return;
    }
    draw(answer);
  }

  function start() {
    for (const zone of ZONES) $("zones").append(el("option", { value: zone }));
    try {
      const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (own && !ZONES.includes(own)) $("zones").prepend(el("option", { value: own }));
    } catch (e) { /* no Intl: the list stays as it is */ }
    if (keyRequired) {
      $("key-box").hidden = false;
      key.value = storedKey();
      $("forget").addEventListener("click", () => {
        storeKey("");
        key.value = "";
        key.focus();
        status.textContent = "The key is forgotten.";
      });
    }
    for (const radio of form.elements.mode) radio.addEventListener("change", updateMode);
    text.addEventListener("input", updateCount);
    for (const box of [text, context]) {
      box.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
      });
    }
    form.addEventListener("submit", submit);
    updateMode();
  }

  start();
})();
