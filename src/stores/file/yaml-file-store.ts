import { FileStore } from './file-store.js';
import type { FileStoreOptions } from './file-store-options.js';
import { yamlFormat } from './yaml-format.js';

/**
 * A checkpoint in a YAML file (`pipeline_state.yaml`), parsed safely: core schema only, no
 * custom tags, at most 100 aliases.
 * @example new YamlFileStore('my-dataset/pipeline_state.yaml')
 */
export class YamlFileStore extends FileStore {
  constructor(path: string, options?: FileStoreOptions) {
    super(path, yamlFormat, options);
  }
}
