// The drawn signature (optional): strokes on a canvas, posted as a PNG data URL in a hidden
// field. Without this script, or without a pointer, the typed name is the signature.
document.addEventListener("DOMContentLoaded", () => {
  const pad = document.getElementById("signature_png");
  const canvas = document.getElementById("signature-canvas");
  const data = document.getElementById("signature-data");
  if (!pad || !canvas || !data || !canvas.getContext) return;
  pad.hidden = false;
  const ctx = canvas.getContext("2d");
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#000";
  let drawing = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = at(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    data.value = canvas.toDataURL("image/png");
    const kept = document.getElementById("signature-kept");
    if (kept) kept.remove();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("signature-clear").addEventListener("click", () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    data.value = "";
    const kept = document.getElementById("signature-kept");
    if (kept) kept.remove();
  });
});
