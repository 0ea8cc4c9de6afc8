// @ts-check
// Photos from the camera are downscaled on the device before they are
// queued: the longest side at most MAX_SIDE pixels, re-encoded as JPEG.

export const MAX_SIDE = 2048;

/**
 * The size to draw a w×h image at so that its longest side is ≤ max.
 * @param {number} w @param {number} h @param {number} [max]
 */
export function fit(w, h, max = MAX_SIDE) {
  const s = Math.min(1, max / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

/**
 * Decodes file, scales it down and encodes it as JPEG.
 * @param {Blob} file @returns {Promise<Blob>}
 */
export async function downscale(file) {
  const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const { width, height } = fit(bmp.width, bmp.height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  ctx.drawImage(bmp, 0, 0, width, height);
  bmp.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('JPEG encoding failed'))), 'image/jpeg', 0.85));
}
