import { useEffect, useRef } from 'react';
import { drawOverlay, type OverlayContent } from '../overlay';

/** A canvas laid exactly over a displayed photo (its parent is positioned), drawing heatmap and boxes. */
export function OverlayCanvas({ width, height, content, label }: { width: number; height: number; content: OverlayContent; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) drawOverlay(ref.current, width, height, content);
  }, [width, height, content]);
  return <canvas ref={ref} className="overlay" style={{ width, height }} aria-hidden={label ? undefined : true} aria-label={label} role={label ? 'img' : undefined} data-overlay="" />;
}
