import type { io } from '@tensorflow/tfjs-core';

/** Reads one file of a model folder by its relative path (fetch in the browser, fs in Node). */
export type ReadModelFile = (path: string) => Promise<ArrayBuffer>;

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, int16: 2, uint8: 1, int8: 1, bool: 1 };

function specBytes(spec: io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = BYTES[dtype];
  if (!bytes) throw new Error(`weight ${spec.name} has an unsupported dtype ${dtype}`);
  return n * bytes;
}

type ModelJson = { modelTopology?: unknown; weightsManifest?: io.WeightsManifestConfig; format?: string };

async function readModelJson(read: ReadModelFile): Promise<ModelJson> {
  try {
    return JSON.parse(new TextDecoder().decode(await read('model.json')));
  } catch (e) {
    throw new Error(`model.json could not be read as JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Every weight file the manifest names, each group checked complete (a truncated or wrong file says so). */
async function readWeights(read: ReadModelFile, manifest: io.WeightsManifestConfig): Promise<Pick<io.ModelArtifacts, 'weightSpecs' | 'weightData'>> {
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const weightData: ArrayBuffer[] = [];
  for (const group of manifest) {
    const expected = group.weights.reduce((s, spec) => s + specBytes(spec), 0);
    const buffers = await Promise.all(
      group.paths.map(async (p) => {
        try {
          return await read(p);
        } catch (e) {
          throw new Error(`weight file ${p} could not be loaded: ${(e as Error).message}`, { cause: e });
        }
      }),
    );
    const got = buffers.reduce((s, b) => s + b.byteLength, 0);
    if (got !== expected) {
      throw new Error(`weight files ${group.paths.join(', ')} hold ${got} bytes but the manifest needs ${expected}: truncated or wrong files`);
    }
    weightSpecs.push(...group.weights);
    weightData.push(...buffers);
  }
  return { weightSpecs, weightData };
}

/**
 * Loads a tfjs layers model's model.json and weight files, checks every weight file is there and complete,
 * and makes the input fully convolutional ([null, null, null, 3]) so any image size can be fed.
 */
export async function loadModelArtifacts(read: ReadModelFile): Promise<io.ModelArtifacts> {
  const json = await readModelJson(read);
  if (!json.modelTopology || !Array.isArray(json.weightsManifest) || json.format === 'graph-model') {
    throw new Error('model.json is not a TensorFlow.js layers model (needs modelTopology and weightsManifest)');
  }
  const topology = structuredClone(json.modelTopology) as { model_config?: { config?: { layers?: LayerJson[] } }; config?: { layers?: LayerJson[] } };
  const layers = (topology.model_config ?? topology).config?.layers;
  const input = layers?.find((l) => l.class_name === 'InputLayer');
  if (!input) throw new Error('model.json has no InputLayer');
  input.config.batch_input_shape = [null, null, null, 3];
  return { modelTopology: topology as object, ...(await readWeights(read, json.weightsManifest)), format: json.format };
}

/** Loads a tfjs graph model's model.json (a TensorFlow graph: modelTopology.node) and its weight files, checked complete. */
export async function loadGraphArtifacts(read: ReadModelFile): Promise<io.ModelArtifacts> {
  const json = await readModelJson(read);
  const topology = json.modelTopology as { node?: unknown } | undefined;
  if (json.format !== 'graph-model' || !Array.isArray(topology?.node) || !Array.isArray(json.weightsManifest)) {
    throw new Error('model.json is not a TensorFlow.js graph model (needs format "graph-model", modelTopology.node and weightsManifest)');
  }
  return { modelTopology: topology, ...(await readWeights(read, json.weightsManifest)), format: json.format };
}

interface LayerJson {
  class_name: string;
  config: { batch_input_shape?: (number | null)[] } & Record<string, unknown>;
}
