export const commands = { name: 'lab3', description: 'placeholder', commands: [] };
