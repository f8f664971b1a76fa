/**
 * @introdl/grader: student workspaces (scaffold, check) and grading in a sandbox with Gradescope
 * output, for the introdl labs.
 * @packageDocumentation
 */

export { type AutograderConfig, type AutograderOptions, writeAutograder } from './autograder/autograder.js';
export * from './check/classify.js';
export { formatCheck } from './check/format.js';
export { runCheck } from './check/run-check.js';
export { deepClose, judge, type Mismatch, metric } from './grade/compare.js';
export { type Environment, type Execution, execute } from './grade/execute.js';
export {
  type BatchResult,
  type GradeOptions,
  gradeBatch,
  submissionNames,
  writeSubmission,
} from './grade/grade-batch.js';
export { computeReference, type GradeContext, gradeSubmission } from './grade/grade-submission.js';
export * from './grade/types.js';
export { type Exercise, type Lab, labFromRubric, loadLab } from './lab/load-lab.js';
export { parseRegions, type Region, replaceBodies, stubBody } from './regions/parse.js';
export { todoId, todoMessage } from './regions/todo.js';
export { summaryCsv } from './report/csv.js';
export { type GradescopeResults, type GradescopeTest, toGradescope } from './report/gradescope.js';
export { markdownReport } from './report/markdown.js';
export * from './rubric/types.js';
export { limitsOf, maxScore, validateRubric } from './rubric/validate.js';
export { chooseIsolation, ISOLATION_LEVELS, type Isolation, type IsolationLevel } from './sandbox/isolation.js';
export { fillWorkspace } from './scaffold/fill.js';
export { type CoreMode, type ScaffoldOptions, type ScaffoldResult, scaffold } from './scaffold/scaffold.js';
export { solutionBodies, stubbedSource } from './scaffold/stubs.js';
export { type Intake, readSubmission } from './submission/intake.js';
export { DEFAULT_ZIP_LIMITS, extractZip, UnsafeZipError, type ZipLimits } from './submission/zip.js';
export * from './workspace/manifest.js';
