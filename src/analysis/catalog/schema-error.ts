import type { ErrorObject } from "ajv";

/** One schema error as a sentence naming the field, as every rule and catalog file reports it. */
export function describeSchemaError(err: ErrorObject): string {
  const field = err.instancePath.replace(/^\//, "").replace(/\//g, ".");
  if (err.keyword === "additionalProperties") return `field ${field ? `${field}.` : ""}${String(err.params["additionalProperty"])} is not allowed`;
  if (err.keyword === "required") return `field ${field ? `${field}.` : ""}${String(err.params["missingProperty"])} is required`;
  return `field ${field || "(top level)"} ${err.message ?? "is invalid"}`;
}
