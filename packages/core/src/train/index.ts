export * from './evaluate.js';
export * from './progress.js';
export * from './step.js';
export * from './trainer.js';
