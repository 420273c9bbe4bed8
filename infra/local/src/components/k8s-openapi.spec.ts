import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  convertToKindSchemas,
  mergeComponents,
  recursiveNames,
  schemaDirName,
  schemaFileName,
  type OpenApiDocument,
} from './k8s-openapi';
import { readOpenApiDocuments, schemaLayout, writeKindSchemas } from './k8s-schemas';

const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` });

// The converted schemas are read field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A small API in the shape of the API server's OpenAPI v3 documents. */
const apps: OpenApiDocument = {
  components: {
    schemas: {
      'io.k8s.api.apps.v1.Deployment': {
        description: 'Deployment enables declarative updates.',
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { allOf: [ref('meta.ObjectMeta')], default: {}, description: 'Standard metadata.' },
          spec: { allOf: [ref('io.k8s.api.apps.v1.DeploymentSpec')], default: {} },
        },
        'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
      },
      'io.k8s.api.apps.v1.DeploymentSpec': {
        type: 'object',
        required: ['selector'],
        properties: {
          replicas: { type: 'integer', format: 'int32' },
          selector: {
            type: 'object',
            properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
          },
          maxSurge: ref('intstr.IntOrString'),
          memory: ref('resource.Quantity'),
          startedAt: { type: 'string', format: 'date-time' },
          extra: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            properties: { known: { type: 'string' } },
          },
        },
      },
      'meta.ObjectMeta': {
        type: 'object',
        properties: {
          name: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      'intstr.IntOrString': { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] },
      'resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
    },
  },
};

const core: OpenApiDocument = {
  components: {
    schemas: {
      'meta.ObjectMeta': apps.components?.schemas?.['meta.ObjectMeta'] ?? {},
      'io.k8s.api.core.v1.ConfigMap': {
        type: 'object',
        properties: {
          metadata: { allOf: [ref('meta.ObjectMeta')] },
          data: { type: 'object', additionalProperties: { type: 'string' } },
        },
        'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'ConfigMap' }],
      },
      // A type that contains itself, as the CRD schema type does ("$ref" is one of its property names).
      'apiextensions.JSONSchemaProps': {
        type: 'object',
        properties: {
          $ref: { type: 'string' },
          items: { type: 'array', items: ref('apiextensions.JSONSchemaProps') },
          properties: { type: 'object', additionalProperties: ref('apiextensions.JSONSchemaProps') },
        },
      },
      'io.k8s.apiextensions.v1.CustomResourceDefinition': {
        type: 'object',
        required: ['schema'],
        properties: { schema: ref('apiextensions.JSONSchemaProps') },
        'x-kubernetes-group-version-kind': [
          { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
        ],
      },
    },
  },
};

describe('Kubernetes JSON schemas from OpenAPI', () => {
  it('names files as kubeconform looks them up', () => {
    expect(schemaFileName({ group: 'apps', version: 'v1', kind: 'Deployment' })).toBe(
      'deployment-apps-v1.json',
    );
    expect(schemaFileName({ group: '', version: 'v1', kind: 'ConfigMap' })).toBe('configmap-v1.json');
    expect(schemaFileName({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' })).toBe(
      'networkpolicy-networking-v1.json',
    );
    expect(schemaFileName({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' })).toBe(
      'horizontalpodautoscaler-autoscaling-v2.json',
    );
    expect(schemaDirName('1.34.2', true)).toBe('v1.34.2-standalone-strict');
    expect(schemaDirName('1.34.2', false)).toBe('v1.34.2-standalone');
  });

  it('writes one standalone schema per kind: references inlined, descriptions and defaults left out', () => {
    const files = convertToKindSchemas([apps, core], { strict: true });
    expect([...files.keys()].sort()).toEqual([
      'configmap-v1.json',
      'customresourcedefinition-apiextensions-v1.json',
      'deployment-apps-v1.json',
    ]);
    const deployment = files.get('deployment-apps-v1.json') as Json;
    expect(deployment['$schema']).toBe('http://json-schema.org/draft-04/schema#');
    expect(JSON.stringify(deployment)).not.toMatch(/\$ref|description|default|int32|int-or-string/);
    const spec = deployment['properties'].spec;
    expect(spec).toMatchObject({
      type: ['object', 'null'],
      required: ['selector'],
      additionalProperties: false,
    });
    expect(deployment['properties'].metadata.properties.name).toEqual({ type: ['string', 'null'] });
    // Optional fields also take null (the API server reads it as unset); required ones do not.
    expect(spec.properties.replicas).toEqual({ type: ['integer', 'null'] });
    expect(spec.properties.selector.type).toBe('object');
    expect(spec.properties.maxSurge).toEqual({
      oneOf: [{ type: 'integer' }, { type: 'string' }, { type: 'null' }],
    });
    expect(spec.properties.memory).toEqual({
      oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }],
    });
    expect(spec.properties.startedAt).toEqual({ type: ['string', 'null'], format: 'date-time' });
  });

  it('is strict only where it may be: declared properties, no maps, no preserved unknown fields', () => {
    const strict = convertToKindSchemas([apps], { strict: true }).get('deployment-apps-v1.json') as Json;
    const spec = strict['properties'].spec.properties;
    expect(strict['additionalProperties']).toBe(false);
    expect(spec.selector.properties.matchLabels.additionalProperties).toEqual({ type: 'string' });
    expect(spec.extra.additionalProperties).toBeUndefined();
    const loose = convertToKindSchemas([apps], { strict: false }).get('deployment-apps-v1.json');
    expect(JSON.stringify(loose)).not.toContain('"additionalProperties":false');
  });

  it('keeps a self-containing type once under the file’s definitions', () => {
    expect(recursiveNames(mergeComponents([core]))).toEqual(new Set(['apiextensions.JSONSchemaProps']));
    const crd = convertToKindSchemas([core], { strict: true }).get(
      'customresourcedefinition-apiextensions-v1.json',
    ) as Json;
    expect(crd['properties'].schema).toEqual({ $ref: '#/definitions/apiextensions.JSONSchemaProps' });
    const props = crd['definitions']['apiextensions.JSONSchemaProps'];
    expect(props.properties.$ref).toEqual({ type: ['string', 'null'] });
    expect(props.properties.items.items).toEqual({ $ref: '#/definitions/apiextensions.JSONSchemaProps' });
    expect(props.properties.properties.additionalProperties).toEqual({
      $ref: '#/definitions/apiextensions.JSONSchemaProps',
    });
    // Files that do not use it carry no definitions.
    expect(convertToKindSchemas([core], { strict: true }).get('configmap-v1.json')).not.toHaveProperty(
      'definitions',
    );
  });

  it('refuses documents that disagree, references it cannot resolve, and two kinds in one file', () => {
    const other = { components: { schemas: { 'meta.ObjectMeta': { type: 'string' } } } };
    expect(() => convertToKindSchemas([apps, other], { strict: true })).toThrow(
      'The OpenAPI documents define meta.ObjectMeta in two different ways.',
    );
    const dangling = {
      components: {
        schemas: {
          X: { ...ref('Y'), 'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'X' }] },
        },
      },
    };
    expect(() => convertToKindSchemas([dangling], { strict: true })).toThrow(
      'refer to Y but do not define it',
    );
    const clash = {
      components: {
        schemas: {
          A: {
            type: 'object',
            'x-kubernetes-group-version-kind': [{ group: 'foo.example.com', version: 'v1', kind: 'Thing' }],
          },
          B: {
            type: 'object',
            'x-kubernetes-group-version-kind': [{ group: 'foo.other.io', version: 'v1', kind: 'Thing' }],
          },
        },
      },
    };
    expect(() => convertToKindSchemas([clash], { strict: true })).toThrow(
      'A and B would both be written to thing-foo-v1.json.',
    );
  });

  it('reads the group-version documents of the module and writes both layouts under the cache', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'k8s-schemas-'));
    try {
      const specDir = path.join(root, 'module', 'api', 'openapi-spec', 'v3');
      mkdirSync(specDir, { recursive: true });
      writeFileSync(path.join(specDir, 'apis__apps__v1_openapi.json'), JSON.stringify(apps));
      writeFileSync(path.join(specDir, 'api__v1_openapi.json'), JSON.stringify(core));
      writeFileSync(path.join(specDir, 'apis__apps_openapi.json'), '{"not": "a group-version document"}');
      writeFileSync(path.join(specDir, 'version_openapi.json'), '{}');
      const documents = readOpenApiDocuments(path.join(root, 'module'));
      expect(documents).toHaveLength(2);
      const layout = schemaLayout(path.join(root, 'cache'), '1.34.2');
      expect(layout).toEqual({
        dir: path.join(root, 'cache', 'k8s-schemas', '1.34.2'),
        marker: path.join(root, 'cache', 'k8s-schemas', '1.34.2', 'source.json'),
      });
      expect(writeKindSchemas(documents, layout.dir, '1.34.2')).toBe(3);
      expect(readdirSync(layout.dir).sort()).toEqual(['v1.34.2-standalone', 'v1.34.2-standalone-strict']);
      const written = JSON.parse(
        readFileSync(path.join(layout.dir, 'v1.34.2-standalone-strict', 'configmap-v1.json'), 'utf8'),
      ) as object;
      expect(written).toMatchObject({ type: 'object', additionalProperties: false });
      expect(() => readOpenApiDocuments(root)).toThrow(/ENOENT/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
