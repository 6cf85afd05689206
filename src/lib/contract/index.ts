/**
 * Dataset validation (DATA-001 and the loader rules: the reference's `docs/data_contracts.md`,
 * `validation.py:29-161`, `components.py:295-437`; docs/data.md): an opened NPZ archive becomes a validated Dataset, or a report of errors and warnings naming file and key.
 */
export type { ContractIssue, Severity } from './issues';
export { e, w, formatShape, formatPosition, formatNumber, WARNING_LABELS, warningCounts, studyWideWarnings } from './issues';
export type { Dataset, DatasetArchive, DatasetReport, ComplexImage, LoadResult, ValidateOptions } from './types';
export { inspectDataset, SUPPORTED_N, MIN_TEST_N, MIN_POSITIONS_GRIDSIZE2 } from './inspect';
export { loadDataset, toFloat64, AMPLITUDE_MAX_HINT, AMPLITUDE_RATIO_HINT } from './load';
export { inferPatchSize } from './infer';
