/**
 * Turns the OpenAPI v3 documents the Kubernetes API server publishes (api/openapi-spec/v3 in the
 * k8s.io/kubernetes module) into one standalone JSON Schema per kind, in the file layout kubeconform's
 * `-schema-location <dir>` reads: `<dir>/v<version>-standalone[-strict]/<kind><suffix>.json`, the suffix
 * being `-<first label of the group>-<version>` (`-apps-v1`, `-networking-v1`) or `-<version>` for the core
 * group (`-v1`). Everything the schemas need is offline: no network at validation time.
 *
 * Standalone: every `$ref` is inlined, except into a type that contains itself (only the CRD schema type,
 * JSONSchemaProps, does), which is kept once under the file's own `definitions`. Strict: every object that
 * declares its properties rejects any other (a misspelt or misplaced field fails instead of being dropped
 * by the API server without a word). Descriptions and defaults are left out: they validate nothing.
 */

/** The part of a JSON Schema / OpenAPI schema object this converter reads. */
export type Schema = { readonly [key: string]: unknown };

export interface OpenApiDocument {
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

const REF_PREFIX = '#/components/schemas/';

/** Keywords kept as they are (draft-04 validation keywords that OpenAPI 3.0 shares). */
const KEPT = new Set([
  'type',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
]);

/**
 * `format`s a draft-04 validator checks. OpenAPI's own (int32, int64, double, byte, int-or-string) are
 * annotations there; they are dropped rather than left for a validator to guess at.
 */
const CHECKED_FORMATS = new Set(['date-time']);

/** kubeconform's file name for a kind: lower-case kind, then the group's first label and the version. */
export function schemaFileName({ group, version, kind }: GroupVersionKind): string {
  const groupLabel = group.split('.')[0]?.toLowerCase() ?? '';
  return `${kind.toLowerCase()}${group ? `-${groupLabel}` : ''}-${version.toLowerCase()}.json`;
}

/** The directory kubeconform looks in, under `-schema-location <dir>`, for a Kubernetes version. */
export const schemaDirName = (kubernetesVersion: string, strict: boolean): string =>
  `v${kubernetesVersion}-standalone${strict ? '-strict' : ''}`;

/** Every component schema of the documents, by name; the same name must mean the same schema everywhere. */
export function mergeComponents(documents: readonly OpenApiDocument[]): Map<string, Schema> {
  const merged = new Map<string, Schema>();
  const seen = new Map<string, string>();
  for (const document of documents) {
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      const text = JSON.stringify(schema);
      const earlier = seen.get(name);
      if (earlier !== undefined && earlier !== text) {
        throw new Error(`The OpenAPI documents define ${name} in two different ways.`);
      }
      seen.set(name, text);
      merged.set(name, schema);
    }
  }
  return merged;
}

const refName = (ref: unknown): string => {
  if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) {
    throw new Error(`Unsupported $ref ${JSON.stringify(ref)}: only ${REF_PREFIX}<name> is resolved.`);
  }
  return ref.slice(REF_PREFIX.length);
};

/** The schemas nested in a schema, keyword by keyword (a property may well be named `$ref` or `items`). */
function subschemas(schema: Schema): Schema[] {
  const nested: Schema[] = [];
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) nested.push(...(branches as Schema[]));
  }
  for (const key of ['items', 'not', 'additionalProperties'] as const) {
    const value = schema[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) nested.push(value as Schema);
  }
  const properties = schema['properties'];
  if (properties && typeof properties === 'object') {
    nested.push(...Object.values(properties as Record<string, Schema>));
  }
  return nested;
}

/** The names a schema refers to, at any depth of its own (references are not followed). */
function directRefs(schema: Schema, into: Set<string> = new Set()): Set<string> {
  if (schema['$ref'] !== undefined) into.add(refName(schema['$ref']));
  for (const nested of subschemas(schema)) directRefs(nested, into);
  return into;
}

/** The names that can reach themselves through references: those cannot be inlined. */
export function recursiveNames(components: ReadonlyMap<string, Schema>): Set<string> {
  const edges = new Map([...components].map(([name, schema]) => [name, directRefs(schema)]));
  const recursive = new Set<string>();
  for (const start of components.keys()) {
    const seen = new Set<string>();
    const queue = [...(edges.get(start) ?? [])];
    while (queue.length > 0) {
      const next = queue.pop() as string;
      if (next === start) {
        recursive.add(start);
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(edges.get(next) ?? []));
    }
  }
  return recursive;
}

/** Also accepts null: what the API server reads as "not set" for an optional field. */
function nullable(schema: Schema): Schema {
  const type = schema['type'];
  if (typeof type === 'string') return type === 'null' ? schema : { ...schema, type: [type, 'null'] };
  if (Array.isArray(type)) return type.includes('null') ? schema : { ...schema, type: [...type, 'null'] };
  if (Array.isArray(schema['oneOf'])) {
    const branches = schema['oneOf'] as Schema[];
    return branches.some((b) => b['type'] === 'null')
      ? schema
      : { ...schema, oneOf: [...branches, { type: 'null' }] };
  }
  if (schema['$ref'] !== undefined) return { anyOf: [schema, { type: 'null' }] };
  return schema; // no type: anything goes already, null included
}

interface ConvertOptions {
  readonly strict: boolean;
}

/**
 * Converts schemas by name. Results are shared between files: nothing returned may be mutated.
 * `definitions` collects, per output file, the recursive types it refers to.
 */
class Converter {
  private readonly memo = new Map<string, Schema>();
  /** How many references to recursive types were written so far (see `named`). */
  private recursiveRefs = 0;

  constructor(
    private readonly components: ReadonlyMap<string, Schema>,
    private readonly recursive: ReadonlySet<string>,
    private readonly options: ConvertOptions,
  ) {}

  named(name: string, definitions: Set<string>): Schema {
    if (this.recursive.has(name)) {
      definitions.add(name);
      this.recursiveRefs++;
      return { $ref: `#/definitions/${name}` };
    }
    const cached = this.memo.get(name);
    if (cached) return cached;
    const schema = this.components.get(name);
    if (!schema) throw new Error(`The OpenAPI documents refer to ${name} but do not define it.`);
    // Only what refers to no recursive type is memoised: each file must record the definitions it uses.
    const before = this.recursiveRefs;
    const converted = this.convert(schema, definitions);
    if (this.recursiveRefs === before) this.memo.set(name, converted);
    return converted;
  }

  /** The definition body of a recursive type (its own references to itself stay references). */
  definition(name: string, definitions: Set<string>): Schema {
    const schema = this.components.get(name);
    if (!schema) throw new Error(`The OpenAPI documents refer to ${name} but do not define it.`);
    return this.convert(schema, definitions);
  }

  convert(schema: Schema, definitions: Set<string>): Schema {
    if (schema['$ref'] !== undefined) return this.named(refName(schema['$ref']), definitions);
    // OpenAPI v3 wraps a reference that carries its own description or default in a one-element allOf.
    const allOf = schema['allOf'];
    if (Array.isArray(allOf) && allOf.length === 1 && Object.keys(schema).every((k) => k !== 'properties')) {
      const inner = this.convert(allOf[0] as Schema, definitions);
      return schema['nullable'] === true ? nullable(inner) : inner;
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
      if (KEPT.has(key)) out[key] = value;
      else if (key === 'format' && typeof value === 'string' && CHECKED_FORMATS.has(value)) out[key] = value;
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const branches = schema[key];
      if (Array.isArray(branches)) out[key] = branches.map((b) => this.convert(b as Schema, definitions));
    }
    if (schema['not'] !== undefined) out['not'] = this.convert(schema['not'] as Schema, definitions);
    if (schema['items'] !== undefined) out['items'] = this.convert(schema['items'] as Schema, definitions);
    if (schema['x-kubernetes-int-or-string'] === true && out['type'] === undefined && !out['oneOf']) {
      out['oneOf'] = [{ type: 'integer' }, { type: 'string' }];
    }
    const properties = schema['properties'] as Record<string, Schema> | undefined;
    const required = new Set((schema['required'] as string[] | undefined) ?? []);
    if (properties) {
      out['properties'] = Object.fromEntries(
        Object.entries(properties).map(([key, value]) => {
          const converted = this.convert(value, definitions);
          return [key, required.has(key) ? converted : nullable(converted)];
        }),
      );
      if (required.size > 0) out['required'] = [...required];
    }
    const additional = schema['additionalProperties'];
    if (typeof additional === 'boolean') out['additionalProperties'] = additional;
    else if (additional && typeof additional === 'object') {
      out['additionalProperties'] = this.convert(additional as Schema, definitions);
    } else if (
      this.options.strict &&
      properties &&
      Object.keys(properties).length > 0 &&
      schema['x-kubernetes-preserve-unknown-fields'] !== true
    ) {
      out['additionalProperties'] = false;
    }
    return schema['nullable'] === true ? nullable(out) : out;
  }
}

/** Every kind the documents declare (x-kubernetes-group-version-kind), with the schema that describes it. */
export function declaredKinds(
  components: ReadonlyMap<string, Schema>,
): { gvk: GroupVersionKind; name: string }[] {
  const kinds: { gvk: GroupVersionKind; name: string }[] = [];
  for (const [name, schema] of components) {
    const declared = schema['x-kubernetes-group-version-kind'];
    if (!Array.isArray(declared)) continue;
    for (const gvk of declared as GroupVersionKind[]) kinds.push({ gvk, name });
  }
  return kinds;
}

/**
 * One schema per declared kind, keyed by kubeconform's file name. Two different kinds that would share a
 * file name (possible only if two groups shared a first label) are an error rather than a silent overwrite.
 */
export function convertToKindSchemas(
  documents: readonly OpenApiDocument[],
  options: ConvertOptions,
): Map<string, Schema> {
  const components = mergeComponents(documents);
  const converter = new Converter(components, recursiveNames(components), options);
  const files = new Map<string, Schema>();
  const owners = new Map<string, string>();
  for (const { gvk, name } of declaredKinds(components)) {
    const file = schemaFileName(gvk);
    const owner = owners.get(file);
    if (owner !== undefined) {
      if (owner === name) continue;
      throw new Error(`${owner} and ${name} would both be written to ${file}.`);
    }
    owners.set(file, name);
    const definitions = new Set<string>();
    const root = converter.named(name, definitions);
    const body: Record<string, unknown> = { $schema: 'http://json-schema.org/draft-04/schema#', ...root };
    if (definitions.size > 0) {
      // Each definition may pull in more recursive types: converted until none is new.
      const done = new Map<string, Schema>();
      while (done.size < definitions.size) {
        for (const pending of [...definitions].filter((d) => !done.has(d))) {
          done.set(pending, converter.definition(pending, definitions));
        }
      }
      body['definitions'] = Object.fromEntries([...done].sort(([a], [b]) => a.localeCompare(b)));
    }
    files.set(file, body);
  }
  return files;
}
