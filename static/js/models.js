// Saved models on the digits page: the token that makes this browser their owner, the
// list of the models it saved (each with a Delete button) and what the quotas leave.
//
// The token is made here once and kept in localStorage; saves and deletes send it, and the
// server keeps only its SHA-256. Only this browser can replace or delete what it saved.

const $ = (id) => document.getElementById(id);
const KEY = "backprop-model-owner";
export const OWNER_HEADER = "X-Model-Owner";

let token = null;  // kept here too, for a browser that refuses localStorage
export function ownerToken() {
  try { token = token || localStorage.getItem(KEY); } catch { /* storage refused */ }
  if (!token) {  // 24 random bytes as base64url: 32 characters, the token rule the server checks
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    token = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    try { localStorage.setItem(KEY, token); } catch { /* kept for this page only */ }
  }
  return token;
}

// GET /api/models, each model marked `yours` when this browser saved it.
export async function fetchModels() {
  const res = await fetch("/api/models", { headers: { [OWNER_HEADER]: ownerToken() } });
  return res.json();
}

let rules = null;  // the name rule and quotas, from /api/options
async function quotaRules() {
  if (!rules) rules = (await (await fetch("/api/options")).json()).models;
  return rules;
}
const said = (q, mine, bytes) => `${mine.length} of ${q.owner_models} models, ${mb(bytes)} of ${mb(q.owner_bytes)}.`;

const mb = (n) => (n < 1e6 ? `${Math.ceil(n / 1e3)} kB` : `${(n / 1e6).toFixed(1)} MB`);

// The "Your saved models" list: one row per model this browser saved, name and Delete.
export async function showMine(models) {
  const mine = models.filter((m) => m.yours);
  const list = $("my-models");
  list.replaceChildren();
  for (const m of mine) {
    const row = document.createElement("li");
    const name = document.createElement("span");
    name.className = "model-name";
    name.textContent = m.name;
    name.title = m.name;
    const del = document.createElement("button");
    del.type = "button";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete model ${m.name}`);
    del.addEventListener("click", () => remove(m.name));
    row.append(name, del);
    list.append(row);
  }
  $("my-models-empty").hidden = mine.length > 0;
  const bytes = mine.reduce((sum, m) => sum + (m.bytes || 0), 0);
  // the quotas come with the options: a server that is gone leaves the line as it was
  await quotaRules().then((q) => { $("my-models-quota").textContent = said(q, mine, bytes); }, () => {});
}

async function remove(name) {
  if (!window.confirm(`Delete your model “${name}”? This cannot be undone.`)) return;
  const note = $("my-models-note");
  let res;
  try {
    res = await fetch(`/api/models/${encodeURIComponent(name)}`, { method: "DELETE", headers: { [OWNER_HEADER]: ownerToken() } });
  } catch {
    note.textContent = `Not deleted: the server did not answer. Try again in a moment.`;
    return;
  }
  if (res.ok) {
    note.textContent = `Deleted “${name}”.`;
  } else {
    const body = await res.json().catch(() => ({}));
    note.textContent = `Not deleted: ${body.detail?.message || `the server answered ${res.status}`}.`;
  }
  window.dispatchEvent(new CustomEvent("models-changed", { detail: null }));
}
