// Merging the layers (environment < config file < flags) into one settings document, keeping
// for each setting the layer that gave it, so a problem can say where to fix it:
// `listen[0]: must be ldap://host:port ... (from --listen)`.
import { clone, formatPath, hasOwn, isPlainObject, setOwn, type Obj } from './document.js';

/** One layer's settings, and who gave them. */
export interface Layer {
  data: Obj;
  /** Source label per dotted path: a variable or a flag (null: the config file, which needs no label). */
  labels: Map<string, string | null>;
}

export interface Merged {
  /** The merged settings document. */
  data: Obj;
  /** The variable or flag that gave the setting at `path` (or an enclosing one), or null for
   * the config file and for settings nobody gave. */
  sourceOf(path: string): string | null;
}

/** Merges the layers, later ones winning: mappings merge key by key; anything else (lists
 * too) replaces what an earlier layer gave, together with its label. */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const data: Obj = {};
  const labels = new Map<string, string | null>();
  for (const layer of layers) mergeLayer(data, layer.data, layer.labels, labels, []);
  return {
    data,
    sourceOf(path) {
      // users.groups.table -> users.groups -> users; listen[1] -> listen
      for (let p = path; p !== ''; p = p.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, '')) {
        if (labels.has(p)) return labels.get(p) ?? null;
        if (!/[.[]/.test(p)) break;
      }
      return null;
    },
  };
}

function clearBelow(labels: Map<string, string | null>, key: string): void {
  for (const k of [...labels.keys()]) if (k.startsWith(`${key}.`) || k.startsWith(`${key}[`)) labels.delete(k);
}

function mergeLayer(base: Obj, overlay: Obj, layerLabels: Map<string, string | null>, labels: Map<string, string | null>, path: string[]): void {
  for (const k of Object.keys(overlay)) {
    const v = overlay[k];
    if (v === undefined) continue;
    const p = [...path, k];
    const key = formatPath(p);
    const label = layerLabels.has(key) ? layerLabels.get(key)! : null;
    const cur = hasOwn(base, k) ? base[k] : undefined;
    if (isPlainObject(v)) {
      if (!isPlainObject(cur)) {
        setOwn(base, k, {});
        clearBelow(labels, key);
        labels.set(key, label);
      }
      mergeLayer(base[k] as Obj, v, layerLabels, labels, p);
    } else {
      setOwn(base, k, clone(v));
      clearBelow(labels, key);
      labels.set(key, label);
    }
  }
}
