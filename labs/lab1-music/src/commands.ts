export const commands = { name: 'lab1', description: 'placeholder', commands: [] };
