import { FileStore } from './file-store.js';
import type { FileStoreOptions } from './file-store-options.js';
import { jsonFormat } from './json-format.js';

/**
 * A checkpoint in a JSON file (`pipeline_checkpoint.json`) with its journal beside it.
 * @example new JsonFileStore('input_data/pipeline_checkpoint.json', { durability: 'full' })
 */
export class JsonFileStore extends FileStore {
  constructor(path: string, options?: FileStoreOptions) {
    super(path, jsonFormat, options);
  }
}
