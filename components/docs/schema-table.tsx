type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
};

export type Components = Record<string, JsonSchema>;

const refName = (ref: string) => ref.split("/").at(-1) ?? ref;

/** A short human type: `string (uuid)`, `Message[]`, `"open" | "grounded"`, `integer | null`. */
export function describeType(schema: JsonSchema): string {
  if (schema.$ref) return refName(schema.$ref);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return schema.anyOf.map(describeType).join(" | ");
  if (schema.type === "array" && schema.items) return `${describeType(schema.items)}[]`;
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
  return schema.format ? `${type} (${schema.format === "date-time" ? "RFC 3339" : schema.format})` : type;
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined && schema.minimum > -9e15) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum < 9e15) parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) parts.push(`min length ${schema.minLength}`);
  if (schema.maxLength !== undefined) parts.push(`max length ${schema.maxLength}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(", ");
}

export function SchemaTable({ schema, components }: { schema: JsonSchema; components: Components }) {
  const resolved = schema.$ref ? components[refName(schema.$ref)] : schema;
  if (!resolved?.properties) return <p className="text-sm">{describeType(schema)}</p>;
  return (
    <table className="w-full text-left text-sm">
      <thead>
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="py-1 pr-3 font-medium">Field</th>
          <th className="py-1 pr-3 font-medium">Type</th>
          <th className="py-1 font-medium">Notes</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(resolved.properties).map(([name, property]) => (
          <tr key={name} className="border-b border-zinc-100 align-top dark:border-zinc-900">
            <td className="py-1 pr-3 font-mono">
              {name}
              {resolved.required?.includes(name) ? <span className="text-red-600" title="required">*</span> : null}
            </td>
            <td className="py-1 pr-3 font-mono text-xs">{describeType(property)}</td>
            <td className="py-1 text-xs text-zinc-600 dark:text-zinc-400">{[property.description, constraints(property)].filter(Boolean).join(" · ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
