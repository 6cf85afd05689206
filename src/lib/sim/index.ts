export { Rng } from './rng';
export { poisson, logGamma, POISSON_PTRS_MIN } from './poisson';
export { bresenhamLine, linesObject, linesObjectFromEndpoints, REFERENCE_LINE_COUNT, LINE_BLURS } from './lines';
export { uniformPositions, extractPatch, simulateDiffraction, type ComplexImage, type DiffractionResult } from './simulate';
export {
  simulateDose,
  canonicalize,
  splitByY,
  spacingFilter,
  greedySpacing,
  spacingThreshold,
  nearestNeighbourDistances,
  selectRows,
  OVERLAP_VIEWS,
  SPLIT_FRACTION,
  MIN_ACCEPTANCE,
  type SimulateDoseOptions,
  type SimulateDoseResult,
  type SplitResult,
  type SpacingResult,
  type SpacingMetrics,
} from './study';
export {
  makeDemoStudy,
  demoGeometry,
  DEMO_DOSES,
  DEMO_SEED,
  DEMO_LATTICE,
  DEMO_SPACING,
  DEMO_PROBE_RADIUS,
  DEMO_PHASE_PEAK,
  DEMO_LINE_DENSITY,
  phaseFromAmplitude,
  type DemoGeometryOptions,
  latticePositions,
  type DemoSize,
  type DemoOptions,
  type DemoStudy,
  type DemoSummary,
  type DemoFile,
  type DemoProgress,
} from './demo';
