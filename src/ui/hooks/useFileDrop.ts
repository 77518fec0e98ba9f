// Photos and folders dragged over the page: whether a drag is over it (for the overlay), and importing a drop.
import { useRef, useState, type DragEvent } from 'react';
import type { EngineStore } from '../engineStore';
import { collectDrop, dragHasFiles } from '../importFiles';

export interface FileDrop {
  /** Files are being dragged over the page. */
  dragging: boolean;
  /** For the page's root element. */
  handlers: {
    onDragEnter: (e: DragEvent) => void;
    onDragLeave: () => void;
    onDragOver: (e: DragEvent) => void;
    onDrop: (e: DragEvent) => void;
    onDropCapture: () => void;
  };
}

export function useFileDrop(store: EngineStore): FileDrop {
  const [dragging, setDragging] = useState(false);
  /** dragenter/dragleave fire for every child crossed: the drag has left the page when they balance. */
  const dragDepth = useRef(0);
  return {
    dragging,
    handlers: {
      onDragEnter: (e) => {
        if (!dragHasFiles(e.dataTransfer)) return;
        dragDepth.current++;
        setDragging(true);
      },
      onDragLeave: () => {
        dragDepth.current = Math.max(0, dragDepth.current - 1);
        if (!dragDepth.current) setDragging(false);
      },
      onDragOver: (e) => {
        if (!dragHasFiles(e.dataTransfer)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      },
      // Any drop ends the drag, also one that a panel keeps to itself (the query area stops it from bubbling).
      onDropCapture: () => {
        dragDepth.current = 0;
        setDragging(false);
      },
      onDrop: (e) => {
        e.preventDefault();
        void collectDrop(e.dataTransfer).then((files) => store.importFiles(files));
      },
    },
  };
}
