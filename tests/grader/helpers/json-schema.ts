/**
 * A small JSON Schema validator for the keywords the Gradescope schema uses: type, enum,
 * properties, required, additionalProperties (false), items, minimum, minLength. Returns every
 * violation with its JSON path; an empty list means valid.
 */
export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  minimum?: number;
  minLength?: number;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(actual: string, wanted: string): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

export function validate(value: unknown, schema: Schema, at = '$'): string[] {
  const errors: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const wanted = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!wanted.some((w) => typeMatches(t, w))) return [`${at}: expected ${wanted.join(' or ')}, got ${t}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) {
    errors.push(`${at}: ${value} is below ${schema.minimum}`);
  }
  if (schema.minLength !== undefined && typeof value === 'string' && value.length < schema.minLength) {
    errors.push(`${at}: shorter than ${schema.minLength}`);
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in o)) errors.push(`${at}: missing "${k}"`);
    for (const [k, v] of Object.entries(o)) {
      const sub = schema.properties?.[k];
      if (sub) errors.push(...validate(v, sub, `${at}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected key "${k}"`);
    }
  }
  if (t === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => {
      errors.push(...validate(v, schema.items as Schema, `${at}[${i}]`));
    });
  }
  return errors;
}
