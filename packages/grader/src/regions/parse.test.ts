import { describe, expect, it } from 'vitest';
import { parseRegions, replaceBodies, stubBody } from './parse.js';
import { todoId, todoMessage } from './todo.js';

const SOURCE = [
  'export function f(x: number): number {',
  '  // @exercise lab9.1.1 "Double it"',
  '  // Hint: multiply by two,',
  '  // then return it.',
  '  const y = x * 2;',
  '  return y;',
  '  // @end',
  '}',
  'export const g = () => {',
  '    // @exercise lab9.1.2 "Nothing"',
  '    return 1;',
  '    // @end',
  '};',
].join('\n');

describe('parseRegions', () => {
  it('finds each region with its title, hint (any case, continued by comment lines) and body', () => {
    const [a, b] = parseRegions(SOURCE, 'f.ts');
    expect(a).toMatchObject({ id: 'lab9.1.1', title: 'Double it', hint: 'multiply by two, then return it.' });
    expect(a.body).toBe('  const y = x * 2;\n  return y;');
    expect([a.headerLine, a.bodyStart, a.endLine]).toEqual([1, 4, 6]);
    expect(b).toMatchObject({ id: 'lab9.1.2', hint: '', indent: '    ', body: '    return 1;' });
  });

  it('names the file and line of a malformed, nested, unclosed or stray marker', () => {
    expect(() => parseRegions('// @exercise lab9.1 Double', 'a.ts')).toThrow('a.ts: line 1: malformed exercise header');
    expect(() => parseRegions('// @exercise a "A"\n// @exercise b "B"\n// @end', 'a.ts')).toThrow(
      'a.ts: line 2: exercise b starts inside a; close it with // @end',
    );
    expect(() => parseRegions('x\n// @exercise a "A"\ny', 'a.ts')).toThrow('a.ts: line 2: exercise a has no // @end');
    expect(() => parseRegions('// @end', 'a.ts')).toThrow('a.ts: line 1: // @end without an // @exercise before it');
  });
});

describe('stubs and bodies', () => {
  it('a stub throws the TODO with the hint, indented like the header, and quotes safely', () => {
    const [a] = parseRegions(SOURCE, 'f.ts');
    expect(stubBody(a)).toBe("  throw new Error('TODO(lab9.1.1): Double it — multiply by two, then return it.');");
    expect(stubBody({ ...a, title: "it's", hint: 'a \\ b' })).toBe(
      "  throw new Error('TODO(lab9.1.1): it\\'s — a \\\\ b');",
    );
    expect(todoId(todoMessage(a))).toBe('lab9.1.1');
    expect(todoId('Error: nothing to see')).toBeUndefined();
  });

  it('replaceBodies swaps only the named regions, keeps markers, hints and CRLF line ends', () => {
    const crlf = SOURCE.replace(/\n/g, '\r\n');
    const out = replaceBodies(crlf, 'f.ts', new Map([['lab9.1.2', '    return 2;\n    // done']]));
    expect(out).toContain('\r\n    return 2;\r\n    // done\r\n    // @end');
    expect(out).toContain('  const y = x * 2;\r\n');
    expect(parseRegions(out, 'f.ts')[1].body).toBe('    return 2;\n    // done');
    expect(replaceBodies(SOURCE, 'f.ts', new Map([['lab9.1.1', '']]))).toContain('  // then return it.\n  // @end');
  });
});
