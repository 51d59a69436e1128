// The jobs page: log in, upload a deck with its assets, watch jobs, play and download.
// Plain DOM, no build step. Server data reaches the page only through textContent and
// attributes, never innerHTML. The token is posted once to /v1/session; after that the
// HttpOnly session cookie carries every request (fetch, <video>, EventSource, links).
"use strict";

// `reel platforms`: the presets a deck can be rendered for.
const PLATFORMS = [
  ["youtube", "YouTube", "16:9"],
  ["youtube_shorts", "Shorts", "9:16"],
  ["tiktok", "TikTok", "9:16"],
  ["instagram_reels", "Reels", "9:16"],
  ["instagram_stories", "Stories", "9:16"],
  ["instagram_feed", "Feed", "1:1"],
  ["instagram_portrait", "Portrait", "4:5"],
  ["facebook", "Facebook", "16:9"],
  ["linkedin", "LinkedIn", "16:9"],
  ["youtube_4k", "YouTube 4K", "16:9"],
];
const FINAL = new Set(["done", "failed", "cancelled"]);
const MAX_STREAMS = 4; // browsers open ~6 connections per host; keep some for the rest
const POLL_MS = 3000;

const $ = (id) => document.getElementById(id);
const jobs = new Map(); // id → {job, node, stream}
let pollTimer = null;

// Build an element: h("a", {href: url, class: "x"}, "text", child, …).
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// ---- session ---------------------------------------------------------------------

function show(loggedIn) {
  $("login").hidden = loggedIn;
  $("upload").hidden = !loggedIn;
  $("jobs").hidden = !loggedIn;
  $("logout").hidden = !loggedIn;
  if (!loggedIn) {
    forgetJobs();
    $("token").focus();
  }
}

async function api(path, options) {
  const response = await fetch(path, {credentials: "same-origin", ...options});
  if (response.status === 401) {
    show(false);
    $("login-error").textContent = "Your session ended: log in again.";
  }
  return response;
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body.error) return body.limit ? `${body.error} (limit: ${body.limit})` : body.error;
    if (body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_) {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = $("token");
  $("login-error").textContent = "";
  const response = await fetch("/v1/session", {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: field.value.trim()}),
  });
  field.value = "";
  if (response.ok) {
    show(true);
    await loadJobs();
  } else {
    $("login-error").textContent =
      response.status === 401 ? "That token was not accepted." : await errorText(response);
  }
});

$("logout").addEventListener("click", async () => {
  await fetch("/v1/session", {method: "DELETE", credentials: "same-origin"});
  show(false);
});

// ---- the upload form ---------------------------------------------------------------

for (const [name, label, shape] of PLATFORMS) {
  const id = `platform-${name}`;
  $("platforms").append(
    h("div", {class: "choice"}, h("input", {type: "checkbox", id, name: "platform", value: name}),
      h("label", {for: id, title: name}, label, " ", h("span", {class: "shape"}, shape))));
}

let deckText = ""; // the chosen deck's text, to find the paths it gives its assets

$("deck").addEventListener("change", async () => {
  const file = $("deck").files[0];
  deckText = file && !/\.zip$/i.test(file.name) ? await file.text() : "";
  listAssets();
});
$("assets").addEventListener("change", listAssets);

// The path the deck gives a file: a string in the deck ending in "/<name>" or equal
// to it, else the name the browser gives (its folder path when a folder was picked).
function assetName(file) {
  const base = file.name;
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = deckText.match(new RegExp(`["']?((?:[^"'\\s:,\\[\\]{}]*/)?${escaped})["']?(?=[\\s,\\]}]|$)`, "m"));
  if (match) return match[1].replace(/^\.\//, "");
  return file.webkitRelativePath || base;
}

function listAssets() {
  const list = $("asset-names");
  list.replaceChildren();
  Array.from($("assets").files).forEach((file, index) => {
    const id = `asset-name-${index}`;
    list.append(h("li", {},
      h("label", {for: id}, `${file.name} (${formatBytes(file.size)}) as`),
      h("input", {type: "text", id, value: assetName(file), autocomplete: "off", spellcheck: "false"})));
  });
}

$("upload-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const error = $("upload-error");
  error.replaceChildren();
  const deck = $("deck").files[0];
  if (!deck) {
    error.textContent = "Choose a deck (.json, .yaml) or a bundle (.zip).";
    $("deck").focus();
    return;
  }
  const form = new FormData();
  form.append(/\.zip$/i.test(deck.name) ? "bundle" : "deck", deck, deck.name);
  Array.from($("assets").files).forEach((file, index) => {
    form.append("assets", file, $(`asset-name-${index}`).value.trim() || file.name);
  });
  const platforms = Array.from(document.querySelectorAll("input[name=platform]:checked"), (box) => box.value);
  const custom = $("custom-size").value.trim();
  if (custom) platforms.push(custom);
  for (const platform of platforms) form.append("platform", platform);
  if ($("quality").value) form.append("quality", $("quality").value);
  upload(form);
});

// XMLHttpRequest rather than fetch: it reports upload progress.
function upload(form) {
  const button = $("submit");
  const bar = $("upload-progress");
  const request = new XMLHttpRequest();
  request.open("POST", "/v1/jobs");
  request.responseType = "json";
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) bar.value = event.loaded / event.total;
  });
  request.addEventListener("loadend", () => {
    button.disabled = false;
    bar.hidden = true;
    submitted(request);
  });
  button.disabled = true;
  bar.value = 0;
  bar.hidden = false;
  request.send(form);
}

function submitted(request) {
  const error = $("upload-error");
  const body = request.response || {};
  if (request.status === 201) {
    track(body);
    jobs.get(body.id).node.scrollIntoView({behavior: "smooth", block: "nearest"});
    $("upload-form").reset();
    deckText = "";
    listAssets();
    return;
  }
  if (request.status === 401) {
    show(false);
    $("login-error").textContent = "Your session ended: log in again.";
    return;
  }
  if (request.status === 0) {
    error.textContent = "The upload did not reach the server (network error, or the request was too large).";
    return;
  }
  if (request.status === 422 && Array.isArray(body.errors)) {
    const count = body.errors.length;
    error.append(
      h("p", {}, `The deck has ${count} error${count === 1 ? "" : "s"}:`),
      h("ul", {class: "errors"}, body.errors.map((item) =>
        h("li", {}, h("code", {class: "path"}, item.path || "(deck)"), " ", item.message))));
    return;
  }
  let text = body.error || (typeof body.detail === "string" ? body.detail : "") ||
    `${request.status} ${request.statusText}`;
  if (body.limit) text += ` (limit: ${body.limit})`;
  if (request.status === 413) text = `Too large: ${text}`;
  const retry = request.getResponseHeader("Retry-After");
  if ((request.status === 429 || request.status === 503) && retry) text += ` Try again in ${retry} s.`;
  error.textContent = text;
}

// ---- the jobs list -----------------------------------------------------------------

async function loadJobs() {
  const response = await api("/v1/jobs?limit=50");
  if (!response.ok) return;
  const body = await response.json();
  for (const job of body.jobs.slice().reverse()) track(job);
}

function forgetJobs() {
  for (const entry of jobs.values()) if (entry.stream) entry.stream.close();
  jobs.clear();
  $("job-list").replaceChildren();
  $("jobs-empty").hidden = false;
  clearTimeout(pollTimer);
  pollTimer = null;
}

// Show a job (new ones go first) and keep it live until it is final.
function track(job) {
  let entry = jobs.get(job.id);
  if (!entry) {
    entry = {job, node: h("li", {class: "job", id: `job-${job.id}`}), stream: null};
    jobs.set(job.id, entry);
    $("job-list").prepend(entry.node);
    $("jobs-empty").hidden = true;
  }
  update(entry, job);
  watch();
}

function update(entry, job) {
  const previous = entry.job;
  entry.job = job;
  // A finished job's card is built once: rebuilding it would restart its video.
  if (FINAL.has(job.state) && FINAL.has(previous.state) && entry.node.firstChild) return;
  entry.node.replaceChildren(...card(job));
  entry.node.dataset.state = job.state;
  if (FINAL.has(job.state) && entry.stream) {
    entry.stream.close();
    entry.stream = null;
  }
}

// Stream events for up to MAX_STREAMS unfinished jobs; poll for the rest.
function watch() {
  let open = Array.from(jobs.values()).filter((entry) => entry.stream).length;
  let unwatched = 0;
  for (const entry of jobs.values()) {
    if (FINAL.has(entry.job.state) || entry.stream) continue;
    if (open < MAX_STREAMS) {
      stream(entry);
      open += 1;
    } else {
      unwatched += 1;
    }
  }
  if (unwatched && !pollTimer) pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  pollTimer = null;
  const response = await api("/v1/jobs?limit=50");
  if (!response.ok) return;
  for (const job of (await response.json()).jobs) if (jobs.has(job.id)) track(job);
}

function stream(entry) {
  const source = new EventSource(entry.job.urls.events);
  entry.stream = source;
  source.addEventListener("progress", (event) => showProgress(entry.node, JSON.parse(event.data)));
  source.addEventListener("state", (event) => {
    update(entry, JSON.parse(event.data));
    if (!entry.stream) watch(); // a stream closed: another job may take its place
  });
  source.addEventListener("error", () => {
    // The browser retries a dropped stream by itself; one it gave up on is polled.
    if (source.readyState === EventSource.CLOSED && entry.stream === source) {
      entry.stream = null;
      if (!pollTimer) pollTimer = setTimeout(poll, POLL_MS);
    }
  });
}

function showProgress(node, progress) {
  const bar = node.querySelector("progress");
  const text = node.querySelector(".progress-text");
  if (!bar || !text) return;
  bar.value = progress.fraction || 0;
  text.textContent = describeProgress(progress, "running");
}

function describeProgress(progress, state) {
  if (state === "queued") return "queued: waiting for a worker";
  if (!progress.frames) return "starting: sound and slides";
  const parts = [`${Math.round((progress.fraction || 0) * 100)} %`, `frame ${progress.frame} of ${progress.frames}`];
  if (progress.fps) parts.push(`${progress.fps.toFixed(1)} fps`);
  if (progress.eta !== null && progress.eta !== undefined) parts.push(`${Math.ceil(progress.eta)} s left`);
  return parts.join(" · ");
}

async function cancel(job, button) {
  button.disabled = true;
  const response = await api(job.urls.self, {method: "DELETE"});
  if (response.ok) track(await response.json());
  else button.disabled = false;
}

// The card's children for one job.
function card(job) {
  const created = new Date(job.created * 1000);
  const head = h("div", {class: "job-head"},
    h("h3", {}, (job.platforms || []).join(", ") || "render"),
    h("span", {class: `state state-${job.state}`}, job.state));
  const meta = h("p", {class: "meta"},
    h("code", {}, job.id), " · ", h("time", {datetime: created.toISOString()}, created.toLocaleString()));
  const parts = [head, meta];
  if (!FINAL.has(job.state)) {
    const barId = `progress-${job.id}`;
    parts.push(
      h("label", {class: "visually-hidden", for: barId}, `Progress of ${job.id}`),
      h("progress", {id: barId, max: "1", value: String(job.progress.fraction || 0)}),
      h("p", {class: "progress-text"}, describeProgress(job.progress, job.state)),
      h("button", {type: "button", class: "danger", onclick: (event) => cancel(job, event.currentTarget)}, "Cancel"));
  }
  if (job.error) parts.push(h("p", {class: "error"}, `${job.error.type}: ${job.error.message}`));
  if (job.state === "done" || job.outputs.length) parts.push(...results(job));
  return parts;
}

function results(job) {
  const outputs = job.outputs || [];
  const videos = outputs.filter((output) => output.kind === "video");
  const images = outputs.filter((output) => output.kind !== "video" && /\.(png|jpe?g|webp)$/i.test(output.name));
  const stem = (name) => name.replace(/\.[^.]+$/, "");
  const parts = [];
  for (const video of videos) {
    const poster = images.find((image) => stem(image.name) === stem(video.name));
    parts.push(h("figure", {class: "video"},
      h("video", {src: video.url, controls: true, playsinline: true, preload: "metadata",
                  poster: poster ? poster.url : false, "aria-label": video.name}),
      h("figcaption", {}, video.name)));
  }
  if (images.length) {
    parts.push(h("div", {class: "images"}, images.map((image) =>
      h("figure", {},
        h("a", {href: image.url}, h("img", {src: image.url, alt: `${image.kind}: ${image.name}`, loading: "lazy"})),
        h("figcaption", {}, image.kind === "thumbnail" ? `Thumbnail · ${image.name}` : image.name)))));
  }
  if (outputs.length) {
    parts.push(h("ul", {class: "downloads", "aria-label": `Downloads of ${job.id}`}, outputs.map((output) =>
      h("li", {}, h("a", {href: `${output.url}?download=1`, download: output.name, class: "button download"},
        `Download ${output.kind === "report" ? "report" : output.name} `,
        h("span", {class: "size"}, formatBytes(output.bytes)))))));
  }
  return parts;
}

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---- start: a live session cookie skips the login form ------------------------------

(async () => {
  const response = await fetch("/v1/jobs?limit=50", {credentials: "same-origin"});
  if (response.ok) {
    show(true);
    for (const job of (await response.json()).jobs.slice().reverse()) track(job);
  } else {
    show(false);
  }
})();
