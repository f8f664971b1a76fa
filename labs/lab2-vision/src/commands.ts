export const commands = { name: 'lab2', description: 'placeholder', commands: [] };
