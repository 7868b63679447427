import { describeCorruption } from './corruption-cases.js';

describeCorruption('json');
