// Reading and decoding request bodies: size limit, content types, JSON and YAML.
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest } from "./errors.ts";

export const defaultMaxBodyBytes = 3 * 1024 * 1024;

/** Reads the whole body, refusing more than `limit` bytes with 413 (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError("RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function unsupportedMediaType(type: string, accepted: string[]): ApiError {
  return new ApiError(
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    type ? {} : undefined,
  );
}

/** Decodes a JSON or YAML body; malformed input is a 400 with the parser's message. */
export function decode(body: Buffer, type: "json" | "yaml"): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("Object 'Kind' is missing in ''");
  if (type === "json") {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split("\n")[0]}`);
  }
}
