import type { ReactNode } from 'react';
import { fitSize } from '../layout';
import type { OverlayContent } from '../overlay';
import { OverlayCanvas } from './OverlayCanvas';

/**
 * A photo fitted into maxWidth x maxHeight with its aspect ratio (from the worker's upright size), so an overlay
 * drawn in image pixels lines up whatever the orientation. `children` are laid over it (box editor).
 */
export function PhotoFrame(props: {
  src: string | null;
  imageWidth: number;
  imageHeight: number;
  maxWidth: number;
  maxHeight: number;
  alt: string;
  overlay?: OverlayContent | null;
  overlayLabel?: string;
  children?: ReactNode;
  className?: string;
}) {
  const { width, height } = fitSize(props.imageWidth, props.imageHeight, props.maxWidth, props.maxHeight);
  return (
    <div className={`photo-frame ${props.className ?? ''}`} style={{ width, height }}>
      {props.src ? <img src={props.src} alt={props.alt} draggable={false} decoding="async" /> : <div className="photo-placeholder" />}
      {props.overlay && <OverlayCanvas width={width} height={height} content={props.overlay} label={props.overlayLabel} />}
      {props.children}
    </div>
  );
}
