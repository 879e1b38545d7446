// Getting things out of the page: downloads, and a link that can always be copied.

export function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// The link is always shown; copying falls back to a selected field where the Clipboard API
// is missing (plain http on a LAN address).
export async function copyLink(box, field, status) {
  box.hidden = false;
  field.value = location.href;
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(location.href); copied = true; }
  } catch { copied = false; }
  if (!copied) {
    field.focus();
    field.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
  }
  status.textContent = copied ? "Copied" : "Selected: press Ctrl+C to copy";
}
