import { Template } from '@huggingface/jinja';

/**
 * @huggingface/jinja (0.5.x) runs `s.strip(chars)`, `s.lstrip(chars)` and `s.rstrip(chars)` as if
 * no argument were given: it strips whitespace. Python strips exactly `chars`, and templates rely on
 * it — Qwen3's writes `content.lstrip('\n')`, so an answer's leading space would vanish from the
 * training text. This compiles a template and rewrites those calls, in its syntax tree, into calls of
 * helpers with Python's meaning; everything else renders as the library renders it.
 */

type Side = 'strip' | 'lstrip' | 'rstrip';
const SIDES: readonly Side[] = ['strip', 'lstrip', 'rstrip'];

/** Python's str.strip / lstrip / rstrip: remove any of `chars` (whitespace when absent or None). */
export function pythonStrip(side: Side, s: string, chars?: string | null): string {
  const strip = chars ?? ' \t\n\r\v\f';
  let start = 0;
  let end = s.length;
  if (side !== 'rstrip') while (start < end && strip.includes(s[start])) start++;
  if (side !== 'lstrip') while (end > start && strip.includes(s[end - 1])) end--;
  return s.slice(start, end);
}

interface Node {
  type?: string;
  [key: string]: unknown;
}

/** Rewrites `x.<side>(chars)` call nodes into `__py_<side>(x, chars)` throughout the tree. */
function rewrite(node: unknown, seen = new Set<unknown>()): void {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const child of node) rewrite(child, seen);
    return;
  }
  const n = node as Node;
  const callee = n.callee as Node | undefined;
  const args = n.args as unknown[] | undefined;
  if (n.type === 'CallExpression' && callee?.type === 'MemberExpression' && !callee.computed && args?.length === 1) {
    const property = callee.property as Node & { value?: string; constructor: new (v: string) => unknown };
    if (property.type === 'Identifier' && SIDES.includes(property.value as Side)) {
      n.callee = new property.constructor(`__py_${property.value}`);
      n.args = [callee.object, ...args];
    }
  }
  for (const value of Object.values(n)) rewrite(value, seen);
}

/** A compiled chat template whose string stripping behaves as in Python's jinja2. */
export function compileChatTemplate(source: string): { render(items: Record<string, unknown>): string } {
  const template = new Template(source);
  rewrite(template.parsed);
  return {
    render: (items) =>
      template.render({
        ...items,
        __py_strip: (s: string, c?: string | null) => pythonStrip('strip', s, c),
        __py_lstrip: (s: string, c?: string | null) => pythonStrip('lstrip', s, c),
        __py_rstrip: (s: string, c?: string | null) => pythonStrip('rstrip', s, c),
      }),
  };
}
