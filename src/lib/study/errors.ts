/**
 * The study stage's error catalogue: every failure is a StudyError with a code and a sentence a
 * scientist understands (design.md "Errors are values").
 */
export type StudyErrorCode =
  | 'invalid_design'       // StudyDesign.validate() failed
  | 'invalid_view'         // TrainingJob view not baseline/dense/sparse
  | 'view_gridsize'        // TrainingJob view/gridsize mismatch
  | 'file_not_found'       // TrainingJob dataset missing
  | 'invalid_filter'       // a filter value that cannot be parsed
  | 'no_phase_c_root'      // tree detection found no Phase C root
  | 'no_phase_d_root'      // tree detection found no Phase D root
  | 'ambiguous_root';      // more than one candidate root

export class StudyError extends Error {
  override readonly name = 'StudyError';
  constructor(readonly code: StudyErrorCode, message: string, readonly path?: string) {
    super(message);
  }
}

export function studyError(code: StudyErrorCode, message: string, path?: string): StudyError {
  return new StudyError(code, message, path);
}

export function isStudyError(e: unknown): e is StudyError {
  return e instanceof StudyError;
}
