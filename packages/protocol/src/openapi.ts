import * as z from "zod";
import { errorBodySchema } from "./errors.js";
import { jobStreamEventSchema } from "./events.js";
import { deepMemoryRoutes, type RouteSpec } from "./routes.js";
import * as schemas from "./schemas.js";
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER } from "./version.js";

export interface OpenApiOptions {
  title?: string;
  /** The API's own version; defaults to the protocol version. */
  version?: string;
  /** Where the host mounts the deep-memory routes. */
  basePath?: string;
  /** Where the host mounts the job event routes, when apart from the others (e.g. "/v1/api/events"). */
  eventsBasePath?: string;
  servers?: { url: string; description?: string }[];
}

type JsonSchema = Record<string, unknown>;

const statusText: Record<number, string> = {
  400: "Invalid request (VALIDATION_FAILED with field errors in details.issues, or INVALID_JSON)",
  401: "Missing or invalid credentials (UNAUTHORIZED)",
  404: "No such resource for this user (NOT_FOUND); another user's resources answer the same",
  409: "Conflicts with the user's runs or settings (RUN_ALREADY_ACTIVE, INVALID_RUN_STATE, NO_TRAINED_MODEL)",
  413: "Body larger than the server accepts (PAYLOAD_TOO_LARGE)",
  415: "Body is not JSON (UNSUPPORTED_MEDIA_TYPE)",
  429: "A provider rate-limited the request (RATE_LIMITED)",
  500: "Server error; the body never carries internals",
  502: "A provider failed (UPSTREAM_FAILED)",
};

/** Named component schemas: the names clients see in generated code. */
const components = {
  GenerateRequest: schemas.generateRequestSchema,
  GenerateResponse: schemas.generateResponseSchema,
  TrainRequest: schemas.trainRequestSchema,
  TrainResponse: schemas.trainResponseSchema,
  CancelJobRequest: schemas.cancelJobRequestSchema,
  CancelJobResponse: schemas.cancelJobResponseSchema,
  ImportPairsRequest: schemas.importPairsRequestSchema,
  ImportPairsResponse: schemas.importPairsResponseSchema,
  Run: schemas.runWireSchema,
  RunMetrics: schemas.runMetricsWireSchema,
  RunList: schemas.runListResponseSchema,
  RunDetail: schemas.runDetailResponseSchema,
  Settings: schemas.settingsResponseSchema,
  UpdateSettingsRequest: schemas.updateSettingsRequestSchema,
  SearchRequest: schemas.searchRequestSchema,
  SearchHit: schemas.searchHitWireSchema,
  SearchResponse: schemas.searchResponseSchema,
  Status: schemas.statusResponseSchema,
  JobStreamEvent: jobStreamEventSchema,
  ErrorBody: errorBodySchema,
} satisfies Record<string, z.ZodType>;

const requestComponents = new Set<string>(["GenerateRequest", "TrainRequest", "ImportPairsRequest", "UpdateSettingsRequest", "SearchRequest"]);

function componentSchemas(): Record<string, JsonSchema> {
  // Requests are described as clients send them (defaults make fields optional), responses as servers send them.
  const out: Record<string, JsonSchema> = {};
  for (const io of ["input", "output"] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(components)) {
      if (requestComponents.has(id) === (io === "input")) registry.add(schema, { id });
    }
    const { schemas: generated } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: "any" }) as {
      schemas: Record<string, JsonSchema>;
    };
    for (const [id, schema] of Object.entries(generated)) {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      out[id] = rest;
    }
  }
  return out;
}

function refTo(schema: z.ZodType): JsonSchema {
  const entry = Object.entries(components).find(([, s]) => s === schema);
  if (!entry) throw new Error("OpenAPI: every route schema must be a named component");
  return { $ref: `#/components/schemas/${entry[0]}` };
}

function parameters(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, object] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (!object) continue;
    for (const [name, field] of Object.entries<z.ZodType>(object.shape)) {
      const { $schema: _ignored, ...schema } = z.toJSONSchema(field, { io: "input", unrepresentable: "any" }) as JsonSchema;
      out.push({ name, in: where, required: where === "path" || !field.safeParse(undefined).success, schema });
    }
  }
  if (route.operationId === "streamJobEvents") {
    out.push({
      name: "Last-Event-ID",
      in: "header",
      required: false,
      description: "The id of the last event received; the stream resumes after it.",
      schema: { type: "string", pattern: "^\\d+$" },
    });
  }
  return out;
}

/** An OpenAPI 3.1 document of the deep-memory routes, generated from the protocol's zod schemas. */
export function openApiDocument(options: OpenApiOptions = {}): JsonSchema {
  const basePath = (options.basePath ?? "/v1/api/deep-memory").replace(/\/$/, "");
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of Object.values(deepMemoryRoutes) as RouteSpec[]) {
    const full =
      route.operationId === "streamJobEvents" && options.eventsBasePath !== undefined
        ? `${options.eventsBasePath.replace(/\/$/, "")}${route.path.replace(/^\/events/, "")}`
        : `${basePath}${route.path}`;
    const responses: Record<string, JsonSchema> = {};
    const versionHeader = { [PROTOCOL_VERSION_HEADER]: { schema: { type: "string", const: PROTOCOL_VERSION } } };
    if ("eventStream" in route.response) {
      responses[String(route.response.status)] = {
        description: route.response.description,
        headers: versionHeader,
        content: {
          "text/event-stream": {
            schema: { type: "string", description: "SSE messages; each `data:` line holds one JobStreamEvent as JSON" },
            "x-sse-data": refTo(jobStreamEventSchema),
          },
        },
      };
    } else {
      responses[String(route.response.status)] = {
        description: route.response.description,
        headers: versionHeader,
        content: { "application/json": { schema: refTo(route.response.schema) } },
      };
    }
    for (const status of route.errors) {
      responses[String(status)] = {
        description: statusText[status] ?? "Error",
        content: { "application/json": { schema: refTo(errorBodySchema) } },
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      parameters: parameters(route),
      responses,
    };
    if (route.body) {
      operation.requestBody = { required: !route.bodyOptional, content: { "application/json": { schema: refTo(route.body) } } };
    }
    (paths[full] ??= {})[route.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title ?? "Deep memory API", version: options.version ?? PROTOCOL_VERSION },
    ...(options.servers ? { servers: options.servers } : {}),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
