/**
 * Draws a class activation heatmap and boxes over a photo shown at `scale` display pixels per image pixel.
 * The heatmap comes at feature-cell resolution (H x W); cell (i, j) covers image pixels
 * [j * cellWidth, (j + 1) * cellWidth) x [i * cellHeight, (i + 1) * cellHeight), so the map is drawn over
 * W * cellWidth x H * cellHeight image pixels (clipped to the photo) and lines up for any size and orientation.
 */
import type { Heatmap, PixelRect } from '../worker-api/api';
import { heatAlpha, turbo } from './colormap';

interface OverlayBoxes {
  rects: PixelRect[];
  /** Index of the chosen box (drawn solid); the others are drawn dashed when `showAll`. */
  best: number;
  showAll: boolean;
}

export interface OverlayContent {
  /** Photo size in image pixels. */
  imageWidth: number;
  imageHeight: number;
  heat?: Heatmap | null;
  opacity: number;
  boxes?: OverlayBoxes | null;
}

const BOX_COLOUR = '#22d3ee';
const OTHER_BOX_COLOUR = '#fbbf24';

/** The colour image of each map, made once: a card redrawn (new settings, scrolled back) reuses it. */
const heatImages = new WeakMap<Heatmap, HTMLCanvasElement>();

function heatCanvas(heat: Heatmap): HTMLCanvasElement {
  let c = heatImages.get(heat);
  if (!c) heatImages.set(heat, (c = colourMap(heat)));
  return c;
}

function colourMap(heat: Heatmap): HTMLCanvasElement {
  const { H, W } = heat.grid;
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const v = heat.values[i];
    const [r, g, b] = turbo(v);
    img.data[i * 4] = r;
    img.data[i * 4 + 1] = g;
    img.data[i * 4 + 2] = b;
    img.data[i * 4 + 3] = Math.round(255 * heatAlpha(v));
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Draws onto a canvas whose CSS size is width x height (the displayed photo). */
export function drawOverlay(canvas: HTMLCanvasElement, width: number, height: number, content: OverlayContent): void {
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.max(1, Math.round(width * dpr));
  const ph = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pw, ph);
  const sx = pw / content.imageWidth;
  const sy = ph / content.imageHeight;

  const heat = content.heat;
  if (heat && content.opacity > 0) {
    const { H, W, cellWidth, cellHeight } = heat.grid;
    // Grids are computed on the same stored copy, so grid.imageWidth == imageWidth; scale anyway if not.
    const gx = content.imageWidth / heat.grid.imageWidth;
    const gy = content.imageHeight / heat.grid.imageHeight;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, pw, ph);
    ctx.clip();
    ctx.globalAlpha = content.opacity;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(heatCanvas(heat), 0, 0, W, H, 0, 0, W * cellWidth * gx * sx, H * cellHeight * gy * sy);
    ctx.restore();
  }

  const boxes = content.boxes;
  if (boxes && boxes.rects.length) {
    const line = Math.max(1.5, 2 * dpr);
    const draw = (r: PixelRect, colour: string, dashed: boolean, width: number) => {
      const x = r.x1 * sx, y = r.y1 * sy, w = (r.x2 - r.x1) * sx, h = (r.y2 - r.y1) * sy;
      ctx.save();
      ctx.setLineDash(dashed ? [6 * dpr, 4 * dpr] : []);
      ctx.lineWidth = width + 2 * dpr;
      ctx.strokeStyle = 'rgba(0,0,0,0.55)';
      ctx.strokeRect(x + width / 2, y + width / 2, w - width, h - width);
      ctx.lineWidth = width;
      ctx.strokeStyle = colour;
      ctx.strokeRect(x + width / 2, y + width / 2, w - width, h - width);
      ctx.restore();
    };
    if (boxes.showAll) boxes.rects.forEach((r, i) => i !== boxes.best && draw(r, OTHER_BOX_COLOUR, true, line * 0.75));
    const best = boxes.rects[boxes.best];
    if (best) draw(best, BOX_COLOUR, false, line * 1.25);
  }
}
