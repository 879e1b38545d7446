// The run config's JSON schema (pydantic's TrainConfig.model_json_schema(), sent by
// /api/options) read the few ways the page needs: a key's default, its range, its choices,
// and whether a value fits. The page copies no limit: it asks the schema.

// The property of `key`, with a nullable `X | None` read as X.
export function field(schema, key) {
  const prop = schema.properties[key];
  if (!prop?.anyOf) return prop;
  const some = prop.anyOf.filter((p) => p.type !== "null");
  return some.length === 1 ? { ...some[0], default: prop.default } : prop;
}

export const nullable = (schema, key) => Boolean(schema.properties[key]?.anyOf?.some((p) => p.type === "null"));

// Every key's default, as the server fills it for a key left out.
export function defaults(schema) {
  return Object.fromEntries(Object.entries(schema.properties).map(([k, p]) => [k, structuredClone(p.default ?? null)]));
}

// [min, max] of a number, of each item of a list (items: true), or of a list's length (length: true).
export function range(schema, key, { items = false, length = false } = {}) {
  const prop = field(schema, key);
  if (length) return [prop.minItems ?? 0, prop.maxItems ?? Infinity];
  const p = items ? prop.items : prop;
  return [p.minimum, p.maximum];
}

// The names a key may take (a list's items for a list of names; the first of a union's).
export function choices(schema, key) {
  const prop = field(schema, key);
  for (const p of prop.anyOf || [prop]) {
    const names = p.enum || p.items?.enum;
    if (names) return names;
  }
  return [];
}

export const isNumber = (schema, key) => ["number", "integer"].includes(field(schema, key)?.type);
export const isInteger = (schema, key) => field(schema, key)?.type === "integer";

// Whether `value` fits the schema `prop`: the subset pydantic writes for TrainConfig.
export function fits(prop, value) {
  if (prop.anyOf) return prop.anyOf.some((p) => fits(p, value));
  if (prop.enum && !prop.enum.includes(value)) return false;
  switch (prop.type) {
    case "null": return value === null;
    case "string": return typeof value === "string";
    case "boolean": return typeof value === "boolean";
    case "integer":
    case "number":
      return typeof value === "number" && Number.isFinite(value) && (prop.type === "number" || Number.isInteger(value)) &&
        !(value < prop.minimum) && !(value > prop.maximum);
    case "array": {
      if (!Array.isArray(value) || value.length < (prop.minItems ?? 0) || value.length > (prop.maxItems ?? Infinity)) return false;
      if (prop.prefixItems) return value.length === prop.prefixItems.length && value.every((v, i) => fits(prop.prefixItems[i], v));
      return !prop.items || value.every((v) => fits(prop.items, v));
    }
    default: return true;
  }
}

export const valid = (schema, key, value) => key in schema.properties && fits(schema.properties[key], value);
