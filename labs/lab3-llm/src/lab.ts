/**
 * The folder Lab 3's runs go in (`runs/lab3-llm/<time>/`): the package's folder name, as Lab 1's
 * runs go in `runs/lab1-music/`, which is how the studio finds each lab's runs.
 */
export const LAB = 'lab3-llm';
