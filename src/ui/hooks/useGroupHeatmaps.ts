// Heatmaps of a group's members, of the class the group is about (its representative's top class): the same CAM
// maps the results show, asked for once per opened group (the first MAX members).
import { useEffect, useState } from 'react';
import type { ClassScore, Heatmap, PlaceGroup } from '../../worker-api/api';
import type { EngineStore } from '../engineStore';

const MAX = 48;

export interface GroupHeatmaps {
  /** The class drawn (null while it loads, or when none could be read). */
  cls: ClassScore | null;
  maps: ReadonlyMap<string, Heatmap>;
}

const NONE: GroupHeatmaps = { cls: null, maps: new Map() };

export function useGroupHeatmaps(store: EngineStore, group: PlaceGroup | null, enabled: boolean): GroupHeatmaps {
  const [loaded, setLoaded] = useState<{ of: PlaceGroup; value: GroupHeatmaps } | null>(null);
  useEffect(() => {
    if (!group || !enabled) return;
    let cancelled = false;
    void (async () => {
      const classes = await store.api.photoClasses(group.representative);
      const cls = classes[0];
      if (!cls || cancelled) return;
      const maps = await store.api.heatmaps(
        group.members.slice(0, MAX).map((id) => ({ kind: 'photo' as const, id })),
        cls.index,
      );
      if (!cancelled) setLoaded({ of: group, value: { cls, maps: new Map(maps.map((h) => [h.target.kind === 'photo' ? h.target.id : '', h])) } });
    })().catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [store, group, enabled]);
  return loaded && loaded.of === group ? loaded.value : NONE;
}
