export * from './progress.js';
export * from './evaluate.js';
export * from './trainer.js';
