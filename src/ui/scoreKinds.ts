import type { ScoreKind } from '../worker-api/api';

/** What a result's score is (ResultItem.scoreKind), as a short label and a one-line explanation (docs/RANKING.md). */
export const SCORE_KINDS: Record<ScoreKind, { label: string; explain: string }> = {
  cosine: { label: 'cosine', explain: 'Cosine similarity of the query and photo descriptors' },
  region: { label: 'region', explain: "The photo's best CAM region (re-ranking) matched the query better than the whole photo" },
  expanded: { label: 'QE', explain: 'Cosine similarity with the expanded query (query expansion)' },
  refined: { label: 'SuperGlobal', explain: 'SuperGlobal: mean of the query and max-pooled query similarities with the neighbour-refined photo descriptor' },
  diffusion: { label: 'diffusion', explain: 'Diffusion score over the neighbour graph, 1 = best (not a cosine)' },
};
