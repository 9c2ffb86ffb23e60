// Test helper: what `kubectl apply -k DIR` would apply, for the kustomization features deploy/k8s uses
// (resources, images' newTag, patches as strategic merges whose lists of named items merge by name). There is
// no kustomize on npm and the test machines have no kubectl, so this small subset is written here; any other
// kustomization field throws rather than being ignored.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'images', 'patches']);

export function readYaml(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Manifest;
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNamedList = (value: unknown): value is Array<{ name: string }> =>
  Array.isArray(value) && value.length > 0 && value.every((item) => isObject(item) && typeof item.name === 'string');

/** Strategic merge: maps merge key by key, lists of named items by name, anything else is replaced. */
function strategicMerge(base: unknown, patch: unknown): unknown {
  if (isNamedList(base) && isNamedList(patch)) {
    const merged = base.map((item) => {
      const match = patch.find((p) => p.name === item.name);
      return match ? strategicMerge(item, match) : item;
    });
    return [...merged, ...patch.filter((p) => !base.some((item) => item.name === p.name))];
  }
  if (isObject(base) && isObject(patch)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch))
      merged[key] = key in base ? strategicMerge(base[key], value) : value;
    return merged;
  }
  return patch;
}

const sameObject = (a: Manifest, b: Manifest) =>
  a.apiVersion === b.apiVersion && a.kind === b.kind && a.metadata.name === b.metadata.name;

function retag(value: unknown, images: Array<{ name: string; newTag: string }>): unknown {
  if (Array.isArray(value)) return value.map((item) => retag(item, images));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const image =
      key === 'image' && typeof item === 'string' ? images.find((i) => item.split(':')[0] === i.name) : undefined;
    out[key] = image ? `${image.name}:${image.newTag}` : retag(item, images);
  }
  return out;
}

/** The manifests that `kubectl apply -k dir` would apply. */
export function kustomize(dir: string): Manifest[] {
  const [kustomization] = readYaml(path.join(dir, 'kustomization.yaml')) as unknown as Array<{
    resources?: string[];
    images?: Array<{ name: string; newTag: string }>;
    patches?: Array<{ path: string }>;
  }>;
  const unknown = Object.keys(kustomization!).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0)
    throw new Error(`${dir}/kustomization.yaml: this helper does not apply ${unknown.join(', ')}`);
  let manifests = (kustomization!.resources ?? []).flatMap((resource) => {
    const file = path.join(dir, resource);
    return statSync(file).isDirectory() ? kustomize(file) : readYaml(file);
  });
  for (const { path: patchFile } of kustomization!.patches ?? []) {
    for (const patch of readYaml(path.join(dir, patchFile))) {
      const target = manifests.find((m) => sameObject(m, patch));
      if (!target) throw new Error(`${patchFile}: no ${patch.kind} ${patch.metadata.name} to patch`);
      manifests = manifests.map((m) => (m === target ? (strategicMerge(m, patch) as Manifest) : m));
    }
  }
  return manifests.map((m) => retag(m, kustomization!.images ?? []) as Manifest);
}
