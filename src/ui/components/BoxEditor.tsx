import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import type { PixelRect } from '../../worker-api/api';

type Handle = 'n' | 's' | 'e' | 'w' | 'ne' | 'nw' | 'se' | 'sw';
const HANDLES: Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];
const MIN_SIZE_PX = 8; // display pixels

interface Drag {
  mode: 'new' | 'move' | Handle;
  x: number;
  y: number;
  start: PixelRect;
  pointerId: number;
}

/**
 * The query box over the query photo: drag on the photo to draw a new box (also inside the default whole-photo
 * box), drag inside a smaller box to move it, drag a handle to resize it. Keyboard (box focused): arrows move it, Shift + arrows resize it. Coordinates are in image
 * pixels; `scale` = display pixels per image pixel.
 */
export function BoxEditor(props: { scale: number; imageWidth: number; imageHeight: number; box: PixelRect; onChange: (box: PixelRect) => void }) {
  const { scale, imageWidth: W, imageHeight: H, box } = props;
  const ref = useRef<HTMLDivElement>(null);
  const drag = useRef<Drag | null>(null);

  const point = (e: PointerEvent) => {
    const r = ref.current!.getBoundingClientRect();
    return { x: clamp((e.clientX - r.left) / scale, 0, W), y: clamp((e.clientY - r.top) / scale, 0, H) };
  };

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    const p = point(e);
    const handle = (e.target as HTMLElement).dataset.handle as Handle | undefined;
    const inside = (e.target as HTMLElement).closest('.query-box');
    // A box over the whole photo (the default) cannot be moved: dragging in it draws a new one.
    const whole = box.x2 - box.x1 >= 0.98 * W && box.y2 - box.y1 >= 0.98 * H;
    drag.current = { mode: handle ?? (inside && !whole ? 'move' : 'new'), x: p.x, y: p.y, start: box, pointerId: e.pointerId };
    ref.current!.setPointerCapture(e.pointerId);
    e.preventDefault();
  };

  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d || d.pointerId !== e.pointerId) return;
    const p = point(e);
    const dx = p.x - d.x, dy = p.y - d.y;
    const s = d.start;
    let next: PixelRect;
    if (d.mode === 'new') {
      next = { x1: Math.min(d.x, p.x), y1: Math.min(d.y, p.y), x2: Math.max(d.x, p.x), y2: Math.max(d.y, p.y) };
      if ((next.x2 - next.x1) * scale < MIN_SIZE_PX || (next.y2 - next.y1) * scale < MIN_SIZE_PX) return;
    } else if (d.mode === 'move') {
      const mx = clamp(dx, -s.x1, W - s.x2), my = clamp(dy, -s.y1, H - s.y2);
      next = { x1: s.x1 + mx, y1: s.y1 + my, x2: s.x2 + mx, y2: s.y2 + my };
    } else {
      const min = MIN_SIZE_PX / scale;
      next = { ...s };
      if (d.mode.includes('w')) next.x1 = clamp(s.x1 + dx, 0, s.x2 - min);
      if (d.mode.includes('e')) next.x2 = clamp(s.x2 + dx, s.x1 + min, W);
      if (d.mode.includes('n')) next.y1 = clamp(s.y1 + dy, 0, s.y2 - min);
      if (d.mode.includes('s')) next.y2 = clamp(s.y2 + dy, s.y1 + min, H);
    }
    props.onChange(roundBox(next));
  };

  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    if (drag.current?.pointerId === e.pointerId) drag.current = null;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = Math.max(1, Math.round(Math.max(W, H) / 100)) * (e.altKey ? 5 : 1);
    const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!dir) return;
    e.preventDefault();
    const [dx, dy] = [dir[0] * step, dir[1] * step];
    if (e.shiftKey) {
      const x2 = clamp(box.x2 + dx, box.x1 + 1, W), y2 = clamp(box.y2 + dy, box.y1 + 1, H);
      props.onChange(roundBox({ ...box, x2, y2 }));
    } else {
      const mx = clamp(dx, -box.x1, W - box.x2), my = clamp(dy, -box.y1, H - box.y2);
      props.onChange(roundBox({ x1: box.x1 + mx, y1: box.y1 + my, x2: box.x2 + mx, y2: box.y2 + my }));
    }
  };

  const style = { left: box.x1 * scale, top: box.y1 * scale, width: (box.x2 - box.x1) * scale, height: (box.y2 - box.y1) * scale };
  return (
    <div ref={ref} className="box-editor" onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp} data-testid="box-editor">
      <div
        className="query-box"
        style={style}
        tabIndex={0}
        role="group"
        aria-label={`Query box from (${Math.round(box.x1)}, ${Math.round(box.y1)}) to (${Math.round(box.x2)}, ${Math.round(box.y2)}). Arrow keys move it, Shift + arrow keys resize it.`}
        onKeyDown={onKeyDown}
      >
        {HANDLES.map((h) => (
          <span key={h} className={`handle handle-${h}`} data-handle={h} />
        ))}
      </div>
    </div>
  );
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const roundBox = (b: PixelRect): PixelRect => ({ x1: Math.round(b.x1), y1: Math.round(b.y1), x2: Math.round(b.x2), y2: Math.round(b.y2) });
