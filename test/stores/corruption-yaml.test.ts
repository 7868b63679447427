import { describeCorruption } from './corruption-cases.js';

describeCorruption('yaml');
