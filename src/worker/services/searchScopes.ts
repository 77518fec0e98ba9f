/**
 * Search scopes (SearchRequest.within): the photo ids a scope stands for — a group of the collection graph, the
 * photos with a class among their top classes, or a list of ids. Groups and classes live in their own services;
 * the query session gets this one function.
 */
import type { SearchScope } from '../../worker-api/api';
import type { ClassCounts } from './classCounts';
import type { CollectionGraph } from './collectionGraph';

export function scopeResolver(graph: Pick<CollectionGraph, 'groupMembers'>, classes: Pick<ClassCounts, 'photosWithClass'>) {
  return async (scope: SearchScope): Promise<string[]> => {
    if ('ids' in scope) return scope.ids;
    if ('group' in scope) {
      const members = graph.groupMembers(scope.group);
      if (!members) throw new Error(`there is no group ${scope.group} (groups change as the collection does: ask for the groups again)`);
      return members;
    }
    return classes.photosWithClass(scope.class, { topK: scope.topK ?? 1 });
  };
}
