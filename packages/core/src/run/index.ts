export * from './run-folder.js';
