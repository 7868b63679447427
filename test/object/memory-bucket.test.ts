import { describe, expect, it } from 'vitest';
import { MemoryBucket } from '../../src/stores/object/memory-bucket.js';
import { describeBucketConformance } from '../../src/testing/bucket-conformance.js';

describeBucketConformance({ describe, it, expect }, { name: 'MemoryBucket', createBucket: () => new MemoryBucket() });
