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

// The three Download buttons: each asks the run for its export (`send`) and saves what
// comes back as that button's file: the .npz, the ONNX model or the Python script.
export class Downloads {
  constructor(send) {
    this.wanted = null;
    for (const [id, kind] of [["export-model", "model"], ["export-script", "script"], ["export-onnx", "onnx"]]) {
      document.getElementById(id).addEventListener("click", () => { this.wanted = kind; send({ type: "export" }); });
    }
  }

  // The server's `export` event.
  save(msg) {
    const bytes = (b64) => new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]);
    if (this.wanted === "script") download(new Blob([msg.script], { type: "text/x-python" }), msg.filename.replace(".npz", ".py"));
    else if (this.wanted === "onnx") download(bytes(msg.onnx), msg.filename.replace(".npz", ".onnx"));
    else download(bytes(msg.npz), msg.filename);
    this.wanted = null;
  }
}
